"""The reads behind the day's view (:mod:`oncosecours.services.day_status`): every line of a day
with its cure, prescription and patient, and what each step recorded, in a handful of queries.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from oncosecours.store.rows import all_rows, chunks, marks


def _by(conn: sqlite3.Connection, sql: str, ids: list[int], key: str) -> dict[int, dict]:
    """Rows of ``sql`` (with one ``IN ({})`` placeholder) keyed by ``key``; later rows win."""
    out: dict[int, dict] = {}
    for chunk in chunks(sorted(set(ids))):
        for row in conn.execute(sql.format(marks(chunk)), chunk):
            out[row[key]] = dict(row)
    return out


def prescribed_lines(conn: sqlite3.Connection, iso_day: str) -> list[dict[str, Any]]:
    """The lines of a day of the cures' current prescriptions, with cure, protocol, prescription
    and patient columns."""
    return all_rows(
        conn,
        "SELECT pl.*, c.state AS cure_state, c.cycle, c.patient_id, c.planned_date, "
        "c.prescription_id AS current_prescription, i.protocol_name, "
        "c.cancelled_at AS cure_cancelled_at, c.cancel_reason AS cure_cancel_reason, "
        "c.cancelled_by_initials AS cure_cancelled_by, "
        "pr.state AS prescription_state, pr.prescriber_name, pr.prescribed_at, "
        "pr.transcribed, pr.comment AS prescription_comment, "
        "pa.ipp, pa.birth_name, pa.usual_name, pa.first_name, pa.birth_date, pa.ward "
        "FROM prescription_lines pl "
        "JOIN cures c ON c.id = pl.cure_id AND c.prescription_id = pl.prescription_id "
        "JOIN prescriptions pr ON pr.id = pl.prescription_id "
        "JOIN inclusions i ON i.id = c.inclusion_id "
        "JOIN patients pa ON pa.id = c.patient_id "
        "WHERE pl.admin_date = ?",
        (iso_day,),
    )


def line_records(
    conn: sqlite3.Connection, iso_day: str, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the circuit recorded for these lines: ``validations`` (by prescription),
    ``go_aheads`` (the day's latest, by cure), ``preparations`` (lists, by line), ``controls``,
    ``releases``, ``dispensations``, ``lot_counts`` (by preparation), ``administrations`` (by
    line)."""
    prescription_ids = [r["prescription_id"] for r in lines]
    cure_ids = [r["cure_id"] for r in lines]
    line_ids = [r["id"] for r in lines]
    validations = _by(
        conn,
        "SELECT v.*, u.initials AS by_initials FROM validations v "
        "JOIN users u ON u.id = v.pharmacist_id WHERE v.prescription_id IN ({}) ORDER BY v.id",
        prescription_ids,
        "prescription_id",
    )
    go_aheads: dict[int, dict] = {}
    for chunk in chunks(sorted(set(cure_ids))):
        for row in conn.execute(
            f"SELECT * FROM go_aheads WHERE admin_date = ? AND cure_id IN ({marks(chunk)}) "
            "ORDER BY id",
            [iso_day, *chunk],
        ):
            go_aheads[row["cure_id"]] = dict(row)
    preparations: dict[int, list[dict]] = {}
    for chunk in chunks(line_ids):
        for row in conn.execute(
            f"SELECT * FROM preparations WHERE prescription_line_id IN ({marks(chunk)}) ORDER BY id",
            chunk,
        ):
            preparations.setdefault(row["prescription_line_id"], []).append(dict(row))
    prep_ids = [p["id"] for preps in preparations.values() for p in preps]
    controls = _by(
        conn,
        "SELECT * FROM preparation_controls WHERE preparation_id IN ({})",
        prep_ids,
        "preparation_id",
    )
    releases = _by(
        conn,
        "SELECT * FROM preparation_releases WHERE preparation_id IN ({})",
        prep_ids,
        "preparation_id",
    )
    dispensations = _by(
        conn, "SELECT * FROM dispensations WHERE preparation_id IN ({})", prep_ids, "preparation_id"
    )
    lot_counts = _by(
        conn,
        "SELECT preparation_id, count(*) AS n FROM preparation_lots "
        "WHERE preparation_id IN ({}) GROUP BY preparation_id",
        prep_ids,
        "preparation_id",
    )
    administrations = _by(
        conn,
        "SELECT * FROM administrations WHERE prescription_line_id IN ({})",
        line_ids,
        "prescription_line_id",
    )
    return {
        "validations": validations,
        "go_aheads": go_aheads,
        "preparations": preparations,
        "controls": controls,
        "releases": releases,
        "dispensations": dispensations,
        "lot_counts": lot_counts,
        "administrations": administrations,
    }


def unprescribed_cures(conn: sqlite3.Connection, iso_day: str, since: str) -> list[dict[str, Any]]:
    """Cures without a prescription planned from ``since`` to ``iso_day``, with protocol and
    patient columns."""
    return all_rows(
        conn,
        "SELECT c.*, i.protocol_name, pa.ipp, pa.birth_name, pa.usual_name, pa.first_name, "
        "pa.birth_date, pa.ward FROM cures c JOIN inclusions i ON i.id = c.inclusion_id "
        "JOIN patients pa ON pa.id = c.patient_id "
        "WHERE c.prescription_id IS NULL AND c.planned_date <= ? AND c.planned_date >= ?",
        (iso_day, since),
    )
