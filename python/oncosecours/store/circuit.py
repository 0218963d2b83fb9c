"""Reads of the circuit tables shared by services and read-only views (no writes here).

The writes live in the store module of their table (preparations, prescriptions...), called by
the services inside their audited transaction.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.store.rows import all_rows, first_row

MEASURE_UNITS = {"weight": "kg", "height": "cm", "creatinine": "µmol/L"}
MEASURE_FR = {"weight": "poids", "height": "taille", "creatinine": "créatinine"}


def row_dict(row: sqlite3.Row | None) -> dict[str, Any] | None:
    return None if row is None else {k: row[k] for k in row.keys()}


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (name,)
        ).fetchone()
    )


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


# --- patients -------------------------------------------------------------------------------


def patient_by_id(conn: sqlite3.Connection, patient_id: int) -> dict | None:
    return first_row(conn, "SELECT * FROM patients WHERE id = ?", (patient_id,))


def resolve_patient(conn: sqlite3.Connection, ref: object) -> dict:
    """A crisis patient by IPP, or by internal number written ``#12`` (or an int)."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = patient_by_id(conn, ref)
        shown = f"n° {ref}"
    else:
        text = str(ref or "").strip()
        if text.startswith("#") and text[1:].isdigit():
            found = patient_by_id(conn, int(text[1:]))
        else:
            found = first_row(conn, "SELECT * FROM patients WHERE ipp = ?", (text.upper(),))
        shown = f"« {text} »"
    if found is None:
        raise OncoError(
            f"Patient inconnu : {shown}",
            field="patient",
            rule="PATIENT_INCONNU",
            hint="Chercher avec « oncosecours patient find » ou le créer avec « patient add »",
        )
    return found


def patient_label(patient: dict) -> str:
    usual = f" ({patient['usual_name']})" if patient.get("usual_name") else ""
    ipp = patient.get("ipp") or f"#{patient['id']}"
    return (
        f"{patient['birth_name'].upper()}{usual} {patient['first_name']}, "
        f"né(e) le {patient['birth_date']}, IPP {ipp}"
    )


def patient_ref(patient: dict) -> str:
    """What to type on the command line to name this patient."""
    return patient["ipp"] or f"#{patient['id']}"


def latest_measurement(
    conn: sqlite3.Connection, patient_id: int, kind: str, on: str | None = None
) -> dict | None:
    """The latest measurement of a kind (on or before ``on`` when given)."""
    sql = "SELECT * FROM measurements WHERE patient_id = ? AND kind = ?"
    params: list[Any] = [patient_id, kind]
    if on:
        sql += " AND measured_on <= ?"
        params.append(on)
    sql += " ORDER BY measured_on DESC, id DESC LIMIT 1"
    return first_row(conn, sql, params)


# --- snapshot -------------------------------------------------------------------------------


def snapshot_meta(conn: sqlite3.Connection) -> dict | None:
    return first_row(conn, "SELECT * FROM snapshot_meta WHERE id = 1")


def molecule(conn: sqlite3.Connection, molecule_id: int | None) -> dict | None:
    if molecule_id is None:
        return None
    return first_row(conn, "SELECT * FROM ref_molecules WHERE molecule_id = ?", (molecule_id,))


def product(conn: sqlite3.Connection, product_id: int | None) -> dict | None:
    if product_id is None:
        return None
    return first_row(conn, "SELECT * FROM ref_products WHERE product_id = ?", (product_id,))


def compoundable_products(conn: sqlite3.Connection, molecule_id: int | None) -> list[dict]:
    """Active vials of a molecule whose strength and volume are known, strongest first."""
    return all_rows(
        conn,
        "SELECT * FROM ref_products WHERE molecule_id = ? AND inactive = 0 "
        "AND strength_mg > 0 AND coalesce(reconst_volume_ml, volume_ml) > 0 "
        "ORDER BY strength_mg DESC, product_id",
        (molecule_id,),
    )


def json_list(text: str | None) -> list:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


# --- circuit --------------------------------------------------------------------------------


def cure_by_id(conn: sqlite3.Connection, cure_id: int) -> dict:
    found = first_row(conn, "SELECT * FROM cures WHERE id = ?", (cure_id,))
    if found is None:
        raise OncoError(
            f"Cure inconnue : n° {cure_id}",
            field="cure",
            rule="CURE_INCONNUE",
            hint="Les numéros de cure sont affichés par « include » et « patient show »",
        )
    return found


def inclusion_by_id(conn: sqlite3.Connection, inclusion_id: int) -> dict:
    found = first_row(conn, "SELECT * FROM inclusions WHERE id = ?", (inclusion_id,))
    if found is None:
        raise OncoError(f"Inclusion inconnue : n° {inclusion_id}", field="inclusion")
    return found


def inclusion_lines(conn: sqlite3.Connection, inclusion_id: int) -> list[dict]:
    return all_rows(
        conn,
        "SELECT * FROM inclusion_lines WHERE inclusion_id = ? ORDER BY line_no",
        (inclusion_id,),
    )


def prescription_by_id(conn: sqlite3.Connection, prescription_id: int) -> dict:
    found = first_row(conn, "SELECT * FROM prescriptions WHERE id = ?", (prescription_id,))
    if found is None:
        raise OncoError(
            f"Prescription inconnue : n° {prescription_id}",
            field="prescription",
            rule="PRESCRIPTION_INCONNUE",
            hint="Les prescriptions en attente sont listées par « oncosecours validate list »",
        )
    return found


def prescription_lines(conn: sqlite3.Connection, prescription_id: int) -> list[dict]:
    return all_rows(
        conn,
        "SELECT * FROM prescription_lines WHERE prescription_id = ? ORDER BY day, line_no",
        (prescription_id,),
    )


def prescription_line(conn: sqlite3.Connection, line_id: int) -> dict | None:
    return first_row(conn, "SELECT * FROM prescription_lines WHERE id = ?", (line_id,))
