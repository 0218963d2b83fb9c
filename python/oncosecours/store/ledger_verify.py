"""Proving the register: replay the row ledger and compare with what the tables hold.

Relies on nothing stored in the file but the data itself (no trigger): the ledger's own chain is
re-hashed, each entry must carry the hash of the audit event it follows, and the expected last
state of every (table, row) is compared with the table. Every difference is named in French:
table, row, column, expected and found value.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from oncosecours.store.ledger import (
    audited_tables,
    canonical,
    entry_hash,
    has_ledger,
    row_states,
    snapshot_digest,
)
from oncosecours.store.snapshot_digest import DIGEST_KEY, DIGEST_VERSION_KEY, digest_of

MAX_NAMED = 20
"""How many differences are spelled out (then: "et N autres")."""
REFRESH_ACTION = "actualiser_sauvegarde"


@dataclass
class RowsReport:
    """``ok`` when every audited row is as the ledger says and the snapshot as its refresh
    recorded; ``problems`` are French sentences, ``notes`` what is not covered (not a failure)."""

    ok: bool = True
    entries: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hidden: int = 0

    def fail(self, problem: str) -> None:
        self.ok = False
        if len(self.problems) < MAX_NAMED:
            self.problems.append(problem)
        else:
            self.hidden += 1

    def text(self) -> str:
        more = f" ; et {self.hidden} autre(s) différence(s)" if self.hidden else ""
        return " ; ".join(self.problems) + more


def _show(value: Any) -> str:
    if value is None:
        return "vide"
    if isinstance(value, dict) and set(value) == {"sha256"}:
        return f"empreinte {value['sha256'][:12]}…"
    text = str(value)
    return f"« {text if len(text) <= 60 else text[:57] + '…'} »"


def _replay(conn: sqlite3.Connection, report: RowsReport) -> dict[str, dict[str, Any]] | None:
    """The expected state of every row, from the ledger; None when the ledger itself is broken."""
    events = dict(conn.execute("SELECT seq, hash FROM audit_event"))
    expected: dict[str, dict[str, Any]] = {}
    previous, number, last_event = "", 0, 0
    for seq, event_seq, event_hash, rows_json, prev_hash, digest in conn.execute(
        "SELECT seq, event_seq, event_hash, rows_json, prev_hash, hash FROM audit_rows ORDER BY seq"
    ):
        number += 1
        where = f"journal des lignes, entrée n° {seq}"
        if seq != number:
            report.fail(f"{where} : entrée n° {number} manquante (supprimée)")
            return None
        if prev_hash != previous or entry_hash(
            seq, event_seq, event_hash, rows_json, prev_hash
        ) != (digest):
            report.fail(f"{where} : contenu modifié ou chaînage rompu")
            return None
        if event_seq < last_event or (event_seq and events.get(event_seq) != event_hash):
            report.fail(
                f"{where} : ne correspond plus à l'événement d'audit n° {event_seq} "
                "(journal d'audit réécrit ?)"
            )
            return None
        last_event, previous = event_seq, digest
        for table, states in json.loads(rows_json).items():
            expected.setdefault(table, {}).update(states)
    head = conn.execute("SELECT rows_seq, rows_hash FROM audit_head WHERE id = 1").fetchone()
    if head is None or head[0] != number or head[1] != previous:
        report.fail(
            f"journal des lignes : fin supprimée ou modifiée (tête : n° {head[0] if head else '?'}"
            f", trouvées : {number})"
        )
        return None
    report.entries = number
    return expected


def _compare_table(
    conn: sqlite3.Connection, table: str, expected: dict[str, Any], report: RowsReport
) -> None:
    seen = set()
    for rowid, state in row_states(conn, table):
        key = str(rowid)
        seen.add(key)
        report.rows += 1
        wanted = expected.get(key)
        if wanted is None:
            report.fail(f"table {table}, ligne n° {rowid} : ajoutée hors d'OncoSecours")
            continue
        found = json.loads(canonical(state))  # the same rounding trip as the ledger's values
        if found == wanted:
            continue
        for column in sorted(set(found) | set(wanted)):
            if found.get(column) != wanted.get(column):
                report.fail(
                    f"table {table}, ligne n° {rowid}, colonne {column} : attendu "
                    f"{_show(wanted.get(column))}, trouvé {_show(found.get(column))}"
                )
    for key, wanted in expected.items():
        if wanted is not None and key not in seen:
            report.fail(f"table {table}, ligne n° {key} : supprimée hors d'OncoSecours")


def _check_snapshot(conn: sqlite3.Connection, report: RowsReport) -> None:
    """The snapshot must be exactly what the last refresh loaded (its recorded digest)."""
    row = conn.execute(
        "SELECT seq, after_json FROM audit_event WHERE action = ? ORDER BY seq DESC LIMIT 1",
        (REFRESH_ACTION,),
    ).fetchone()
    after = json.loads(row[1] or "{}") if row else {}
    recorded = after.get(DIGEST_KEY)
    if not recorded:
        if conn.execute("SELECT 1 FROM snapshot_meta").fetchone() is not None:
            report.notes.append(
                "instantané de la sauvegarde Chimio non couvert : aucune actualisation "
                "n'a enregistré son empreinte (la prochaine actualisation le couvrira)"
            )
        return
    found = digest_of(conn) if after.get(DIGEST_VERSION_KEY) == 2 else snapshot_digest(conn)
    for table in sorted(set(recorded) | set(found)):
        if recorded.get(table) != found.get(table):
            report.fail(
                f"instantané de la sauvegarde Chimio, table {table} : contenu différent de "
                f"celui chargé par l'actualisation (événement n° {row[0]})"
            )


def verify_rows(conn: sqlite3.Connection) -> RowsReport:
    """Compare every audited table with the ledger, and the snapshot with its refresh."""
    report = RowsReport()
    if not has_ledger(conn):
        report.notes.append("base antérieure au journal des lignes : tables non vérifiées")
        return report
    expected = _replay(conn, report)
    if expected is None:
        return report
    tables = audited_tables(conn)
    for table in tables:
        _compare_table(conn, table, expected.get(table, {}), report)
    for table in sorted(set(expected) - set(tables)):
        if any(state is not None for state in expected[table].values()):
            report.fail(f"table {table} : supprimée hors d'OncoSecours")
    _check_snapshot(conn, report)
    return report
