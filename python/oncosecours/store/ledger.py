"""The row ledger: what the audited tables must contain, written by the application itself.

The audit chain proves the journal; this proves the register. Inside every write transaction of
the application (:func:`oncosecours.store.db.transaction`), TEMP triggers created on the
application's own connection note which rows of the audited tables were inserted, updated or
deleted (a *collector* only: they live in the connection, not in the file, so dropping the file's
triggers changes nothing). Just before the commit, :func:`seal` appends to ``audit_rows`` the
after-state of each of those rows (``None`` for a deleted row), hash-chained and tied to the last
audit event. :mod:`oncosecours.store.ledger_verify` replays the ledger and compares with the
tables: a row changed, added or deleted by anything else (the sqlite3 shell...) is named.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

NOT_AUDITED = frozenset({"audit_event", "audit_head", "audit_rows", "replica_log", "snapshot_meta"})
"""The audit tables prove themselves; ``replica_log`` is the second copy's technical queue;
``snapshot_meta`` and the ``ref_*`` tables are the Chimio snapshot, proven as a whole by the
digest recorded in the refresh's own audit event (:func:`snapshot_digest`)."""
SNAPSHOT_PREFIX = "ref_"
HISTORY_PARTS = ("ref_history_patients", "ref_history_texts")
"""Parts of the history's rows (``store.history_pack``): proven with them, not on their own."""
COLLECTOR = "ledger_touched"
_TRIGGER_PREFIX = "ledger_collect_"
_CHUNK = 500


def quote_name(name: str) -> str:
    """A table or column name as SQL spells it (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def audited_tables(conn: sqlite3.Connection, schema: str = "main") -> list[str]:
    """Every table of the store whose rows the ledger covers, by name."""
    return [
        name
        for (name,) in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name"
        )
        if not name.startswith(("sqlite_", SNAPSHOT_PREFIX)) and name not in NOT_AUDITED
    ]


def has_ledger(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_rows'"
        ).fetchone()
        is not None
    )


# --- the collector (TEMP, per connection) ----------------------------------------------------


def begin(conn: sqlite3.Connection) -> None:
    """Make sure this connection collects the rows written (called after ``BEGIN``)."""
    from oncosecours.store.engines import on_server

    if on_server(conn):
        return  # the server's triggers note the rows in the session's table (store.pg)
    if not has_ledger(conn):
        return  # a store being created: the migrations come first
    tables = audited_tables(conn)
    present = conn.execute(
        "SELECT count(*) FROM sqlite_temp_master WHERE type = 'trigger' AND name LIKE ?",
        (_TRIGGER_PREFIX + "%",),
    ).fetchone()[0]
    if present == 3 * len(tables):
        return
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {COLLECTOR} "
        "(tbl TEXT NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (tbl, rid)) WITHOUT ROWID"
    )
    for table in tables:
        q, lit = quote_name(table), "'" + table.replace("'", "''") + "'"
        note = f"INSERT OR IGNORE INTO {COLLECTOR} (tbl, rid)"
        bodies = {
            "i": f"AFTER INSERT ON main.{q} BEGIN {note} VALUES ({lit}, NEW.rowid); END",
            "u": (
                f"AFTER UPDATE ON main.{q} BEGIN {note} VALUES ({lit}, NEW.rowid); "
                f"{note} SELECT {lit}, OLD.rowid WHERE OLD.rowid IS NOT NEW.rowid; END"
            ),
            "d": f"AFTER DELETE ON main.{q} BEGIN {note} VALUES ({lit}, OLD.rowid); END",
        }
        for kind, body in bodies.items():
            name = quote_name(f"{_TRIGGER_PREFIX}{kind}_{table}")
            conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS {name} {body}")


# --- the state of a row, as written in the ledger and as compared --------------------------


def _value(value: Any) -> Any:
    """A column value as the ledger keeps it: blobs (PIN hashes) only as their SHA-256."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"sha256": hashlib.sha256(bytes(value)).hexdigest()}
    return value


