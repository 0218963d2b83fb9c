"""Read-only SQL behind the printed documents (fiche, label, plan de soins, ordonnancier).

Plain SELECTs for what the production service's reads do not return (prescription line,
protocol, validation, the day's cures). Rows come back as plain dicts; no writes.
"""

from __future__ import annotations

import sqlite3
from typing import Any

DAY_EXCLUDED_STATES = ("cancelled", "rejected")
"""States of a bag that is not administered: left out of the day's documents."""


def _row(conn: sqlite3.Connection, sql: str, *params: Any) -> dict | None:
    row = conn.execute(sql, params).fetchone()
    return None if row is None else {k: row[k] for k in row.keys()}


def _rows(conn: sqlite3.Connection, sql: str, *params: Any) -> list[dict]:
    return [dict(r) for r in conn.execute(sql, params)]


def backup_date(conn: sqlite3.Connection) -> str | None:
    """Date of the Chimio backup loaded in the snapshot (None if none was loaded)."""
    row = _row(conn, "SELECT backup_date FROM snapshot_meta WHERE id = 1")
    return row["backup_date"] if row else None


def last_validation(conn: sqlite3.Connection, prescription_id: int | None) -> dict | None:
    """The last pharmaceutical validation of a prescription (date and pharmacist's name)."""
    if prescription_id is None:
        return None
    return _row(
        conn,
        "SELECT v.decided_at, u.name AS pharmacist_name FROM validations v "
        "JOIN users u ON u.id = v.pharmacist_id "
        "WHERE v.prescription_id = ? AND v.decision = 'validated' ORDER BY v.id DESC LIMIT 1",
        prescription_id,
    )


def prescription_line(conn: sqlite3.Connection, line_id: Any) -> dict | None:
    return _row(conn, "SELECT * FROM prescription_lines WHERE id = ?", line_id)


def prescription(conn: sqlite3.Connection, prescription_id: Any) -> dict | None:
    return _row(conn, "SELECT * FROM prescriptions WHERE id = ?", prescription_id)


def user(conn: sqlite3.Connection, user_id: Any) -> dict | None:
    return _row(conn, "SELECT name FROM users WHERE id = ?", user_id)


def molecule(conn: sqlite3.Connection, molecule_id: Any) -> dict | None:
    return _row(conn, "SELECT * FROM ref_molecules WHERE molecule_id = ?", molecule_id)


def patient(conn: sqlite3.Connection, patient_id: Any) -> dict | None:
    return _row(conn, "SELECT * FROM patients WHERE id = ?", patient_id)


def protocol(conn: sqlite3.Connection, protocol_id: Any) -> dict | None:
    return _row(conn, "SELECT * FROM ref_protocols WHERE protocol_id = ?", protocol_id)


def day_preparation_ids(
    conn: sqlite3.Connection, day: str, *, include_cancelled: bool = False
) -> list[int]:
    """Preparations to administer on ``day`` (ISO), in ordonnancier order."""
    sql = "SELECT id FROM preparations WHERE admin_date = ?"
    if not include_cancelled:
        sql += f" AND state NOT IN ({', '.join(repr(s) for s in DAY_EXCLUDED_STATES)})"
    return [r[0] for r in conn.execute(sql + " ORDER BY ord_scope, ord_seq", (day,))]


def day_cures(conn: sqlite3.Connection, day: str, patient_id: int | None = None) -> list[dict]:
    """Cures with a prescribed line on ``day`` (with their protocol): of one patient (not
    cancelled), or else every cure validated, with go-ahead or withheld."""
    sql = (
        "SELECT c.*, i.protocol_id, i.protocol_name FROM cures c "
        "JOIN inclusions i ON i.id = c.inclusion_id "
        "WHERE c.prescription_id IS NOT NULL AND EXISTS (SELECT 1 FROM prescription_lines l "
        "WHERE l.prescription_id = c.prescription_id AND l.admin_date = ?)"
    )
    params: list[Any] = [day]
    if patient_id is not None:
        sql += " AND c.patient_id = ? AND c.state NOT IN ('cancelled')"
        params.append(patient_id)
    else:
        sql += " AND c.state IN ('validated', 'go_ahead', 'withheld')"
    return _rows(conn, sql + " ORDER BY c.patient_id, c.id", *params)


def last_go_ahead_decision(conn: sqlite3.Connection, cure_id: int, day: str) -> str | None:
    """The last go-ahead decision of a cure for ``day`` (None when there is none)."""
    row = _row(
        conn,
        "SELECT decision FROM go_aheads WHERE cure_id = ? AND admin_date = ? "
        "ORDER BY id DESC LIMIT 1",
        cure_id,
        day,
    )
    return row["decision"] if row else None


def day_lines(conn: sqlite3.Connection, prescription_id: int, day: str) -> list[dict]:
    """Every line of a prescription administered on ``day``, in line order."""
    return _rows(
        conn,
        "SELECT * FROM prescription_lines WHERE prescription_id = ? AND admin_date = ? "
        "ORDER BY line_no",
        prescription_id,
        day,
    )


def line_preparations(conn: sqlite3.Connection, line_id: int) -> list[dict]:
    """The bags made for one prescription line, oldest first."""
    return _rows(
        conn, "SELECT * FROM preparations WHERE prescription_line_id = ? ORDER BY id", line_id
    )


def inclusion_lines_by_id(conn: sqlite3.Connection, inclusion_id: int) -> dict[int, dict]:
    return {
        r["id"]: r
        for r in _rows(conn, "SELECT * FROM inclusion_lines WHERE inclusion_id = ?", inclusion_id)
    }
