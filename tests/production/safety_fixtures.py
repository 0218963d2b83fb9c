"""Helpers of the patient-safety tests (vinca route, deceased patients, lots, dose display):
vinca alkaloids and a deceased backup patient added to the production tests' snapshot.

Imported by name (this folder is put on sys.path by its conftest); the rows go straight into the
ref_* tables, as the production fixtures do.
"""

from __future__ import annotations

import json

import production_fixtures as fx

VCR_IV = 7  # protocol: vincristine IV
VCR_IT = 8  # protocol: vincristine written IT (the fatal error)
DECEASED_ID = "4444444444"  # as in the HEGP patient list: died 2011-03-06


def add_vincristine(conn) -> None:
    """Vincristine (molecule 70, 1 mg/1 mL vials) and two protocols: IV and (wrongly) IT."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO ref_molecules (molecule_id, name, stability_diluted_h, stability_reconst_h, "
        "light_protect, storage, diluents_json, containers_json, leftover_reuse, vesicant, "
        "dose_tolerance_pct) VALUES (70, 'VINCRISTINE', 24, NULL, 1, '2-8 °C', ?, ?, 0, 1, 5)",
        (json.dumps(["NaCl 0,9 %"]), json.dumps(["Mini-poche 50 mL"])),
    )
    conn.execute(
        "INSERT INTO ref_products (product_id, name, molecule_id, strength_mg, volume_ml) "
        "VALUES (7001, 'VINCRISTINE 1 mg/1 mL', 70, 1, 1)"
    )
    for protocol, name, route in ((VCR_IV, "VCR CRISE", "IV"), (VCR_IT, "VCR IT CRISE", "IT")):
        conn.execute(
            "INSERT INTO ref_protocols (protocol_id, name, cycle_days, default_cycles, "
            "max_cycles) VALUES (?, ?, 21, 4, 4)",
            (protocol, name),
        )
        conn.execute(
            "INSERT INTO ref_protocol_lines (line_id, protocol_id, molecule_id, product_id, "
            "line_type, dose, unit_code, unit, route, duration_min, comment, day_mask, "
            "days_json, time_offset_min) VALUES (?, ?, 70, NULL, 1, 1.4, 2, 'mg/m2', ?, 10, "
            "'Dans 50 mL NaCl 0,9 %', 'O', '[1]', 0)",
            (protocol * 100 + 1, protocol, route),
        )
    conn.execute("COMMIT")


def add_deceased_backup_patient(conn, *, death_date: str | None = "2011-03-06") -> None:
    """The HEGP patient 4444444444 (woman born 1933-01-01) with its death date."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO ref_patients (patient_id, ipp, birth_name, first_name, birth_date, sex, "
        "death_date) VALUES (?, NULL, 'DUPONT', 'Louise', '1933-01-01', 'F', ?)",
        (DECEASED_ID, death_date),
    )
    conn.execute("COMMIT")


def include_and_prescribe(conn, team, patient_id, protocol, **options) -> dict:
    """Include ``patient_id`` in ``protocol`` (J1 = TODAY) and prescribe the first cure."""
    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.prescription import prescribe

    inclusion = include_patient(conn, team["DR1"], patient_id, protocol, fx.TODAY, today=fx.TODAY)
    cure_id = inclusion["cures"][0]["id"]
    draft = prescribe(conn, team["DR1"], cure_id, today=fx.TODAY, **options)
    draft["cure_id"] = cure_id
    return draft


def new_patient(conn, team, ipp="9000201", birth_name="BERNARD", first_name="Odile"):
    from oncosecours.services.patients import create_patient

    return create_patient(
        conn,
        team["DR1"],
        birth_name=birth_name,
        first_name=first_name,
        birth_date="1960-05-05",
        sex="F",
        ipp=ipp,
        weight_kg=60.0,
        height_cm=162.0,
        creatinine_umol_l=70.0,
        measured_on=fx.TODAY,
        today=fx.TODAY,
    )


def validate_all(conn, team, prescription_id) -> dict:
    from oncosecours.domain.checks import blocking_rules
    from oncosecours.services.validation import findings_for, validate_prescription

    findings = findings_for(conn, prescription_id, today=fx.TODAY)
    return validate_prescription(
        conn,
        team["PH1"],
        prescription_id,
        justifications={rule: "justifié pour le test" for rule in blocking_rules(findings)},
        today=fx.TODAY,
    )
