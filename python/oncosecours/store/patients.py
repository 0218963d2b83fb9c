"""Crisis patients, their dated measurements and notes, and the backup's patients
(``ref_patients``) they may come from.

Reads return plain dicts (or None); writes run inside the caller's audited transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from oncosecours.store.circuit import MEASURE_UNITS
from oncosecours.store.rows import all_rows, first_row, insert_row

# --- crisis patients -------------------------------------------------------------------------


def born_on(conn: sqlite3.Connection, birth_date: str, exclude_id: int | None) -> list[dict]:
    """Crisis patients born on a day (but ``exclude_id``)."""
    return all_rows(
        conn,
        "SELECT * FROM patients WHERE birth_date = ? AND id IS NOT ?",
        (birth_date, exclude_id),
    )


def with_ipp(conn: sqlite3.Connection, ipp: str, exclude_id: int | None = None) -> dict | None:
    """The crisis patient holding an IPP (but ``exclude_id``), if any."""
    return first_row(
        conn, "SELECT * FROM patients WHERE ipp = ? AND id IS NOT ?", (ipp, exclude_id)
    )


def from_backup_patient(conn: sqlite3.Connection, ref_patient_id: str) -> dict | None:
    """The crisis patient already brought in from this backup patient, if any."""
    return first_row(conn, "SELECT * FROM patients WHERE ref_patient_id = ?", (ref_patient_id,))


def insert_patient(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "patients", values)


def update_identity(
    conn: sqlite3.Connection,
    patient_id: int,
    values: Mapping[str, Any],
    folded_key: str,
    homonym_confirmed: bool,
    at: str,
) -> None:
    """New identity fields; a homonym confirmation, once given, is kept."""
    conn.execute(
        "UPDATE patients SET ipp = ?, birth_name = ?, usual_name = ?, first_name = ?, "
        "birth_date = ?, sex = ?, ward = ?, folded_key = ?, "
        "homonym_confirmed = max(homonym_confirmed, ?), updated_at = ? WHERE id = ?",
        (
            values["ipp"],
            values["birth_name"],
            values["usual_name"],
            values["first_name"],
            values["birth_date"],
            values["sex"],
            values["ward"],
            folded_key,
            int(homonym_confirmed),
            at,
            patient_id,
        ),
    )


def insert_measurement(
    conn: sqlite3.Connection,
    patient_id: int,
    kind: str,
    value: float,
    measured_on: str,
    recorded_at: str,
    recorded_by: int,
) -> int:
    return insert_row(
        conn,
        "measurements",
        {
            "patient_id": patient_id,
            "kind": kind,
            "value": value,
            "unit": MEASURE_UNITS[kind],
            "measured_on": measured_on,
            "recorded_at": recorded_at,
            "recorded_by": recorded_by,
        },
    )


# --- the backup's patients -------------------------------------------------------------------


def backup_death(
    conn: sqlite3.Connection, ref_patient_id: str | None, ipp: str | None
) -> dict | None:
    """The backup patient recorded deceased that is this one (same backup id, or an IPP
    matching its IPP or id), earliest death first."""
    return first_row(
        conn,
        "SELECT * FROM ref_patients WHERE death_date IS NOT NULL AND trim(death_date) != '' "
        "AND (patient_id = ? OR (? IS NOT NULL AND (upper(ipp) = ? OR patient_id = ?))) "
        "ORDER BY death_date LIMIT 1",
        (ref_patient_id, ipp, ipp, ipp),
    )


def backup_born_on(
    conn: sqlite3.Connection, birth_date: str, exclude_ref: str | None
) -> list[dict]:
    """Backup patients born on a day, not yet brought in (but ``exclude_ref``)."""
    return all_rows(
        conn,
        "SELECT * FROM ref_patients WHERE substr(birth_date, 1, 10) = ? AND patient_id IS NOT ? "
        "AND patient_id NOT IN "
        "(SELECT ref_patient_id FROM patients WHERE ref_patient_id IS NOT NULL)",
        (birth_date, exclude_ref),
    )


def in_backup(conn: sqlite3.Connection, ipp: str) -> bool:
    """Whether a backup patient has this IPP (or this backup id)."""
    return (
        conn.execute(
            "SELECT 1 FROM ref_patients WHERE ipp = ? OR patient_id = ?", (ipp, ipp)
        ).fetchone()
        is not None
    )


def backup_patient(conn: sqlite3.Connection, key: str) -> dict | None:
    """The backup patient of an IPP (upper-cased) or backup id."""
    return first_row(
        conn,
        "SELECT * FROM ref_patients WHERE ipp = ? OR patient_id = ? LIMIT 1",
        (key.upper(), key),
    )


# --- notes -----------------------------------------------------------------------------------


def note_by_id(conn: sqlite3.Connection, note_id: int) -> dict | None:
    return first_row(conn, "SELECT * FROM notes WHERE id = ?", (note_id,))


def same_note(
    conn: sqlite3.Connection,
    patient_id: int,
    prescription_id: int | None,
    author_id: int,
    corrects_note_id: int | None,
    text: str,
) -> int | None:
    """The id of an identical note already written by the same author, if any (double click)."""
    row = conn.execute(
        "SELECT id FROM notes WHERE patient_id = ? AND prescription_id IS ? AND author_id = ? "
        "AND corrects_note_id IS ? AND text = ?",
        (patient_id, prescription_id, author_id, corrects_note_id, text),
    ).fetchone()
    return None if row is None else row[0]


def insert_note(conn: sqlite3.Connection, values: Mapping[str, Any]) -> int:
    return insert_row(conn, "notes", values)


# --- read-only lists (shells) ----------------------------------------------------------------


def all_patients(conn: sqlite3.Connection) -> list[dict]:
    """Every crisis patient by birth name, first name."""
    return all_rows(conn, "SELECT * FROM patients ORDER BY birth_name, first_name")


def backup_patients_not_brought_in(conn: sqlite3.Connection) -> list[dict]:
    """Backup patients not yet brought into the crisis patients, by name."""
    return all_rows(
        conn,
        "SELECT * FROM ref_patients WHERE patient_id NOT IN "
        "(SELECT ref_patient_id FROM patients WHERE ref_patient_id IS NOT NULL) "
        "ORDER BY birth_name, first_name",
    )


def recent_backup_history(conn: sqlite3.Connection, ref_patient_id: str, limit: int = 20) -> list:
    """The latest treatments of a backup patient (its history), newest first."""
    from oncosecours.store.history_pack import patient_rows

    shown = ("start_date", "protocol_name", "cycle", "day", "molecule_id", "dose_prescribed",
             "weight_kg")  # fmt: skip
    latest = patient_rows(conn, ref_patient_id)[::-1][:limit]
    return [{name: row[name] for name in shown} for row in latest]


def notes_of(conn: sqlite3.Connection, patient_id: int) -> list[dict]:
    return all_rows(conn, "SELECT * FROM notes WHERE patient_id = ? ORDER BY id", (patient_id,))


def backup_adult_with_identity(conn: sqlite3.Connection) -> dict | None:
    """The first living backup patient with a full identity, born 1940-1990 (a homonym to show)."""
    return first_row(
        conn,
        "SELECT patient_id, birth_name, usual_name, first_name, birth_date, sex "
        "FROM ref_patients WHERE birth_name IS NOT NULL AND first_name IS NOT NULL "
        "AND birth_date IS NOT NULL AND death_date IS NULL AND sex IN ('M', 'F') "
        "AND substr(birth_date, 1, 4) BETWEEN '1940' AND '1990' "
        "ORDER BY patient_id LIMIT 1",
    )


def notes_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM notes").fetchone()[0])
