"""The audit trail: append-only and hash-chained, so an edit made behind the application's back shows.

Each event's hash covers its fields and the previous hash; ``audit_head`` holds the last hash and
is written in the same transaction, so a deleted tail is caught too.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from oncosecours import clock

FIELDS = (
    "seq",
    "at",
    "user_initials",
    "role",
    "action",
    "entity",
    "entity_id",
    "before_json",
    "after_json",
    "prev_hash",
)


def _canonical(values: Any) -> str | None:
    if values is None:
        return None
    return json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)


def _hash(row: dict[str, Any]) -> str:
    payload = json.dumps([row[f] for f in FIELDS], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def now_iso() -> str:
    return clock.now_iso()


def append(
    conn: sqlite3.Connection,
    *,
    user_initials: str,
    role: str,
    action: str,
    entity: str,
    entity_id: Any = None,
    before: Any = None,
    after: Any = None,
    at: str | None = None,
) -> int:
    """Append one event; must run inside the action's transaction. Returns its sequence number."""
    head = conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
    row = {
        "seq": head[0] + 1,
        "at": at or now_iso(),
        "user_initials": user_initials,
        "role": role,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "before_json": _canonical(before),
        "after_json": _canonical(after),
        "prev_hash": head[1],
    }
    row["hash"] = _hash(row)
    conn.execute(
        f"INSERT INTO audit_event ({', '.join(FIELDS)}, hash) "
        f"VALUES ({', '.join('?' * (len(FIELDS) + 1))})",
        [row[f] for f in FIELDS] + [row["hash"]],
    )
    conn.execute(
        "UPDATE audit_head SET last_seq = ?, last_hash = ? WHERE id = 1", (row["seq"], row["hash"])
    )
    return row["seq"]


@dataclass(frozen=True)
class ChainReport:
    """Result of a verification: ``ok``, the number of events checked, and the first problem."""

    ok: bool
    events: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(conn: sqlite3.Connection) -> ChainReport:
    """Walk the chain; report the first missing, edited or reordered event, or a deleted tail."""
    previous_hash = ""
    expected_seq = 1
    count = 0
    for record in conn.execute(f"SELECT {', '.join(FIELDS)}, hash FROM audit_event ORDER BY seq"):
        row = dict(zip((*FIELDS, "hash"), record, strict=True))
        if row["seq"] != expected_seq:
            return ChainReport(
                False, count, expected_seq, f"événement n° {expected_seq} manquant (supprimé)"
            )
        if row["prev_hash"] != previous_hash:
            return ChainReport(
                False, count, row["seq"], f"événement n° {row['seq']} : chaînage rompu"
            )
        if _hash(row) != row["hash"]:
            return ChainReport(
                False, count, row["seq"], f"événement n° {row['seq']} : contenu modifié"
            )
        previous_hash = row["hash"]
        expected_seq += 1
        count += 1
    head = conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
    if head is None or head[0] != count or head[1] != previous_hash:
        return ChainReport(
            False,
            count,
            count + 1,
            f"fin du journal supprimée ou modifiée (tête : n° {head[0] if head else '?'}, "
            f"trouvés : {count})",
        )
    return ChainReport(True, count)


def last_seq(conn: sqlite3.Connection) -> int:
    """The number of the last event of the chain (0 for an empty journal)."""
    return int(conn.execute("SELECT last_seq FROM audit_head WHERE id = 1").fetchone()[0])


def last_hash(conn: sqlite3.Connection) -> str | None:
    """The hash of the last event of the chain (None when the head row is missing)."""
    row = conn.execute("SELECT last_hash FROM audit_head WHERE id = 1").fetchone()
    return None if row is None else row[0]
