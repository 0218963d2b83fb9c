"""The register on the server, copied into a SQLite store file (the second copy, the daily
snapshots, ``migrate --to sqlite``): the same format as a one-PC store, so that any workstation
can ``backup restore`` it and go on alone when the server PC is lost.

One REPEATABLE READ transaction on the server: the copy is one consistent moment, whatever the
other workstations write meanwhile.
"""

from __future__ import annotations

import sqlite3
from typing import Any

_BATCH = 5000


def copy_into(conn: Any, dst: sqlite3.Connection, *, keep_snapshot: bool = False) -> dict:
    """Fill ``dst`` (an empty SQLite database, or an earlier copy) with the server's schema
    version and rows; returns the rows copied by table. With ``keep_snapshot``, the Chimio
    snapshot of an earlier copy is kept when it is the server's (same backup, loaded at the
    same moment): after an action, only the crisis tables are written again."""
    from oncosecours.store import db

    db.migrate(dst)  # the SQLite schema, from the same migrations
    triggers = dst.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL"
    ).fetchall()
    tables = [
        r[0]
        for r in dst.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    copied: dict[str, int] = {}
    dst.execute("BEGIN")
    try:
        for name, _sql in triggers:  # the rules apply to new writes, not to copied rows
            dst.execute(f'DROP TRIGGER "{name}"')
        dst.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute("BEGIN")  # REPEATABLE READ: one moment (store.pg.dialect)
        try:
            same = keep_snapshot and _same_snapshot(conn, dst)
            for table in tables:
                if same and (table.startswith(SNAPSHOT_PREFIX) or table == "snapshot_meta"):
                    continue
                dst.execute(f'DELETE FROM "{table}"')
                copied[table] = _copy_table(conn, dst, table)
        finally:
            conn.rollback()
        for _name, sql in triggers:
            dst.execute(sql)
    except BaseException:
        dst.execute("ROLLBACK")
        raise
    dst.execute("COMMIT")
    return copied


SNAPSHOT_PREFIX = "ref_"
_SNAPSHOT_KEY = "SELECT content_sha256, loaded_at FROM snapshot_meta WHERE id = 1"


def _same_snapshot(conn: Any, dst: sqlite3.Connection) -> bool:
    here = dst.execute(_SNAPSHOT_KEY).fetchone()
    there = conn.execute(_SNAPSHOT_KEY).fetchone()
    return here is not None and there is not None and tuple(here) == tuple(there)


def _copy_table(conn: Any, dst: sqlite3.Connection, table: str) -> int:
    columns = [r[1] for r in dst.execute(f'PRAGMA table_info("{table}")')]
    names = ", ".join(f'"{c}"' for c in columns)
    key = conn.keys.get(table) or columns[0]
    cursor = conn.execute(f'SELECT {names} FROM "{table}" ORDER BY "{key}"')
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    count = 0
    while True:
        rows = cursor.fetchmany(_BATCH)
        if not rows:
            return count
        dst.executemany(insert, [tuple(r) for r in rows])
        count += len(rows)


def load_from(conn: Any, src: sqlite3.Connection) -> dict[str, int]:
    """Copy every row of the SQLite store ``src`` into the server's (migrated, empty) register,
    inside the caller's write transaction; the rules (triggers) are suspended for the copy
    only, the copied rows keeping their keys. Returns the rows copied by table."""
    tables = [
        r[0]
        for r in src.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    copied: dict[str, int] = {}
    conn._run("SET CONSTRAINTS ALL DEFERRED", None)  # the cures <-> prescriptions circle
    for table in tables:
        conn._run(f'ALTER TABLE "{table}" DISABLE TRIGGER USER', None)
    for table in tables:
        columns = [r[1] for r in src.execute(f'PRAGMA table_info("{table}")')]
        names = ", ".join(f'"{c}"' for c in columns)
        conn._run(f'DELETE FROM "{table}"', None)
        rows = src.execute(f'SELECT {names} FROM "{table}" ORDER BY rowid')
        marks = ", ".join("?" * len(columns))
        result = conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        copied[table] = result.rowcount
    conn._run("SET CONSTRAINTS ALL IMMEDIATE", None)  # every foreign key checked now
    for table in tables:
        conn._run(f'ALTER TABLE "{table}" ENABLE TRIGGER USER', None)
    return copied
