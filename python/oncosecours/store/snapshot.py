"""Writing the Chimio snapshot (every ``ref_*`` table and ``snapshot_meta``) in bulk, inside the
refresh's one audited transaction (:func:`oncosecours.services.refresh.write_snapshot`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from oncosecours.store.rows import insert_row


@contextmanager
def bulk_write_settings(conn: sqlite3.Connection) -> Iterator[None]:
    """A large page cache and in-memory temp store while the snapshot is rewritten; the
    connection's cache size and secure_delete are restored afterwards."""
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    secure = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB while the snapshot is rewritten
    conn.execute("PRAGMA temp_store = MEMORY")
    # Some SQLite builds zero every freed page: the old snapshot's pages would be written once
    # more only to be reused at once by the new one. FAST still clears freed cells in place.
    conn.execute("PRAGMA secure_delete = FAST")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")
        conn.execute(f"PRAGMA secure_delete = {int(secure)}")


def indexes_of(conn: sqlite3.Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the explicit indexes of these tables."""
    marks = ", ".join("?" * len(tables))
    return [
        (name, sql)
        for name, sql in conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            list(tables),
        )
    ]


def drop_indexes(conn: sqlite3.Connection, indexes: Iterable[tuple[str, str]]) -> None:
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')


def create_indexes(conn: sqlite3.Connection, indexes: Iterable[tuple[str, str]]) -> None:
    for _, sql in indexes:
        conn.execute(sql)


def clear(conn: sqlite3.Connection, tables: Sequence[str]) -> None:
    """Empty the snapshot tables (in the order given: children first) and ``snapshot_meta``."""
    for table in tables:
        conn.execute(f"DELETE FROM {table}")
    conn.execute("DELETE FROM snapshot_meta")


def insert_sql(table: str, names: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


def insert_many(conn: sqlite3.Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """One ``executemany`` of :func:`insert_sql` rows."""
    conn.executemany(sql, rows)


ROWS_PER_STATEMENT = 100
"""Rows of one multi-row INSERT: binding a flat list per statement instead of one tuple per
row saves Python's per-row work (the large history: median 3.2 s instead of 4.1 s on a noisy
machine, best runs about equal)."""


def insert_flat(
    conn: sqlite3.Connection, table: str, names: Sequence[str], values: Sequence[Any]
) -> None:
    """Insert rows given as one flat list, row after row (``len(names)`` values each)."""
    from oncosecours.store.engines import on_server

    width = len(names)
    count = len(values) // width
    sql = insert_sql(table, names)
    if on_server(conn):  # COPY takes rows (store.pg)
        conn.executemany(sql, zip(*[iter(values)] * width, strict=True))
        return
    per = max(1, min(ROWS_PER_STATEMENT, 32_000 // width))  # under SQLite's bound-value limit
    whole = count // per * per
    if whole:
        head, _, row = sql.partition(" VALUES ")
        many = f"{head} VALUES {', '.join([row] * per)}"
        step = per * width
        for start in range(0, whole * width, step):
            conn.execute(many, values[start : start + step])
    rest = values[whole * width :]
    if rest:
        conn.executemany(sql, zip(*[iter(rest)] * width, strict=True))


def insert_meta(conn: sqlite3.Connection, values: Mapping[str, Any]) -> None:
    """The one ``snapshot_meta`` row (id 1) of the loaded backup."""
    insert_row(conn, "snapshot_meta", {"id": 1, **values})
