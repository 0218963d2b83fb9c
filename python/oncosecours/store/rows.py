"""The one generic write the repositories share: insert a row from a column -> value mapping."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any


def insert_row(conn: sqlite3.Connection, table: str, values: Mapping[str, Any]) -> int:
    """INSERT one row into ``table`` (a name from the repository, never from user input);
    returns its rowid."""
    cur = conn.execute(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    return int(cur.lastrowid)
