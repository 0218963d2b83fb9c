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


def insert_meta(conn: sqlite3.Connection, values: Mapping[str, Any]) -> None:
    """The one ``snapshot_meta`` row (id 1) of the loaded backup."""
    insert_row(conn, "snapshot_meta", {"id": 1, **values})
