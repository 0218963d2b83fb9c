"""What the safety checks read of a patient's treatments besides the prescription itself: the
backup history, the previous cure and weight, the other crisis prescriptions' doses.

A line of another prescription counts unless its cure was cancelled; what was administered
before a cure was cancelled still counts (cumulative doses, maxima, duplicates).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from oncosecours.store import history_pack
from oncosecours.store.rows import pairs_in

_COUNTED_LINE = (
    "(c.state != 'cancelled' OR EXISTS (SELECT 1 FROM administrations a "
    "WHERE a.prescription_line_id = l.id))"
)


def backup_history(conn: sqlite3.Connection, ref_patient_id: Any) -> list[dict[str, Any]]:
    """The backup's treatment history of a patient with molecule names, by start date."""
    rows = history_pack.patient_rows(conn, ref_patient_id)
    names = pairs_in(
        conn,
        "SELECT molecule_id, name FROM ref_molecules WHERE molecule_id IN ({})",
        [r["molecule_id"] for r in rows if r["molecule_id"] is not None],
    )
    return [{**row, "molecule_name": names.get(row["molecule_id"])} for row in rows]


def previous_engaged_cure(
    conn: sqlite3.Connection,
    inclusion_id: int,
    cure_id: int,
    engaged_states: Sequence[str],
    on_or_before: str,
) -> tuple[str, int] | None:
    """(planned_date, cycle) of the latest other cure of the inclusion that is engaged (or was
    cancelled after something was administered), planned on or before a date."""
    row = conn.execute(
        "SELECT planned_date, cycle FROM cures WHERE inclusion_id = ? AND id != ? AND "
        f"(state IN ({','.join('?' * len(engaged_states))}) OR (state = 'cancelled' AND "
        "EXISTS (SELECT 1 FROM administrations a WHERE a.cure_id = cures.id))) "
        "AND planned_date <= ? "
        "ORDER BY planned_date DESC LIMIT 1",
        (inclusion_id, cure_id, *engaged_states, on_or_before),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def previous_weight(
    conn: sqlite3.Connection, patient_id: int, exclude: int
) -> tuple[float, str, int] | None:
    """(weight_kg, on_date, id) of the latest other non-refused prescription of the patient
    (``exclude``: the prescription being checked, -1 for a draft; only earlier ones count)."""
    row = conn.execute(
        "SELECT weight_kg, on_date, id FROM prescriptions WHERE patient_id = ? AND id != ? "
        "AND (? < 0 OR id < ?) AND state != 'refused' ORDER BY on_date DESC, id DESC LIMIT 1",
        (patient_id, exclude, exclude, exclude),
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def inclusion_doses(
    conn: sqlite3.Connection, inclusion_id: int, exclude: int
) -> list[tuple[str, float]]:
    """(molecule_name, dose) of the counted lines of the inclusion's other active prescriptions."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT l.molecule_name, l.dose FROM prescription_lines l JOIN prescriptions p ON "
            "p.id = l.prescription_id JOIN cures c ON c.id = p.cure_id WHERE c.inclusion_id = ? "
            f"AND p.id != ? AND p.state IN ('prescribed', 'validated') AND {_COUNTED_LINE}",
            (inclusion_id, exclude),
        )
    ]


def other_administrations(
    conn: sqlite3.Connection,
    patient_id: int,
    exclude: int,
    cure_id: int,
    first_day: str,
    last_day: str,
) -> list[tuple]:
    """(admin_date, molecule_name, molecule_id, prescription_id, protocol_name) of the patient's
    other active chemotherapy lines between two days (duplicates check)."""
    return [
        tuple(r)
        for r in conn.execute(
            "SELECT l.admin_date, l.molecule_name, l.molecule_id, l.prescription_id, "
            "i.protocol_name FROM prescription_lines l JOIN prescriptions p ON p.id = "
            "l.prescription_id JOIN cures c ON c.id = p.cure_id JOIN inclusions i ON i.id = "
            "c.inclusion_id WHERE p.patient_id = ? AND p.id != ? AND p.cure_id != ? AND "
            f"p.state IN ('prescribed', 'validated') AND {_COUNTED_LINE} AND "
            "l.line_type = 1 AND l.admin_date BETWEEN ? AND ?",
            (patient_id, exclude, cure_id, first_day, last_day),
        )
    ]


def crisis_mg_doses(
    conn: sqlite3.Connection, patient_id: int, exclude: int
) -> list[tuple[str, float, str, float | None]]:
    """(molecule_name, dose, admin_date, bsa_m2) of the patient's other counted mg lines
    (lifetime cumulative doses)."""
    return [
        (r[0], r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT l.molecule_name, l.dose, l.admin_date, p.bsa_m2 FROM prescription_lines l "
            "JOIN prescriptions p ON p.id = l.prescription_id JOIN cures c ON c.id = p.cure_id "
            "WHERE p.patient_id = ? AND p.id != ? AND p.state IN ('prescribed', 'validated') "
            f"AND {_COUNTED_LINE} AND l.unit = 'mg'",
            (patient_id, exclude),
        )
    ]
