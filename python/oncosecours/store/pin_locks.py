"""Wrong PINs in a row and the lock they lead to, per user (columns of ``users``, 0007)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class LockState:
    user_id: int
    initials: str
    role: str
    failed_pins: int
    locks: int
    locked_until: str | None


def state(conn: sqlite3.Connection, initials: str) -> LockState | None:
    row = conn.execute(
        "SELECT id, initials, role, failed_pins, locks, locked_until FROM users WHERE initials = ?",
        (initials,),
    ).fetchone()
    return LockState(*tuple(row)) if row else None


def note_failure(conn: sqlite3.Connection, user_id: int) -> int:
    """One more wrong PIN; returns how many in a row."""
    conn.execute("UPDATE users SET failed_pins = failed_pins + 1 WHERE id = ?", (user_id,))
    return int(conn.execute("SELECT failed_pins FROM users WHERE id = ?", (user_id,)).fetchone()[0])


def lock(conn: sqlite3.Connection, user_id: int, until: str) -> None:
    conn.execute(
        "UPDATE users SET failed_pins = 0, locks = locks + 1, locked_until = ? WHERE id = ?",
        (until, user_id),
    )


def clear(conn: sqlite3.Connection, user_id: int, *, keep_locks: bool = False) -> None:
    """After a successful login (everything forgotten) or an unlock (the count of locks kept
    unless the administrator unlocks: then forgotten too)."""
    locks = "locks" if keep_locks else "0"
    conn.execute(
        f"UPDATE users SET failed_pins = 0, locks = {locks}, locked_until = NULL WHERE id = ?",
        (user_id,),
    )


def administrators(conn: sqlite3.Connection) -> list[str]:
    """Initials of the active administrators (who can unlock)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT initials FROM users WHERE role = 'administrateur' AND active = 1 "
            "ORDER BY initials"
        )
    ]
