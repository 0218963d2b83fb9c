"""Helpers of the production tests (imported by name: this folder is put on sys.path by its
conftest): a snapshot with compounding data, patients included, prescribed and validated through
the circuit-1 services, on one day.

The snapshot rows are inserted directly in the ref_* tables (the refresh owns loading them).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

TODAY = date(2026, 3, 2)
TZ = timezone(timedelta(hours=1))


def at(hour: int, minute: int = 0, day: date = TODAY) -> datetime:
    """A time on the test day (Paris winter time)."""
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


# id, name, stab_diluted_h, stab_reconst_h, conc_min, conc_max, light, storage, diluents,
# containers, density, filter, leftover_reuse
MOLECULES = [
    (
        31,
        "OXALIPLATINE",
        24,
        48,
        0.2,
        0.7,
        0,
        "2-8 °C",
        ["Glucose 5 %"],
        ["Poche polyoléfine"],
        None,
        None,
        1,
    ),
    (
        6,
        "FLUOROURACILE",
        48,
        None,
        None,
        None,
        0,
        "15-25 °C",
        ["NaCl 0,9 %", "Glucose 5 %"],
        ["Poche polyoléfine"],
        None,
        None,
        0,
    ),
    (
        41,
        "PACLITAXEL",
        27,
        None,
        0.3,
        1.2,
        0,
        "15-25 °C",
        ["NaCl 0,9 %", "Glucose 5 %"],
        ["Poche polyoléfine sans PVC"],
        None,
        0.22,
        0,
    ),
    (
        40,
        "CARBOPLATINE",
        24,
        None,
        0.5,
        2.0,
        1,
        "2-8 °C",
        ["Glucose 5 %", "NaCl 0,9 %"],
        ["Poche polyoléfine"],
        None,
        None,
        0,
    ),
    (
        50,
        "DOXORUBICINE",
        48,
        None,
        None,
        None,
        1,
        "2-8 °C",
        ["NaCl 0,9 %"],
        ["Poche polyoléfine"],
        None,
        None,
        0,
    ),
]

# product_id, name, molecule_id, strength_mg, volume_ml
PRODUCTS = [
    (3101, "OXALIPLATINE 50 mg/10 mL", 31, 50, 10),
    (3102, "OXALIPLATINE 100 mg/20 mL", 31, 100, 20),
    (601, "FLUOROURACILE 1000 mg/20 mL", 6, 1000, 20),
    (602, "FLUOROURACILE 250 mg/5 mL", 6, 250, 5),
    (4101, "PACLITAXEL 100 mg/16,7 mL", 41, 100, 16.7),
    (4102, "PACLITAXEL 300 mg/50 mL", 41, 300, 50),
    (4001, "CARBOPLATINE 150 mg/15 mL", 40, 150, 15),
    (4002, "CARBOPLATINE 450 mg/45 mL", 40, 450, 45),
    (5001, "DOXORUBICINE 10 mg/5 mL", 50, 10, 5),
    (5002, "DOXORUBICINE 50 mg/25 mL", 50, 50, 25),
    (204843, "ONDANSETRON 8 mg/4 mL", None, 8, 4),
]

PROTOCOLS = [
    (1, "FOLFOX CRISE", 14, 6, 12),
    (2, "CARBO-PACLI CRISE", 21, 6, 6),
    (3, "DOXO HEBDO CRISE", 21, 4, 4),
]

# line_id, protocol, molecule, product, type, dose, unit, days, offset, comment, route
LINES = [
    (101, 1, None, 204843, 2, 8, "mg", [1], -30, "Ondansétron dans 50 mL NaCl 0,9 %", "IV"),
    (102, 1, 31, None, 1, 85, "mg/m2", [1], 0, "Dans 250 mL de G5%", "IV"),
    (103, 1, 6, None, 1, 400, "mg/m2", [1], 120, "Bolus dans 100 mL NaCl 0,9 %", "IV"),
    (201, 2, 41, None, 1, 175, "mg/m2", [1], 0, "Dans 500 mL NaCl 0,9 %", "IV"),
    (202, 2, 40, None, 1, 5, "AUC", [1], 180, "Dans 250 mL G5%", "IV"),
    (301, 3, 50, None, 1, 20, "mg/m2", [1, 8], 0, "Dans 100 mL NaCl 0,9 %", "IV"),
]


def load_snapshot(conn) -> None:
    backup = (TODAY - timedelta(days=1)).isoformat()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO snapshot_meta (id, backup_date, loaded_at, source_dir, counts_json, "
        "warnings_json) VALUES (1, ?, ?, 'tests', '{}', '[]')",
        (backup, backup + "T08:00:00+01:00"),
    )
    for mid, name, stab, rec, cmin, cmax, light, storage, dil, cont, dens, filt, left in MOLECULES:
        conn.execute(
            "INSERT INTO ref_molecules (molecule_id, name, stability_diluted_h, "
            "stability_reconst_h, conc_min_mg_ml, conc_max_mg_ml, light_protect, storage, "
            "diluents_json, containers_json, density, filter_um, leftover_reuse, "
            "dose_tolerance_pct, creatinine_required) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, 5, ?)",
            (
                mid,
                name,
                stab,
                rec,
                cmin,
                cmax,
                light,
                storage,
                json.dumps(dil),
                json.dumps(cont),
                dens,
                filt,
                left,
                1 if mid == 40 else 0,
            ),
        )
    for pid, name, mol, strength, volume in PRODUCTS:
        conn.execute(
            "INSERT INTO ref_products (product_id, name, molecule_id, strength_mg, volume_ml) "
            "VALUES (?, ?, ?, ?, ?)",
            (pid, name, mol, strength, volume),
        )
    for pid, name, cycle, default, mx in PROTOCOLS:
        conn.execute(
            "INSERT INTO ref_protocols (protocol_id, name, cycle_days, default_cycles, "
            "max_cycles) VALUES (?, ?, ?, ?, ?)",
            (pid, name, cycle, default, mx),
        )
    for lid, prot, mol, prod, typ, dose, unit, days, offset, comment, route in LINES:
        mask = "".join("O" if d in days else "N" for d in range(1, max(days) + 1))
        conn.execute(
            "INSERT INTO ref_protocol_lines (line_id, protocol_id, molecule_id, product_id, "
            "line_type, dose, unit_code, unit, route, duration_min, comment, day_mask, "
            "days_json, time_offset_min) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, 60, ?, ?, ?, ?)",
            (lid, prot, mol, prod, typ, dose, unit, route, comment, mask, json.dumps(days), offset),
        )
    conn.execute("COMMIT")


PEOPLE = {
    "DR1": ("Dr Claire Prescriptrice", "prescripteur"),
    "PH1": ("Anne Pharmacienne", "pharmacien"),
    "PH2": ("Marc Pharmacien", "pharmacien"),
    "PR1": ("Luc Préparateur", "préparateur"),
    "PR2": ("Léa Préparatrice", "préparateur"),
    "IDE1": ("Julie Infirmière", "infirmier"),
}

PATIENTS = [
    # key, protocol, birth_name, first_name, birth_date, sex, ipp, weight, height, creat
    ("martin", 1, "MARTIN", "Jeanne", "1958-04-12", "F", "9000101", 64.0, 165.0, 70.0),
    ("durand", 2, "DURAND", "Pierre", "1950-11-02", "M", "9000102", 78.0, 176.0, 85.0),
    ("leroy", 3, "LEROY", "Amina", "1971-06-20", "F", "9000103", 58.0, 160.0, 60.0),
]


def make_team(conn, admin):
    from oncosecours.services.users import create_user

    actors = {"ADM": admin}
    for initials, (name, role) in PEOPLE.items():
        actors[initials] = create_user(conn, admin, initials, name, role, "4826")
    return actors


def prescribe_and_validate(conn, team, patient_key_row, on=TODAY):
    """Create, include, prescribe (J1 = ``on``) and validate one patient. Returns the cure id."""
    from oncosecours.domain.checks import blocking_rules
    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.patients import create_patient
    from oncosecours.services.prescription import prescribe
    from oncosecours.services.validation import findings_for, validate_prescription

    key, protocol, birth, first, born, sex, ipp, weight, height, creat = patient_key_row
    person = create_patient(
        conn,
        team["DR1"],
        birth_name=birth,
        first_name=first,
        birth_date=born,
        sex=sex,
        ipp=ipp,
        ward="Hôpital de jour oncologie",
        weight_kg=weight,
        height_cm=height,
        creatinine_umol_l=creat,
        measured_on=on,
        today=on,
    )
    inclusion = include_patient(conn, team["DR1"], person["id"], protocol, on, today=on)
    cure_id = inclusion["cures"][0]["id"]
    draft = prescribe(conn, team["DR1"], cure_id, today=on)
    prescription_id = draft["prescription_id"]
    findings = findings_for(conn, prescription_id, today=on)
    validate_prescription(
        conn,
        team["PH1"],
        prescription_id,
        justifications={rule: "justifié pour le test" for rule in blocking_rules(findings)},
        today=on,
    )
    return cure_id


def make_day(conn, team):
    """Three patients whose first cure (J1 = TODAY) is prescribed and validated.

    Returns a namespace dict: conn, team, cures {key: cure_id}."""
    load_snapshot(conn)
    cures = {row[0]: prescribe_and_validate(conn, team, row) for row in PATIENTS}
    return {"conn": conn, "team": team, "cures": cures}


def lines_of(conn, cure_id, *, prepared_only=True, day=TODAY):
    from oncosecours.domain.production import needs_preparation

    rows = conn.execute(
        "SELECT pl.* FROM prescription_lines pl JOIN cures c ON c.prescription_id = "
        "pl.prescription_id WHERE c.id = ? AND pl.admin_date = ? ORDER BY pl.line_no",
        (cure_id, day.isoformat()),
    ).fetchall()
    return [
        dict(r)
        for r in rows
        if not prepared_only or needs_preparation(r["line_type"], r["route"], r["molecule_id"])
    ]


def lots_for(sheet, expiry="12/2027"):
    """Good lots for every vial product and the diluent of a preparation sheet."""
    lots = [
        {
            "kind": "flacon",
            "component": p["name"],
            "lot": f"L{p['product_id']}",
            "expiry": expiry,
            "quantity": p["count"],
            "product_id": p["product_id"],
        }
        for p in sheet["products"]
    ]
    if sheet["diluent"]:
        lots.append(
            {"kind": "diluant", "component": sheet["diluent"], "lot": "D001", "expiry": expiry}
        )
    return lots
