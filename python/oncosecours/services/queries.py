"""Read-only views for the shells (CLI, workbook): no writes, no audit, plain dicts."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from oncosecours.domain.identity import fold, parse_date
from oncosecours.store import patients as patient_store
from oncosecours.store import prescriptions, reference
from oncosecours.store.circuit import (
    cure_by_id,
    inclusion_by_id,
    latest_measurement,
    patient_label,
    patient_ref,
    prescription_by_id,
    prescription_lines,
    resolve_patient,
)


def find_patients(
    conn: sqlite3.Connection,
    *,
    ipp: str | None = None,
    name: str | None = None,
    birth_date: str | date | None = None,
) -> list[dict[str, Any]]:
    """Crisis patients, then backup patients not yet brought in, matching IPP or name + birth date.

    The name matches the folded birth or usual name (prefix); the birth date narrows the search.
    """
    wanted_ipp = (ipp or "").strip().upper()
    wanted_name = fold(name)
    born = parse_date(birth_date, "date de naissance").isoformat() if birth_date else None
    results: list[dict[str, Any]] = []

    def matches(row: dict[str, Any]) -> bool:
        if wanted_ipp and wanted_ipp not in {
            str(row.get("ipp") or "").upper(),
            str(row.get("patient_id") or "").upper(),
        }:
            return False
        if wanted_name and not any(
            fold(row.get(f)).startswith(wanted_name) for f in ("birth_name", "usual_name")
        ):
            return False
        return not (born and str(row.get("birth_date") or "")[:10] != born)

    if not (wanted_ipp or wanted_name or born):
        return results
    for data in patient_store.all_patients(conn):
        if matches(data):
            results.append(
                {
                    "origine": "crise",
                    "ref": patient_ref(data),
                    "id": data["id"],
                    "ipp": data["ipp"],
                    "nom_naissance": data["birth_name"],
                    "nom_usage": data["usual_name"],
                    "prenom": data["first_name"],
                    "date_naissance": data["birth_date"],
                    "sexe": data["sex"],
                    "libelle": patient_label(data),
                }
            )
    for data in patient_store.backup_patients_not_brought_in(conn):
        if matches(data):
            results.append(
                {
                    "origine": "sauvegarde",
                    "ref": data["ipp"] or data["patient_id"],
                    "id": None,
                    "ipp": data["ipp"] or data["patient_id"],
                    "nom_naissance": data["birth_name"],
                    "nom_usage": data["usual_name"],
                    "prenom": data["first_name"],
                    "date_naissance": (data["birth_date"] or "")[:10],
                    "sexe": data["sex"],
                    "libelle": f"{data['birth_name'] or '?'} {data['first_name'] or '?'}, né(e) "
                    f"le {(data['birth_date'] or '?')[:10]}, IPP "
                    f"{data['ipp'] or data['patient_id']} (sauvegarde Chimio)",
                }
            )
    return results


def patient_summary(conn: sqlite3.Connection, patient: object) -> dict[str, Any]:
    """The patient, latest measures, inclusions with their cures, and notes."""
    person = resolve_patient(conn, patient)
    measures = {
        kind: latest_measurement(conn, person["id"], kind)
        for kind in ("weight", "height", "creatinine")
    }
    inclusions = []
    for item in prescriptions.inclusions_of_patient(conn, person["id"]):
        item["cures"] = prescriptions.cures_of_inclusion(conn, item["id"])
        inclusions.append(item)
    history = patient_store.recent_backup_history(conn, person["ref_patient_id"] or "")
    return {
        "patient": person,
        "libelle": patient_label(person),
        "ref": patient_ref(person),
        "measures": measures,
        "inclusions": inclusions,
        "history": history,
        "notes": notes_for(conn, person["id"]),
    }


def list_protocols(conn: sqlite3.Connection, search: str | None = None) -> list[dict[str, Any]]:
    wanted = fold(search)
    rows = []
    for row in reference.protocols_with_line_counts(conn):
        if not wanted or wanted in fold(row["name"]):
            rows.append(row)
    return rows


def cure_summary(conn: sqlite3.Connection, cure_id: int) -> dict[str, Any]:
    cure = cure_by_id(conn, cure_id)
    return {"cure": cure, "inclusion": inclusion_by_id(conn, cure["inclusion_id"])}


def prescription_detail(conn: sqlite3.Connection, prescription_id: int) -> dict[str, Any]:
    """A prescription with its lines, decisions and notes (JSON columns decoded)."""
    prescription = prescription_by_id(conn, prescription_id)
    prescription["findings"] = json.loads(prescription["findings_json"] or "[]")
    lines = prescription_lines(conn, prescription_id)
    for line in lines:
        line["adjustments"] = json.loads(line["adjustments_json"] or "[]")
        line["notes"] = json.loads(line["notes_json"] or "[]")
    validations = []
    for item in prescriptions.validations_of(conn, prescription_id):
        item["findings"] = json.loads(item["findings_json"])
        item["justifications"] = json.loads(item["justifications_json"])
        validations.append(item)
    cure = cure_by_id(conn, prescription["cure_id"])
    inclusion = inclusion_by_id(conn, cure["inclusion_id"])
    person = resolve_patient(conn, prescription["patient_id"])
    return {
        "prescription": prescription,
        "lines": lines,
        "validations": validations,
        "cure": cure,
        "inclusion": inclusion,
        "patient": person,
        "libelle": patient_label(person),
        "notes": [
            n for n in notes_for(conn, person["id"]) if n["prescription_id"] == prescription_id
        ],
    }


def pending_validations(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Prescriptions waiting for a pharmacist, oldest cure first."""
    rows = []
    for item in prescriptions.awaiting_validation(conn):
        person = resolve_patient(conn, item["patient_id"])
        item["patient"] = patient_label(person)
        rows.append(item)
    return rows


def notes_for(conn: sqlite3.Connection, patient_id: int) -> list[dict[str, Any]]:
    """Notes of a patient, oldest first; ``corrected_by`` lists the notes correcting each one."""
    notes = patient_store.notes_of(conn, patient_id)
    for note in notes:
        note["corrected_by"] = [n["id"] for n in notes if n["corrects_note_id"] == note["id"]]
    return notes
