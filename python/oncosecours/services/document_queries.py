"""The records the printed documents are made from: read-only, no writes, no audit.

The shells (CLI, ribbon, demo) get records here and hand them to the pure mapping of
:mod:`oncosecours.documents.context`. The production service's documented reads
(``preparation_sheet``, ``ordonnancier_rows``) give the bag and the register; the SQL for the
rest lives in :mod:`oncosecours.store.documents_read`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from oncosecours.store import documents_read as read
from oncosecours.store.circuit import resolve_patient
from oncosecours.store.documents_read import DAY_EXCLUDED_STATES, backup_date, day_preparation_ids

__all__ = [
    "DAY_EXCLUDED_STATES",
    "backup_date",
    "care_plan_records",
    "day_preparation_ids",
    "preparation_record",
    "register_records",
]


def preparation_record(conn: sqlite3.Connection, ref: object) -> dict[str, Any]:
    """The record of one preparation (id, ``#id`` or ordonnancier number) for the mapping."""
    # Imported here: services.preparation is heavy and on its way to being split.
    from oncosecours.services.preparation_queries import preparation_sheet

    sheet = preparation_sheet(conn, ref)
    control = sheet.get("control")
    if control:
        control = dict(control)
        user = read.user(conn, control.get("controlled_by"))
        if user:
            control["controller_name"] = user["name"]
    molecule = None
    if sheet.get("molecule_id") is not None:
        molecule = read.molecule(conn, sheet["molecule_id"])
    return {
        "preparation": sheet,
        "line": read.prescription_line(conn, sheet["prescription_line_id"]),
        "prescription": read.prescription(conn, sheet["prescription_id"]),
        "validation": read.last_validation(conn, sheet["prescription_id"]),
        "lots": sheet.get("lots") or [],
        "control": control,
        "release": sheet.get("release"),
        "molecule": molecule,
    }


def care_plan_records(
    conn: sqlite3.Connection, day: str, patient: object = None
) -> list[dict[str, Any]]:
    """One record per patient's cure on ``day``: every prescribed line of that day (chemo,
    premedication, hydration, rinses) with its bag. Without ``patient``: the cures validated or
    with go-ahead, except those whose go-ahead was withheld for the day."""
    patient_id = None if patient is None else resolve_patient(conn, patient)["id"]
    records = []
    for cure in read.day_cures(conn, day, patient_id):
        if patient is None and read.last_go_ahead_decision(conn, cure["id"], day) == "withheld":
            continue
        lines = read.day_lines(conn, cure["prescription_id"], day)
        preparations: dict[int, dict] = {}
        for line in lines:
            live = [
                r
                for r in read.line_preparations(conn, line["id"])
                if r["state"] not in DAY_EXCLUDED_STATES
            ]
            if live:
                preparations[line["id"]] = live[-1]
        records.append(
            {
                "patient": read.patient(conn, cure["patient_id"]),
                "prescription": read.prescription(conn, cure["prescription_id"]),
                "cure": cure,
                "protocol_name": cure["protocol_name"],
                "lines": lines,
                "preparations": preparations,
                "protocol": read.protocol(conn, cure["protocol_id"]),
                "inclusion_lines": read.inclusion_lines_by_id(conn, cure["inclusion_id"]),
                "t0": "",
                "day": None,
                "date": day,
            }
        )
    return records


def register_records(
    conn: sqlite3.Connection, date_from: Any, date_to: Any, order_by: str = "date"
) -> list[dict]:
    """Register entries from the production service, in its order."""
    from oncosecours.services.preparation_queries import ordonnancier_rows

    return [
        {"preparation": entry, "lots": entry.get("lots") or []}
        for entry in ordonnancier_rows(conn, date_from, date_to, order_by)
    ]
