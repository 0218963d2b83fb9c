"""Rebuilding a working store from the second copy or a snapshot.

Order: check the source (refuse a failing one), check who asks (in the source's own user table:
the main store may be dead), put the current store and its side files (``-wal``, ``-shm``,
``-journal``) aside under a timestamped name, write the source with the online backup API into a
temporary file, check it again, rename it into place, open it (forward migrations), record the
restore in the audit chain and copy the result to the second medium.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.store import audit, replica
from oncosecours.store.backup_check import CopyCheck, compare, inspect
from oncosecours.store.db import connect, plain_transaction
from oncosecours.store.replica import files

SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
RESTORE_ROLES = ("administrateur", "pharmacien")


def check_source(source: str | os.PathLike) -> CopyCheck:
    """Check a restore source; its checksum is required when a ``.sha256`` lies beside it."""
    source = Path(source)
    return inspect(source, "source", checksum=replica.checksum_path(source).exists())


def authorize(source: str | os.PathLike, initials: str, pin: str):
    """The user asking for the restore, authenticated against the source itself."""
    from oncosecours.services.core import require_role
    from oncosecours.services.users import authenticate

    conn = replica.open_readonly(source)
    try:
        actor = authenticate(conn, initials, pin)
    finally:
        conn.close()
    require_role(actor, RESTORE_ROLES, "restaurer la base")
    return actor


def restore(
    source: str | os.PathLike,
    store: str | os.PathLike,
    *,
    actor=None,
    force: bool = False,
    settings: Any = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Replace ``store`` by ``source`` after checking it; the current store is kept aside.

    Refused (OncoError, nothing changed) when the source fails its checks, when it is the store
    itself, or when the current store is intact and holds actions the source lacks (unless
    ``force``: it is then kept aside all the same)."""
    source = Path(source).resolve()
    store = Path(store).resolve()
    now = now or datetime.now()
    if source == store:
        raise OncoError("La source de la restauration est la base elle-même", file=str(source))
    check = check_source(source)
    if not check.ok:
        raise OncoError(
            "Restauration refusée : la source ne passe pas les vérifications ("
            + " ; ".join(check.problems)
            + ")",
            file=str(source),
            hint="Essayer la copie de secours ou un autre instantané (oncosecours backup verify)",
        )
    current = _current_state(store, check)
    if current["intact"] and current["relation"] != "en avance" and not force:
        if current["relation"] == "identique":
            reason = "la base actuelle est intacte et identique à la source : rien à restaurer"
        elif current["relation"] == "préfixe":
            reason = (
                f"la base actuelle est intacte et contient {current['behind']} événement(s) d'audit de plus "
                "que la source"
            )
        else:
            reason = "la base actuelle est intacte mais n'a pas le même historique que la source"
        raise OncoError(
            f"Restauration refusée : {reason}",
            file=str(store),
            hint="Ajouter --force pour la remplacer quand même (elle serait mise de côté)",
        )
    set_aside = _set_aside(store, now)
    store.parent.mkdir(parents=True, exist_ok=True)  # e.g. a new folder on a workstation
    tmp = store.with_name(f".{store.name}.restauration-{os.getpid()}.tmp")
    try:
        src = replica.open_readonly(source)
        try:
            replica.copy_pages(src, tmp)
        finally:
            src.close()
        files._fsync_file(tmp)
        rebuilt = inspect(tmp, "copie")
        if not rebuilt.ok or rebuilt.hash != check.hash:
            raise OncoError(
                "Restauration interrompue : la copie écrite ne passe pas les vérifications ("
                + " ; ".join(rebuilt.problems or ["contenu différent de la source"])
                + ")",
                file=str(tmp),
            )
        os.replace(tmp, store)
        files._fsync_dir(store.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
    conn = connect(store, create=False)
    try:
        final = audit.verify(conn)
        if not final.ok:  # pragma: no cover - checked on the source and on the copy already
            raise OncoError(f"Base restaurée mais journal altéré : {final.problem}")
        if actor is not None:
            _record(conn, actor, source, check, set_aside)
        target = replica.target_for(settings, store)
        copied = replica.replicate(conn, target) if target is not None else None
        events = audit.last_seq(conn)
    finally:
        conn.close()
    return {
        "source": str(source),
        "base": str(store),
        "evenements_source": check.seq,
        "dernier_evenement_source": check.last_event_at,
        "evenements": events,
        "mise_de_cote": set_aside,
        "base_precedente": current,
        "copie_de_secours": copied,
    }


def _current_state(store: Path, source: CopyCheck) -> dict[str, Any]:
    """Is the current store intact, and how does the source relate to it?"""
    if not store.exists():
        return {"existe": False, "intact": False, "relation": None, "behind": None}
    current = inspect(store, "base")
    state: dict[str, Any] = {
        "existe": True,
        "intact": current.ok,
        "problemes": current.problems,
        "evenements": current.seq,
        "relation": None,
        "behind": None,
    }
    if current.ok:
        ref = replica.open_readonly(store)
        try:
            probe = CopyCheck(source.path, "source", seq=source.seq, hash=source.hash)
            compare(probe, ref)
        finally:
            ref.close()
        state["relation"], state["behind"] = probe.relation, probe.behind
    return state


def _set_aside(store: Path, now: datetime) -> list[str]:
    """Rename the store and its side files to ``<nom>.avant-restauration-<horodatage>...``.

    Side files go too: a stale ``-wal`` left beside the restored file would be replayed into it."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    base = store.with_name(f"{store.stem}.avant-restauration-{stamp}{store.suffix}")
    moved = []
    for suffix in ("", *SIDE_SUFFIXES):
        path = Path(str(store) + suffix)
        if not path.exists():
            continue
        destination = Path(str(base) + suffix)
        if destination.exists():
            raise OncoError("Une base mise de côté porte déjà ce nom", file=str(destination))
        try:
            os.replace(path, destination)
        except PermissionError:
            raise OncoError(
                "La base est ouverte par un autre programme (fermer le classeur et réessayer)",
                file=str(path),
            ) from None
        moved.append(str(destination))
    return moved


def _record(conn: sqlite3.Connection, actor, source: Path, check: CopyCheck, aside) -> None:
    """The restore goes into the audit chain (copied to the second medium just after, by the
    caller: a plain transaction here, so that the copy is made once, with the given settings)."""
    with plain_transaction(conn):
        audit.append(
            conn,
            user_initials=actor.initials,
            role=actor.role,
            action="restaurer_base",
            entity="base",
            entity_id=source.name,
            after={
                "source": str(source),
                "evenements_source": check.seq,
                "somme_controle": check.checksum,
                "mise_de_cote": aside,
            },
        )
