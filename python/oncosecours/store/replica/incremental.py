"""Incremental copy: triggers log ``(table, rowid)`` of each written crisis row in
``replica_log``; the copy replays the rows logged since its position, in one transaction."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from oncosecours.store.ledger import quote_name
from oncosecours.store.replica.files import LOCK_TIMEOUT_S, open_readonly, sqlite_uri

LOG_TABLE = "replica_log"


UNTRACKED_PREFIX = "ref_"
"""The snapshot tables (bulk, replaced only by a refresh, which also rewrites ``snapshot_meta``
and the indexes): not tracked row by row; a refresh makes the next copy a complete one."""


PRUNE_AFTER = 5000


def tracked_tables(conn: sqlite3.Connection, schema: str = "main") -> list[str] | None:
    """Tables whose rows are tracked, or None when one cannot be (a WITHOUT ROWID table: then
    every copy is a complete one)."""
    names = []
    for name, sql in conn.execute(
        f"SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name"
    ):
        if name.startswith("sqlite_") or name == LOG_TABLE or name.startswith(UNTRACKED_PREFIX):
            continue
        if re.search(r"\)\s*WITHOUT\s+ROWID", sql or "", re.IGNORECASE):
            return None
        names.append(name)
    return names


def _trigger_sql(table: str) -> dict[str, str]:
    q, lit = quote_name(table), "'" + table.replace("'", "''") + "'"
    log = f"INSERT INTO {LOG_TABLE} (tbl, rid)"
    return {
        f"replica_log_i_{table}": f"AFTER INSERT ON {q} BEGIN {log} VALUES ({lit}, NEW.rowid); END",
        f"replica_log_u_{table}": (
            f"AFTER UPDATE ON {q} BEGIN {log} VALUES ({lit}, NEW.rowid); "
            f"{log} SELECT {lit}, OLD.rowid WHERE OLD.rowid IS NOT NEW.rowid; END"
        ),
        f"replica_log_d_{table}": f"AFTER DELETE ON {q} BEGIN {log} VALUES ({lit}, OLD.rowid); END",
    }


def ensure_triggers(conn: sqlite3.Connection) -> bool:
    """Create the change-log triggers that are missing; True when some were (the changes made
    before them are not in the log: the next copy must be a complete one)."""
    from oncosecours.store.engines import on_server

    if on_server(conn):
        return True  # the server keeps no change log (its copy: files.update_from_server)
    tables = tracked_tables(conn)
    if (
        tables is None
        or not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LOG_TABLE,)
        ).fetchone()
    ):
        return True
    existing = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'replica_log_%'"
        )
    }
    wanted = {name: sql for t in tables for name, sql in _trigger_sql(t).items()}
    missing = {name: sql for name, sql in wanted.items() if name not in existing}
    if not missing:
        return False
    conn.execute("BEGIN IMMEDIATE")  # a plain transaction: no after-commit hook for this one
    try:
        for name, body in missing.items():
            conn.execute(f"CREATE TRIGGER IF NOT EXISTS {quote_name(name)} {body}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True


def _schema(conn: sqlite3.Connection, schema: str) -> list[tuple]:
    return sorted(
        tuple(r)
        for r in conn.execute(
            f"SELECT type, name, tbl_name, sql FROM {schema}.sqlite_master "
            "WHERE name NOT LIKE 'sqlite_autoindex%'"
        )
    )


def _position(conn: sqlite3.Connection, schema: str) -> int:
    row = conn.execute(
        f"SELECT seq FROM {schema}.sqlite_sequence WHERE name = ?", (LOG_TABLE,)
    ).fetchone()
    return int(row[0]) if row else 0


def _columns(conn: sqlite3.Connection, table: str) -> tuple[list[str], bool]:
    """Stored columns of ``table`` and whether its INTEGER PRIMARY KEY is the rowid."""
    info = conn.execute(f"PRAGMA main.table_xinfo({quote_name(table)})").fetchall()
    columns = [r[1] for r in info if r[6] in (0, 1)]  # 2, 3: generated columns
    keys = [r for r in info if r[5]]
    alias = len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER"
    return columns, alias


def _apply_delta(store: Path, replica: Path) -> dict[str, Any] | None:
    """Copy the rows changed since the copy's position, in one transaction on the copy that reads
    one snapshot of the store: the copy becomes exactly the store at that instant. Returns None
    when the copy cannot be brought up to date this way (no copy, other schema, a refresh, a gap
    in the log): a complete copy is needed."""
    if not replica.is_file():
        return None
    copy = sqlite3.connect(
        sqlite_uri(replica), uri=True, isolation_level=None, timeout=LOCK_TIMEOUT_S
    )
    try:
        if copy.execute("PRAGMA journal_mode").fetchone()[0] != "delete":
            return None
        copy.execute("PRAGMA synchronous=FULL")
        copy.execute("ATTACH DATABASE ? AS source", (sqlite_uri(store, "ro"),))
        copy.execute("BEGIN")
        try:
            result = _replay(copy)
        except BaseException:
            copy.execute("ROLLBACK")
            raise
        if result is None:
            copy.execute("ROLLBACK")
            return None
        copy.execute("COMMIT")
        return result
    finally:
        copy.close()


def _replay(copy: sqlite3.Connection) -> dict[str, Any] | None:
    if _schema(copy, "main") != _schema(copy, "source"):
        return None
    tables = tracked_tables(copy, "source")
    if tables is None:
        return None
    done, upto = _position(copy, "main"), _position(copy, "source")
    if upto < done:
        return None
    head = copy.execute("SELECT last_seq FROM main.audit_head").fetchone()[0]
    pending = copy.execute(
        f"SELECT count(*) FROM source.{LOG_TABLE} WHERE id > ?", (done,)
    ).fetchone()[0]
    if pending != upto - done:
        return None  # entries pruned before this copy got them
    for name in _untracked(copy):
        if copy.execute(f"SELECT max(rowid) FROM main.{quote_name(name)}").fetchone() != (
            copy.execute(f"SELECT max(rowid) FROM source.{quote_name(name)}").fetchone()
        ):
            return None
    changed = [
        r[0]
        for r in copy.execute(
            f"SELECT DISTINCT tbl FROM source.{LOG_TABLE} WHERE id > ? ORDER BY tbl", (done,)
        )
    ]
    if "snapshot_meta" in changed or any(t not in tables for t in changed):
        return None
    triggers = copy.execute(
        "SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name IN "
        f"({', '.join('?' * len(changed))})",
        changed,
    ).fetchall()
    for name, _sql in triggers:  # the copy's own rules would refuse a replay (e.g. a row
        copy.execute(f"DROP TRIGGER main.{quote_name(name)}")  # inserted at its final state)
    rows = 0
    for table in changed:
        columns, alias = _columns(copy, table)
        names = ([] if alias else ["rowid"]) + [quote_name(c) for c in columns]
        ids = f"SELECT rid FROM source.{LOG_TABLE} WHERE tbl = ? AND id > ?"
        q = quote_name(table)
        cursor = copy.execute(
            f"INSERT OR REPLACE INTO main.{q} ({', '.join(names)}) "
            f"SELECT {', '.join(names)} FROM source.{q} WHERE rowid IN ({ids})",
            (table, done),
        )
        rows += max(cursor.rowcount, 0)
        cursor = copy.execute(
            f"DELETE FROM main.{q} WHERE rowid IN ({ids}) "
            f"AND rowid NOT IN (SELECT rowid FROM source.{q} WHERE rowid IN ({ids}))",
            (table, done, table, done),
        )
        rows += max(cursor.rowcount, 0)
    for _name, sql in triggers:
        copy.execute(sql)
    copy.execute(f"DELETE FROM main.{LOG_TABLE}")
    copy.execute("DELETE FROM main.sqlite_sequence")
    copy.execute("INSERT INTO main.sqlite_sequence SELECT * FROM source.sqlite_sequence")
    new_head = copy.execute("SELECT last_seq, last_hash FROM source.audit_head").fetchone()
    if copy.execute("SELECT last_seq, last_hash FROM main.audit_head").fetchone() != new_head:
        return None
    events = copy.execute(
        "SELECT count(*) FROM main.audit_event WHERE seq > ?", (head,)
    ).fetchone()[0]
    if events != new_head[0] - head:
        return None
    return {"lignes": rows, "tables": changed, "journal": upto - done}


def _untracked(copy: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in copy.execute("SELECT name FROM source.sqlite_master WHERE type = 'table'")
        if r[0].startswith(UNTRACKED_PREFIX)
    ]


def _prune_log(conn: sqlite3.Connection, replica: Path) -> None:
    """Forget the store's log entries the copy already holds, now and then (a plain
    transaction: no after-commit hook)."""
    low = conn.execute(f"SELECT min(id) FROM {LOG_TABLE}").fetchone()[0]
    if low is None:
        return
    head = read_position(replica)
    if head is None or head - low < PRUNE_AFTER:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"DELETE FROM {LOG_TABLE} WHERE id <= ?", (head,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def read_position(path: Path) -> int | None:
    try:
        ro = open_readonly(path)
    except sqlite3.Error:
        return None
    try:
        return _position(ro, "main")
    except sqlite3.Error:
        return None
    finally:
        ro.close()
