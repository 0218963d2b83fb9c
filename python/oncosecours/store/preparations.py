"""The preparations and what the circuit records about each bag: lots, control, release,
dispensation, administration.

Reads return plain dicts (or None); writes run inside the caller's audited transaction
(:func:`oncosecours.services.core.action`), never on their own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.domain.identity import parse_date
from oncosecours.store.rows import Signed, all_rows, first_row, insert_row

# Register orders (ordonnancier_rows ``order_by``) -> SQL ORDER BY of the register query.
REGISTER_ORDER = {
    "date": "p.id",
    "patient": "p.patient_birth_name COLLATE NOCASE, p.patient_first_name COLLATE NOCASE, "
    "p.patient_birth_date, p.id",
    "drug": "p.molecule_name COLLATE NOCASE, p.id",
}
_CHUNK = 500  # ids per IN (...) list, under SQLite's bound-parameter limit


# --- preparations ------------------------------------------------------------------------------


def by_id(conn: sqlite3.Connection, preparation_id: int) -> dict[str, Any] | None:
    return first_row(conn, "SELECT * FROM preparations WHERE id = ?", (preparation_id,))


def by_number(conn: sqlite3.Connection, number: str) -> dict[str, Any] | None:
    return first_row(conn, "SELECT * FROM preparations WHERE ord_number = ?", (number,))


def resolve_preparation(conn: sqlite3.Connection, ref: object) -> dict[str, Any]:
    """A preparation by id (int or ``"#12"``) or by ordonnancier number (``"2026-000123"``)."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        row = by_id(conn, ref)
        shown = f"n° interne {ref}"
    else:
        text = str(ref or "").strip()
        if text.startswith("#") and text[1:].isdigit():
            row = by_id(conn, int(text[1:]))
        else:
            row = by_number(conn, text)
        shown = f"« {text} »"
    if row is None:
        raise OncoError(
            f"Préparation inconnue : {shown}",
            field="préparation",
            rule="PREPARATION_INCONNUE",
            hint="Donner le numéro d'ordonnancier imprimé sur l'étiquette (ex. 2026-000123)",
        )
    return row


def live_for_line(conn: sqlite3.Connection, line_id: int) -> dict[str, Any] | None:
    """The preparation of a line that is neither cancelled nor rejected, if any."""
    return first_row(
        conn,
        "SELECT * FROM preparations WHERE prescription_line_id = ? "
        "AND state NOT IN ('cancelled', 'rejected')",
        (line_id,),
    )


def of_cure(conn: sqlite3.Connection, cure_id: int, states: Sequence[str]) -> list[dict[str, Any]]:
    """``id, ord_number, state`` of a cure's bags in the given states, in number order."""
    return all_rows(
        conn,
        f"SELECT id, ord_number, state FROM preparations WHERE cure_id = ? AND state IN "
        f"({', '.join('?' * len(states))}) ORDER BY ord_scope, ord_seq",
        (cure_id, *states),
    )


