"""The users table: who may act, with which role; the PIN is stored as salt + scrypt hash."""

from __future__ import annotations

import sqlite3
from typing import Any

from oncosecours.store.rows import all_rows, first_row


def user_by_initials(conn: sqlite3.Connection, initials: str) -> dict[str, Any] | None:
    """The user row (with ``pin_salt`` and ``pin_hash``) of these initials, if any."""
    return first_row(conn, "SELECT * FROM users WHERE initials = ?", (initials,))


def user_by_id(conn: sqlite3.Connection, user_id: int) -> dict[str, Any] | None:
    return first_row(conn, "SELECT * FROM users WHERE id = ?", (user_id,))


def any_user(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def insert_user(
    conn: sqlite3.Connection,
    *,
    initials: str,
    name: str,
    role: str,
    pin_salt: bytes,
    pin_hash: bytes,
    created_at: str,
) -> int:
    cur = conn.execute(
        "INSERT INTO users (initials, name, role, pin_salt, pin_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (initials, name, role, pin_salt, pin_hash, created_at),
    )
    return int(cur.lastrowid)


def all_users(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Initials, name, role and active flag of every user, by initials (no PIN material)."""
    return all_rows(conn, "SELECT initials, name, role, active FROM users ORDER BY initials")
