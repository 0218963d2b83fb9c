"""Inclusions, cures, prescriptions and their lines, and the day's go-aheads: the treatment plan
as the store holds it.

Reads return plain dicts (or None); writes run inside the caller's audited transaction
(:func:`oncosecours.services.core.action`), never on their own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from oncosecours.store.rows import Signed, all_rows, first_row, insert_row

# --- inclusions ------------------------------------------------------------------------------


def cure_ids_of_inclusion(conn: sqlite3.Connection, inclusion_id: int) -> list[int]:
    """Every cure of an inclusion, by cycle."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM cures WHERE inclusion_id = ? ORDER BY cycle", (inclusion_id,)
        )
    ]


def mark_inclusion_stopped(conn: sqlite3.Connection, inclusion_id: int, signed: Signed) -> None:
    conn.execute(
        "UPDATE inclusions SET state = 'stopped', stopped_at = ?, stopped_by = ?, "
        "stopped_by_initials = ?, stop_reason = ? WHERE id = ?",
        (signed.at, signed.by_id, signed.by_initials, signed.reason, inclusion_id),
    )


def active_twin(
    conn: sqlite3.Connection, patient_id: int, protocol_id: int, start_date: str
) -> int | None:
    """The id of an active inclusion of the same patient, protocol and start, if any."""
    row = conn.execute(
        "SELECT id FROM inclusions WHERE patient_id = ? AND protocol_id = ? AND "
        "start_date = ? AND state = 'active'",
        (patient_id, protocol_id, start_date),
    ).fetchone()
    return row[0] if row else None


def insert_inclusion(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "inclusions", values)


def insert_inclusion_line(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "inclusion_lines", values)


def inclusion_line(conn: sqlite3.Connection, line_id: int | None) -> dict | None:
    return first_row(conn, "SELECT * FROM inclusion_lines WHERE id = ?", (line_id,))


# --- cures -----------------------------------------------------------------------------------


def insert_cure(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "cures", values)


def cures_of_inclusion(
    conn: sqlite3.Connection, inclusion_id: int, *, with_cancelled: bool = True
) -> list[dict]:
    """The cures of an inclusion by cycle (all, or those not cancelled)."""
    sql = "SELECT * FROM cures WHERE inclusion_id = ?"
    if not with_cancelled:
        sql += " AND state != 'cancelled'"
    return all_rows(conn, sql + " ORDER BY cycle", (inclusion_id,))


def move_cure(
    conn: sqlite3.Connection,
    cure_id: int,
    planned_date: str,
    days: int,
    at: str,
    *,
    reason: str | None,
) -> None:
    """Move a cure's J1 and its prescribed lines by ``days``; ``reason`` is written when given
    (the cure the user postponed), other cures keep theirs."""
    conn.execute(
        "UPDATE cures SET planned_date = ?, updated_at = ?, postpone_reason = "
        "coalesce(?, postpone_reason) WHERE id = ?",
        (planned_date, at, reason, cure_id),
    )
    conn.execute(
        "UPDATE prescription_lines SET admin_date = date(admin_date, ?) WHERE cure_id = ?",
        (f"+{days} days", cure_id),
    )


def set_cure_state(conn: sqlite3.Connection, cure_id: int, state: str, at: str) -> None:
    conn.execute("UPDATE cures SET state = ?, updated_at = ? WHERE id = ?", (state, at, cure_id))


def mark_cure_cancelled(conn: sqlite3.Connection, cure_id: int, signed: Signed) -> None:
    conn.execute(
        "UPDATE cures SET state = 'cancelled', cancelled_at = ?, cancelled_by = ?, "
        "cancelled_by_initials = ?, cancel_reason = ?, updated_at = ? WHERE id = ?",
        (signed.at, signed.by_id, signed.by_initials, signed.reason, signed.at, cure_id),
    )


def administered_count(conn: sqlite3.Connection, prescription_id: int) -> tuple[int, int]:
    """(lines of a prescription, lines of it administered)."""
    row = conn.execute(
        "SELECT count(*), count(a.id) FROM prescription_lines pl LEFT JOIN administrations a "
        "ON a.prescription_line_id = pl.id WHERE pl.prescription_id = ?",
        (prescription_id,),
    ).fetchone()
    return int(row[0]), int(row[1])


# --- prescriptions ---------------------------------------------------------------------------


def admin_dates(conn: sqlite3.Connection, prescription_id: int) -> list[str]:
    """The distinct administration days of a prescription's lines, in order."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT admin_date FROM prescription_lines WHERE prescription_id = ? "
            "ORDER BY admin_date",
            (prescription_id,),
        )
    ]


def previous_prescription_id(conn: sqlite3.Connection, inclusion_id: int, cycle: int) -> int | None:
    """The last non-refused prescription of an earlier cure of the inclusion (a cancelled cure
    counts when something of it was administered), or None."""
    row = conn.execute(
        "SELECT p.id FROM prescriptions p JOIN cures c ON c.id = p.cure_id WHERE "
        "c.inclusion_id = ? AND c.cycle < ? AND p.state != 'refused' AND (c.state != 'cancelled' "
        "OR EXISTS (SELECT 1 FROM administrations a WHERE a.cure_id = c.id)) "
        "ORDER BY c.cycle DESC, p.id DESC LIMIT 1",
        (inclusion_id, cycle),
    ).fetchone()
    return None if row is None else row[0]


def lines_by_day(conn: sqlite3.Connection, prescription_id: int) -> list[dict]:
    """A prescription's lines ordered by day (then as stored)."""
    return all_rows(
        conn,
        "SELECT * FROM prescription_lines WHERE prescription_id = ? ORDER BY day",
        (prescription_id,),
    )


