"""What the workbook's sheets read besides the day's view (:mod:`oncosecours.excel.views`):
patients with their latest measures, prescriptions to validate, notes, the journal, the
drop-down lists. Read-only."""

from __future__ import annotations

import sqlite3
from typing import Any

from oncosecours.store.rows import all_rows


def backup_day(conn: sqlite3.Connection) -> str | None:
    """The loaded backup's date (``YYYY-MM-DD``), or None."""
    row = conn.execute("SELECT backup_date FROM snapshot_meta WHERE id = 1").fetchone()
    return row["backup_date"][:10] if row else None


def patients_by_name(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [
        dict(r) for r in conn.execute("SELECT * FROM patients ORDER BY birth_name, first_name, id")
    ]


def latest_value(conn: sqlite3.Connection, patient_id: int, kind: str) -> float | None:
    """The latest measurement of a kind (weight, height, creatinine), or None."""
    row = conn.execute(
        "SELECT value, measured_on FROM measurements WHERE patient_id = ? AND kind = ? "
        "ORDER BY measured_on DESC, id DESC LIMIT 1",
        (patient_id, kind),
    ).fetchone()
    return row["value"] if row else None


def active_protocol_names(conn: sqlite3.Connection, patient_id: int) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT protocol_name FROM inclusions WHERE patient_id = ? AND state = 'active' "
            "ORDER BY start_date, id",
            (patient_id,),
        )
    ]


def next_cure_date(conn: sqlite3.Connection, patient_id: int, day: str) -> str | None:
    """The first planned date from ``day`` on of a cure neither cancelled nor given the go-ahead."""
    return conn.execute(
        "SELECT min(planned_date) FROM cures WHERE patient_id = ? AND planned_date >= ? "
        "AND state NOT IN ('cancelled', 'go_ahead')",
        (patient_id, day),
    ).fetchone()[0]


def validation_rows(conn: sqlite3.Connection, day: str) -> list[dict[str, Any]]:
    """Prescriptions waiting for a pharmacist (not those of a cancelled cure, ``waiting`` 1),
    then those decided on ``day``; with cure, protocol and patient columns."""
    return all_rows(
        conn,
        "SELECT pr.id, pr.state, pr.prescriber_name, pr.findings_json, pr.transcribed, "
        "c.cycle, c.planned_date, c.state AS cure_state, c.cancelled_at, "
        "c.cancelled_by_initials, c.cancel_reason, i.protocol_name, pa.ipp, pa.birth_name, "
        "pa.usual_name, pa.first_name, "
        "(pr.state = 'prescribed' AND c.state != 'cancelled') AS waiting "
        "FROM prescriptions pr JOIN cures c ON c.id = pr.cure_id "
        "JOIN inclusions i ON i.id = c.inclusion_id JOIN patients pa ON pa.id = pr.patient_id "
        "WHERE (pr.state = 'prescribed' AND c.state != 'cancelled') OR EXISTS (SELECT 1 FROM "
        "validations v WHERE v.prescription_id = pr.id AND substr(v.decided_at, 1, 10) = ?) "
        "ORDER BY waiting DESC, c.planned_date, pr.id",
        (day,),
    )


def last_decision(conn: sqlite3.Connection, prescription_id: int) -> dict[str, Any] | None:
    """The latest pharmacist decision on a prescription with the pharmacist's initials."""
    row = conn.execute(
        "SELECT v.decision, v.decided_at, v.comment, v.findings_json, u.initials "
        "FROM validations v JOIN users u ON u.id = v.pharmacist_id "
        "WHERE v.prescription_id = ? ORDER BY v.id DESC LIMIT 1",
        (prescription_id,),
    ).fetchone()
    return dict(row) if row else None


def preparations_by_id(conn: sqlite3.Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in conn.execute(f"SELECT * FROM preparations WHERE id IN ({marks})", chunk):
            out[row["id"]] = dict(row)
    return out


def notes_with_patients(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every note, newest first, with its patient's IPP and names."""
    return all_rows(
        conn,
        "SELECT n.*, p.ipp, p.birth_name, p.usual_name, p.first_name FROM notes n "
        "JOIN patients p ON p.id = n.patient_id ORDER BY n.id DESC",
    )


def journal(conn: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    """The latest audit events, newest first."""
    return all_rows(conn, "SELECT * FROM audit_event ORDER BY seq DESC LIMIT ?", (limit,))


def protocol_names(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [
        dict(r) for r in conn.execute("SELECT protocol_id, name FROM ref_protocols ORDER BY name")
    ]


def cures_to_prescribe(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Planned or refused cures (a prescription may be written), by date and patient."""
    return all_rows(
        conn,
        "SELECT c.id, c.cycle, c.planned_date, i.protocol_name, p.birth_name, p.usual_name, "
        "p.first_name FROM cures c JOIN inclusions i ON i.id = c.inclusion_id "
        "JOIN patients p ON p.id = c.patient_id WHERE c.state IN ('planned', 'refused') "
        "ORDER BY c.planned_date, p.birth_name, c.id",
    )


def wards(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT DISTINCT ward FROM patients WHERE ward IS NOT NULL")}