def row_states(
    conn: sqlite3.Connection, table: str, rowids: Iterable[int] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(rowid, {column: value})`` of a table's rows (all of them when ``rowids`` is None)."""
    base = f"SELECT rowid AS __rowid__, * FROM main.{quote_name(table)}"
    if rowids is None:
        batches: Iterable[list[int] | None] = [None]
    else:
        ids = sorted(rowids)
        batches = [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    for batch in batches:
        sql = base if batch is None else f"{base} WHERE rowid IN ({', '.join('?' * len(batch))})"
        cursor = conn.execute(sql + " ORDER BY rowid", batch or ())
        names = [d[0] for d in cursor.description][1:]
        for record in cursor:
            yield (
                int(record[0]),
                {n: _value(v) for n, v in zip(names, tuple(record)[1:], strict=True)},
            )


def canonical(state: Any) -> str:
    return json.dumps(state, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(seq: int, event_seq: int, event_hash: str, rows_json: str, prev_hash: str) -> str:
    payload = json.dumps([seq, event_seq, event_hash, rows_json, prev_hash], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --- sealing a transaction -------------------------------------------------------------------


def seal(conn: sqlite3.Connection) -> int | None:
    """Append the after-state of the rows this transaction wrote (before its ``COMMIT``).
    Returns the ledger entry's number, None when no audited row was written."""
    try:
        touched = conn.execute(f"SELECT tbl, rid FROM temp.{COLLECTOR}").fetchall()
    except sqlite3.OperationalError:
        return None  # this connection never collected (no ledger yet)
    if not touched:
        return None
    conn.execute(f"DELETE FROM temp.{COLLECTOR}")
    by_table: dict[str, set[int]] = defaultdict(set)
    for table, rid in touched:
        by_table[table].add(int(rid))
    return append_rows(conn, by_table)


def append_rows(conn: sqlite3.Connection, by_table: dict[str, set[int] | None]) -> int | None:
    """One ledger entry with the current state of the given rows (``None`` = the whole table);
    a row that is no longer there is written as deleted."""
    rows: dict[str, dict[str, Any]] = {}
    for table in sorted(by_table):
        wanted = by_table[table]
        found = dict(row_states(conn, table, wanted))
        states: dict[str, Any] = {str(rid): state for rid, state in found.items()}
        for rid in wanted or ():
            states.setdefault(str(rid), None)
        if states:
            rows[table] = states
    if not rows:
        return None
    head = conn.execute(
        "SELECT last_seq, last_hash, rows_seq, rows_hash FROM audit_head WHERE id = 1"
    ).fetchone()
    seq = int(head[2]) + 1
    rows_json = canonical(rows)
    digest = entry_hash(seq, int(head[0]), str(head[1]), rows_json, str(head[3]))
    conn.execute(
        "INSERT INTO audit_rows (seq, event_seq, event_hash, rows_json, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (seq, head[0], head[1], rows_json, head[3], digest),
    )
    conn.execute("UPDATE audit_head SET rows_seq = ?, rows_hash = ? WHERE id = 1", (seq, digest))
    return seq


def baseline(conn: sqlite3.Connection) -> None:
    """When the ledger arrives on a store that already holds rows (migration 0007): their
    current state is its first entry (what was written before cannot be proven any more)."""
    append_rows(conn, {table: None for table in audited_tables(conn)})


# --- the Chimio snapshot: one digest recorded by the refresh -------------------------------


def snapshot_tables(conn: sqlite3.Connection, schema: str = "main") -> list[str]:
    names = [
        name
        for (name,) in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name"
        )
        if name.startswith(SNAPSHOT_PREFIX) and name not in HISTORY_PARTS
    ]
    return names + ["snapshot_meta"]


def snapshot_digest(conn: sqlite3.Connection) -> dict[str, str]:
    """SHA-256 of every snapshot table's rows (in rowid order), by table: recorded in the
    refresh's audit event, recomputed by verify."""
    from oncosecours.store import history_pack

    digests = {}
    for table in snapshot_tables(conn):
        sha = hashlib.sha256()
        if table == history_pack.TABLE:  # proven by its rows, whatever their storage
            try:
                records: Any = zip(*history_pack.columns(conn)[1], strict=True)
            except history_pack.Unreadable as exc:
                digests[table] = f"illisible : {exc}"
                continue
        else:
            records = conn.execute(f"SELECT * FROM main.{quote_name(table)} ORDER BY rowid")
        for record in records:
            sha.update(repr(tuple(record)).encode("utf-8"))
            sha.update(b"\n")
        digests[table] = sha.hexdigest()
    return digests


def ledger_size(conn: sqlite3.Connection) -> tuple[int, int]:
    """(entries, bytes of row states) of the row ledger: what the proof costs in the store."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(length(rows_json)), 0) FROM audit_rows"
    ).fetchone()
    return int(row[0]), int(row[1])