def insert_prescription(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "prescriptions", values)


def insert_line(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "prescription_lines", values)


def attach_prescription(
    conn: sqlite3.Connection, cure_id: int, prescription_id: int, at: str
) -> None:
    """The cure is now prescribed by this prescription."""
    conn.execute(
        "UPDATE cures SET state = 'prescribed', prescription_id = ?, updated_at = ? WHERE id = ?",
        (prescription_id, at, cure_id),
    )


def set_prescription_state(conn: sqlite3.Connection, prescription_id: int, state: str) -> None:
    conn.execute("UPDATE prescriptions SET state = ? WHERE id = ?", (state, prescription_id))


def insert_validation(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    """A pharmacist's decision on a prescription (validated or refused, findings, justifications)."""
    return insert_row(conn, "validations", values)


# --- go-aheads -------------------------------------------------------------------------------


def day_go_ahead(conn: sqlite3.Connection, cure_id: int, admin_date: str) -> dict | None:
    """The latest go-ahead decision for a cure on a day, or None."""
    return first_row(
        conn,
        "SELECT * FROM go_aheads WHERE cure_id = ? AND admin_date = ? ORDER BY id DESC LIMIT 1",
        (cure_id, admin_date),
    )


def insert_go_ahead(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    """A go-ahead decision (given or withheld, ``withdraws_id`` when it withdraws one)."""
    return insert_row(conn, "go_aheads", values)


def live_bags_of_day(conn: sqlite3.Connection, cure_id: int, admin_date: str) -> list[dict]:
    """``ord_number, state`` of a cure's bags for a day, neither cancelled nor rejected."""
    return all_rows(
        conn,
        "SELECT ord_number, state FROM preparations WHERE cure_id = ? AND admin_date = ? "
        "AND state NOT IN ('cancelled', 'rejected') ORDER BY ord_seq",
        (cure_id, admin_date),
    )


def administered_on_day(conn: sqlite3.Connection, cure_id: int, admin_date: str) -> int:
    """How many lines of a cure were administered on a day."""
    return conn.execute(
        "SELECT count(*) FROM administrations a JOIN prescription_lines pl ON pl.id = "
        "a.prescription_line_id WHERE a.cure_id = ? AND pl.admin_date = ?",
        (cure_id, admin_date),
    ).fetchone()[0]


def awaiting_go_ahead(conn: sqlite3.Connection, admin_date: str) -> list[dict]:
    """Validated, not cancelled cures with lines on a day (``cure_id, cycle, state,
    patient_id``), by patient name."""
    return all_rows(
        conn,
        "SELECT DISTINCT c.id AS cure_id, c.cycle, c.state, p.id AS patient_id, "
        "p.birth_name, p.first_name "
        "FROM cures c JOIN prescriptions pr ON pr.id = c.prescription_id "
        "JOIN prescription_lines pl ON pl.prescription_id = pr.id "
        "JOIN patients p ON p.id = c.patient_id "
        "WHERE pr.state = 'validated' AND c.state != 'cancelled' AND pl.admin_date = ? "
        "ORDER BY p.birth_name, p.first_name, c.id",
        (admin_date,),
    )


def prescription_or_none(conn: sqlite3.Connection, prescription_id: int | None) -> dict | None:
    return first_row(conn, "SELECT * FROM prescriptions WHERE id = ?", (prescription_id,))


# --- read-only lists (shells) ----------------------------------------------------------------


def inclusions_of_patient(conn: sqlite3.Connection, patient_id: int) -> list[dict]:
    return all_rows(
        conn, "SELECT * FROM inclusions WHERE patient_id = ? ORDER BY start_date, id", (patient_id,)
    )


def validations_of(conn: sqlite3.Connection, prescription_id: int) -> list[dict]:
    """The pharmacist decisions on a prescription with the pharmacist's initials, in order."""
    return all_rows(
        conn,
        "SELECT v.*, u.initials AS pharmacist FROM validations v JOIN users u ON u.id = "
        "v.pharmacist_id WHERE prescription_id = ? ORDER BY v.id",
        (prescription_id,),
    )


def awaiting_validation(conn: sqlite3.Connection) -> list[dict]:
    """Prescribed prescriptions of cures not cancelled, oldest planned cure first."""
    return all_rows(
        conn,
        "SELECT pr.id, pr.prescribed_at, pr.prescriber_name, pr.transcribed, "
        "c.id AS cure_id, c.cycle, c.planned_date, i.protocol_name, pa.id AS patient_id "
        "FROM prescriptions pr JOIN cures c ON c.id = pr.cure_id "
        "JOIN inclusions i ON i.id = c.inclusion_id JOIN patients pa ON pa.id = pr.patient_id "
        "WHERE pr.state = 'prescribed' AND c.state != 'cancelled' "
        "ORDER BY c.planned_date, pr.id",
    )


def planned_cures_on(conn: sqlite3.Connection, day: str) -> list[int]:
    """Ids of the cures planned on a day and not yet prescribed."""
    return [
        r["id"]
        for r in all_rows(
            conn, "SELECT id FROM cures WHERE planned_date = ? AND state = 'planned'", (day,)
        )
    ]