def insert(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    """A new preparation row (columns of migration 0004); returns its id."""
    return insert_row(conn, "preparations", values)


def set_state(conn: sqlite3.Connection, preparation_id: int, target: str, at: str) -> None:
    conn.execute(
        "UPDATE preparations SET state = ?, updated_at = ? WHERE id = ?",
        (target, at, preparation_id),
    )


def mark_cancelled(conn: sqlite3.Connection, preparation_id: int, signed: Signed) -> None:
    """The bag keeps its number, marked cancelled with who, when and why."""
    conn.execute(
        "UPDATE preparations SET state = 'cancelled', cancelled_at = ?, cancelled_by = ?, "
        "cancelled_by_initials = ?, cancel_reason = ?, updated_at = ? WHERE id = ?",
        (signed.at, signed.by_id, signed.by_initials, signed.reason, signed.at, preparation_id),
    )


def set_use_by(
    conn: sqlite3.Connection, preparation_id: int, use_by: str, reason: str, at: str
) -> None:
    conn.execute(
        "UPDATE preparations SET use_by = ?, use_by_reason = ?, updated_at = ? WHERE id = ?",
        (use_by, reason, at, preparation_id),
    )


# --- lots --------------------------------------------------------------------------------------


def lots_of(conn: sqlite3.Connection, preparation_id: int) -> list[dict[str, Any]]:
    return all_rows(
        conn,
        "SELECT kind, component, product_id, lot, expiry, quantity, opened_at, recorded_at "
        "FROM preparation_lots WHERE preparation_id = ? ORDER BY id",
        (preparation_id,),
    )


def insert_lots(conn: sqlite3.Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """``preparation_lots`` rows (preparation_id, kind, component, product_id, lot, expiry,
    quantity, opened_at, recorded_by, recorded_at)."""
    for values in rows:
        insert_row(conn, "preparation_lots", values)


def delete_lots(conn: sqlite3.Connection, preparation_id: int) -> None:
    conn.execute("DELETE FROM preparation_lots WHERE preparation_id = ?", (preparation_id,))


def lots_by_preparation(
    conn: sqlite3.Connection, preparation_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The lots of many preparations (register), in recording order."""
    lots: dict[int, list[dict[str, Any]]] = {}
    ids = list(preparation_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for lot in conn.execute(
            "SELECT preparation_id, kind, component, lot, expiry, quantity "
            f"FROM preparation_lots WHERE preparation_id IN ({', '.join('?' * len(chunk))}) "
            "ORDER BY id",
            chunk,
        ):
            lots.setdefault(lot["preparation_id"], []).append(dict(lot))
    return lots


# --- the steps after preparation ---------------------------------------------------------------


def control_of(conn: sqlite3.Connection, preparation_id: int) -> dict[str, Any] | None:
    return first_row(
        conn, "SELECT * FROM preparation_controls WHERE preparation_id = ?", (preparation_id,)
    )


def release_of(conn: sqlite3.Connection, preparation_id: int) -> dict[str, Any] | None:
    return first_row(
        conn, "SELECT * FROM preparation_releases WHERE preparation_id = ?", (preparation_id,)
    )


def dispensation_of(conn: sqlite3.Connection, preparation_id: int) -> dict[str, Any] | None:
    return first_row(
        conn, "SELECT * FROM dispensations WHERE preparation_id = ?", (preparation_id,)
    )


def administration_of(conn: sqlite3.Connection, preparation_id: int) -> dict[str, Any] | None:
    return first_row(
        conn, "SELECT * FROM administrations WHERE preparation_id = ?", (preparation_id,)
    )


def administration_of_line(conn: sqlite3.Connection, line_id: int) -> dict[str, Any] | None:
    return first_row(
        conn, "SELECT * FROM administrations WHERE prescription_line_id = ?", (line_id,)
    )


def insert_control(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "preparation_controls", values)


def insert_release(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    """A pharmacist's decision on a controlled bag (``decision`` released or rejected)."""
    return insert_row(conn, "preparation_releases", values)


def insert_dispensation(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "dispensations", values)


def insert_administration(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "administrations", values)


# --- the register ------------------------------------------------------------------------------


def register(
    conn: sqlite3.Connection, date_from: str | date, date_to: str | date, order_by: str
) -> list[sqlite3.Row]:
    """The ordonnancier entries prepared from ``date_from`` to ``date_to`` (ISO dates,
    inclusive) with their release and control, in ``REGISTER_ORDER[order_by]``."""
    return conn.execute(
        "SELECT p.*, r.pharmacist_initials AS released_by, r.decided_at AS released_at, "
        "r.decision AS release_decision, c.controlled_by_initials AS controlled_by, "
        "c.measured_weight_g, c.in_tolerance "
        "FROM preparations p "
        "LEFT JOIN preparation_releases r ON r.preparation_id = p.id "
        "LEFT JOIN preparation_controls c ON c.preparation_id = p.id "
        "WHERE p.prepared_at >= ? AND p.prepared_at < ? "
        f"ORDER BY {REGISTER_ORDER[order_by]}",
        (str(date_from), (parse_date(date_to, "au") + timedelta(days=1)).isoformat()),
    ).fetchall()
