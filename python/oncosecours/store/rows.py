"""What every repository shares: rows as plain dicts, one INSERT from a column -> value mapping,
the who-when-why (:class:`Signed`) of a cancellation or a stop."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Signed:
    """Who (user id and initials), when (ISO time) and why: what a cancellation or a stop
    writes next to the new state."""

    by_id: int
    by_initials: str
    reason: str
    at: str


def insert_row(conn: sqlite3.Connection, table: str, values: Mapping[str, Any]) -> int:
    """INSERT one row into ``table`` (a name from the repository, never from user input);
    returns its rowid."""
    cur = conn.execute(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    return int(cur.lastrowid)


def _names(cursor: sqlite3.Cursor) -> list[str]:
    return [column[0] for column in cursor.description]


def all_rows(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Every row of a query, as plain dicts (keyed by the cursor's column names, so a
    connection without ``sqlite3.Row`` rows reads the same)."""
    cursor = conn.execute(sql, params)
    names = _names(cursor)
    return [dict(zip(names, row, strict=True)) for row in cursor]


def first_row(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
) -> dict[str, Any] | None:
    """The first row of a query as a plain dict (as :func:`all_rows`), or None."""
    cursor = conn.execute(sql, params)
    row = cursor.fetchone()
    return None if row is None else dict(zip(_names(cursor), row, strict=True))


IN_SIZE = 500
"""Keys bound per ``IN (...)`` (under every engine's bound-value limit)."""


def chunks(keys: Sequence[Any], size: int = IN_SIZE) -> Iterator[Sequence[Any]]:
    """``keys`` in slices an ``IN (...)`` can bind."""
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def marks(keys: Sequence[Any]) -> str:
    """The ``?, ?, ...`` of an ``IN (...)`` binding ``keys``."""
    return ", ".join("?" * len(keys))


def pairs_in(conn: sqlite3.Connection, sql: str, keys: Iterable[Any]) -> dict[Any, Any]:
    """{first column: second column} of ``sql`` (one ``IN ({})`` placeholder) for ``keys``,
    queried by chunks."""
    found: dict[Any, Any] = {}
    for chunk in chunks(sorted(set(keys))):
        found.update(conn.execute(sql.format(marks(chunk)), chunk).fetchall())
    return found
