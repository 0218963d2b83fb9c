"""``oncosecours migrate --to postgresql / --to sqlite``: move a live register between the
one-PC file and the unit's server, its audit chain and row ledger verified on arrival.

- ``--to postgresql``: the SQLite store is copied into the server's register, which must be
  empty (never merged with another register); verified inside the copying transaction, so
  that a register that does not verify is not left on the server.
- ``--to sqlite``: the server's register, at one moment, into a new SQLite file (the format
  of the second copy), verified before it takes its name.

The move is itself an audit event, appended on arrival (who, from where, how many events).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError

ROLES = ("pharmacien", "administrateur")


def _verified(conn: Any, where: str) -> Any:
    from oncosecours.store.integrity import verify_store

    report = verify_store(conn)
    if not report.ok:
        raise OncoError(
            f"Migration refusée : le registre copié ne se vérifie pas ({where}) : "
            + report.text().splitlines()[0],
            rule="MIGRATION_NON_VERIFIEE",
        )
    return report


def _record(conn: Any, actor: Any, source: str, events: int, direction: str) -> None:
    from oncosecours.store import audit

    audit.append(
        conn,
        user_initials=actor.initials,
        role=actor.role,
        action="migrer_registre",
        entity="base",
        entity_id=direction,
        after={"source": source, "evenements_source": events, "vers": direction},
    )


def _authorize(conn: Any, initials: str, pin: str) -> Any:
    from oncosecours.services.core import require_role
    from oncosecours.services.users import authenticate

    actor = authenticate(conn, initials, pin)
    require_role(actor, ROLES, "migrer le registre")
    return actor


def to_postgresql(store: Path, target: Any, initials: str, pin: str) -> dict[str, Any]:
    """Copy the SQLite register ``store`` into the (empty) register of the server ``target``."""
    from oncosecours.store import pg
    from oncosecours.store.pg.export import load_from
    from oncosecours.store.replica import open_readonly

    if not store.exists():
        raise OncoError(f"Base introuvable : {store}", file=str(store))
    src = open_readonly(store)
    try:
        actor = _authorize(src, initials, pin)
        events = int(src.execute("SELECT count(*) FROM audit_event").fetchone()[0])
        conn = pg.connect(target)
        try:
            present = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
            if present:
                raise OncoError(
                    f"Migration refusée : le registre du serveur {target.describe()} contient "
                    f"déjà {present} événement(s) d'audit ; il n'est jamais fusionné avec un "
                    "autre (utiliser une base vide : oncosecours server init)",
                    rule="REGISTRE_NON_VIDE",
                )
            conn.execute("BEGIN IMMEDIATE")
            try:
                copied = load_from(conn, src)
                report = _verified(conn, f"serveur {target.describe()}")
                _record(conn, actor, str(store), events, "postgresql")
            except BaseException:
                conn.rollback()
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
    finally:
        src.close()
    return {"vers": target.describe(), "lignes": copied, "evenements": events,
            "verification": report.text()}  # fmt: skip


def to_sqlite(conn: Any, out: Path, initials: str, pin: str) -> dict[str, Any]:
    """Write the server's register (``conn``) into the new SQLite file ``out``."""
    from oncosecours.store.db import connect_file, plain_transaction
    from oncosecours.store.pg.export import copy_into

    if out.exists():
        raise OncoError(f"Le fichier existe déjà (rien n'est écrasé) : {out}", file=str(out))
    actor = _authorize(conn, initials, pin)
    events = int(conn.execute("SELECT count(*) FROM audit_event").fetchone()[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            copied = copy_into(conn, dst)
        finally:
            dst.close()
        lite = connect_file(tmp)
        try:
            report = _verified(lite, str(out))
            with plain_transaction(lite):
                _record(lite, actor, conn.target.describe(), events, "sqlite")
        finally:
            lite.close()
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return {"vers": str(out), "lignes": copied, "evenements": events,
            "verification": report.text()}  # fmt: skip
