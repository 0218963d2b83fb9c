"""What every repository shares: rows as plain dicts, one INSERT from a column -> value mapping."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any


def insert_row(conn: sqlite3.Connection, table: str, values: Mapping[str, Any]) -> int:
    """INSERT one row into ``table`` (a name from the repository, never from user input);
    returns its rowid."""
    cur = conn.execute(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    return int(cur.lastrowid)


def all_rows(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Every row of a query, as plain dicts."""
    return [dict(r) for r in conn.execute(sql, params)]


def first_row(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
) -> dict[str, Any] | None:
    """The first row of a query as a plain dict, or None."""
    row = conn.execute(sql, params).fetchone()
    return None if row is None else dict(row)
