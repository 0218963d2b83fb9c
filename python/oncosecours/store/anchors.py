"""Anchors of the chain head outside the store: a rewritten chain does not match them.

Anyone holding the store file can rewrite the audit chain and the row ledger from some event on
with recomputed hashes: the chains are then consistent with themselves. What they cannot rewrite
is what left the file before: the head written beside the second copy after each copy
(``<copie>.ancres.jsonl``, one line per copy, append-only), the head inside the second copy and
inside each daily snapshot, and the anchor printed on the ordonnancier export
(``E<événement>-L<entrée>-<empreinte>``, compared with ``audit verify --ancre``).

An anchor older than a restore recorded in the chain (``restaurer_base``) is set aside: the store
went back to an older state on purpose, in the open.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncosecours import clock

LOG_SUFFIX = ".ancres.jsonl"
RESTORE_ACTION = "restaurer_base"
_SHORT = 20
_PATTERN = re.compile(rf"^E(\d+)-L(\d+)-([0-9a-f]{{{_SHORT}}})$", re.IGNORECASE)


@dataclass(frozen=True)
class Head:
    """Both chain heads: the last audit event and the last row-ledger entry."""

    seq: int
    hash: str
    rows_seq: int
    rows_hash: str

    def label(self) -> str:
        """The printed anchor: short enough for a document, checkable against the store."""
        return f"E{self.seq}-L{self.rows_seq}-{combined(self.hash, self.rows_hash)}"


def combined(event_hash: str, rows_hash: str) -> str:
    return hashlib.sha256(f"{event_hash}|{rows_hash}".encode()).hexdigest()[:_SHORT]


def read_head(conn: sqlite3.Connection) -> Head | None:
    """The heads of an open store (rows head 0 for a store older than the ledger)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(audit_head)")}
    if not columns:
        return None
    if "rows_seq" in columns:
        sql = "SELECT last_seq, last_hash, rows_seq, rows_hash FROM audit_head WHERE id = 1"
    else:
        sql = "SELECT last_seq, last_hash, 0, '' FROM audit_head WHERE id = 1"
    row = conn.execute(sql).fetchone()
    return Head(int(row[0]), str(row[1]), int(row[2]), str(row[3])) if row else None


def log_path(replica: Path) -> Path:
    return replica.with_name(replica.name + LOG_SUFFIX)


def record(conn: sqlite3.Connection, replica: Path) -> None:
    """After a copy: append the heads to the anchor log beside it (one short line)."""
    head = read_head(conn)
    if head is None:
        return
    line = json.dumps({"at": clock.now_iso(), **head.__dict__}, ensure_ascii=False)
    with open(log_path(replica), "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


@dataclass
class AnchorReport:
    """``checked`` anchors compared; ``problems`` French sentences; ``notes`` set aside."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Chain:
    """The main store's hashes, looked up by number."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        head = read_head(conn)
        self.head = head or Head(0, "", 0, "")
        restore = conn.execute(
            "SELECT max(at) FROM audit_event WHERE action = ?", (RESTORE_ACTION,)
        ).fetchone()
        self.restored_at: str | None = restore[0] if restore else None

    def event(self, seq: int) -> str | None:
        if seq == 0:
            return ""
        row = self.conn.execute("SELECT hash FROM audit_event WHERE seq = ?", (seq,)).fetchone()
        return row[0] if row else None

    def rows(self, seq: int) -> str | None:
        if seq == 0:
            return ""
        try:
            row = self.conn.execute("SELECT hash FROM audit_rows WHERE seq = ?", (seq,)).fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    def mismatch(self, seq: int, event_hash: str | None, rows_seq: int, rows_hash: str | None,
                 short: str | None = None) -> str | None:  # fmt: skip
        """Why an anchor does not match the store, or None when it does."""
        if seq > self.head.seq:
            return (
                f"mentionne l'événement n° {seq} alors que le journal de la base s'arrête au "
                f"n° {self.head.seq} (événements supprimés)"
            )
        if rows_seq > self.head.rows_seq:
            return (
                f"mentionne l'entrée n° {rows_seq} du journal des lignes alors que la base "
                f"s'arrête à la n° {self.head.rows_seq} (entrées supprimées)"
            )
        ours, our_rows = self.event(seq), self.rows(rows_seq)
        if short is not None:
            if ours is None or our_rows is None or combined(ours, our_rows) != short:
                return f"ne correspond pas au journal de la base (événement n° {seq} réécrit ?)"
            return None
        if ours != event_hash:
            return f"l'événement n° {seq} y a une autre empreinte : journal d'audit réécrit"
        if our_rows != rows_hash:
            return (
                f"l'entrée n° {rows_seq} du journal des lignes y a une autre empreinte : "
                "journal des lignes réécrit"
            )
        return None

    def before_restore(self, at: str | None) -> bool:
        return bool(self.restored_at and at and at < self.restored_at)


def _file_head(path: Path) -> Head | None:
    from oncosecours.store.replica import open_readonly

    try:
        ro = open_readonly(path)
    except sqlite3.Error:
        return None
    try:
        return read_head(ro)
    except sqlite3.Error:
        return None
    finally:
        ro.close()


def check(conn: sqlite3.Connection, target: Any = None, printed: list[str] = ()) -> AnchorReport:
    """Compare the store's chains with every anchor: the second copy and its anchor log, the
    daily snapshots (``target``: a :class:`~oncosecours.store.replica.Target`, or None) and the
    anchors read on documents (``printed``)."""
    chain, report = _Chain(conn), AnchorReport()
    for text in printed:
        match = _PATTERN.match(text.strip())
        if not match:
            report.problems.append(
                f"ancre « {text} » illisible (attendu : E<n°>-L<n°>-<{_SHORT} caractères>, "
                "telle qu'imprimée sur l'ordonnancier)"
            )
            continue
        report.checked += 1
        why = chain.mismatch(int(match[1]), None, int(match[2]), None, match[3].lower())
        if why:
            report.problems.append(f"ancre imprimée « {text} » : {why}")
    if target is None:
        return report
    files = []
    if target.replica.is_file():
        files.append(("copie de secours", target.replica, None))
    for day, path in target.snapshot_files():
        files.append((f"instantané du {day:%d/%m/%Y}", path, day.isoformat() + "T23:59:59"))
    for label, path, at in files:
        head = _file_head(path)
        if head is None:
            continue  # unreadable: backup verify says it
        if chain.before_restore(at):
            report.notes.append(f"{label} antérieur à la restauration : non comparé")
            continue
        report.checked += 1
        why = chain.mismatch(head.seq, head.hash, head.rows_seq, head.rows_hash)
        if why:
            report.problems.append(f"{label} ({path.name}) : {why}")
    _check_log(chain, log_path(target.replica), report)
    return report


def _check_log(chain: _Chain, path: Path, report: AnchorReport) -> None:
    if not path.is_file():
        return
    skipped = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entry = json.loads(line)
            seq, rows_seq = int(entry["seq"]), int(entry["rows_seq"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a crash
        if chain.before_restore(entry.get("at")):
            skipped += 1
            continue
        report.checked += 1
        why = chain.mismatch(seq, entry.get("hash"), rows_seq, entry.get("rows_hash"))
        if why:
            when = str(entry.get("at", ""))[:16].replace("T", " ")
            report.problems.append(
                f"ancre de la copie du {when} ({path.name}, ligne {number}) : {why}"
            )
            return  # the first one says it; the next ones repeat it
    if skipped:
        report.notes.append(f"{skipped} ancre(s) antérieure(s) à la restauration : non comparées")
