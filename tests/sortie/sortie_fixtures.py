"""A production day for billing: liste-en-sus bags through the real services.

* MARTIN (FOLFOX): oxaliplatin is liste en sus, prescribed with its LES code, its vials have a
  UCD code in the backup: billable; fluorouracil is not liste en sus: never billed.
* DURAND (paclitaxel + carboplatin): paclitaxel becomes liste en sus in a later backup, after it
  was prescribed (so WITHOUT a LES code), and its vials have no UCD code: refused, both reasons.
* LEROY (doxorubicin): liste en sus, LES code, UCD code, released and dispensed but never
  administered: never billed, and a reconciliation break.
"""

from __future__ import annotations

import os
import subprocess
import sys

from production_fixtures import PATIENTS, TODAY, at, lines_of, load_snapshot, lots_for

UCD_OXALI = "3400890000011"
UCD_DOXO = "3400890000028"


def prescribe_validate(conn, team, row, les=None):
    from oncosecours.domain.checks import blocking_rules
    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.patients import create_patient
    from oncosecours.services.prescription import prescribe
    from oncosecours.services.validation import findings_for, validate_prescription

    key, protocol, birth, first, born, sex, ipp, weight, height, creat = row
    person = create_patient(conn, team["DR1"], birth_name=birth, first_name=first,
                            birth_date=born, sex=sex, ipp=ipp, ward="HDJ", weight_kg=weight,
                            height_cm=height, creatinine_umol_l=creat, measured_on=TODAY,
                            today=TODAY)  # fmt: skip
    inclusion = include_patient(conn, team["DR1"], person["id"], protocol, TODAY, today=TODAY)
    cure_id = inclusion["cures"][0]["id"]
    draft = prescribe(conn, team["DR1"], cure_id, today=TODAY, les_codes=les or {})
    findings = findings_for(conn, draft["prescription_id"], today=TODAY)
    validate_prescription(
        conn, team["PH1"], draft["prescription_id"],
        justifications={rule: "justifié pour le test" for rule in blocking_rules(findings)},
        today=TODAY,
    )  # fmt: skip
    return cure_id


def billing_day(conn, team) -> dict:
    """The three patients above, every bag prepared, controlled, released and dispensed; every bag
    but LEROY's administered. Returns {patient key: [ord numbers]} and the cures."""
    from oncosecours.services.administration import administer
    from oncosecours.services.dispensing import dispense
    from oncosecours.services.go_ahead import give_go_ahead
    from oncosecours.services.preparation import prepare, record_lots
    from oncosecours.services.release import control_preparation, release_preparation

    load_snapshot(conn)
    # what the Chimio backup says (the refresh owns these tables; written here as it would)
    conn.execute("UPDATE ref_molecules SET liste_en_sus = 1 WHERE molecule_id IN (31, 50)")
    conn.execute("UPDATE ref_products SET ucd13 = ? WHERE molecule_id = 31", (UCD_OXALI,))
    conn.execute("UPDATE ref_products SET ucd13 = ? WHERE molecule_id = 50", (UCD_DOXO,))
    rows = {r[0]: r for r in PATIENTS}
    cures = {
        "martin": prescribe_validate(conn, team, rows["martin"], {"OXALIPLATINE": "I999999"}),
        "durand": prescribe_validate(conn, team, rows["durand"]),
        "leroy": prescribe_validate(conn, team, rows["leroy"], {"DOXORUBICINE": "I999998"}),
    }
    # a later backup lists paclitaxel as liste en sus: DURAND's line has no LES code
    conn.execute("UPDATE ref_molecules SET liste_en_sus = 1 WHERE molecule_id = 41")
    numbers: dict[str, list[str]] = {}
    minute = 0
    for key, cure_id in cures.items():
        give_go_ahead(conn, team["DR1"], cure_id, now=at(8, len(numbers)))
        for line in lines_of(conn, cure_id):
            minute += 3
            draft = prepare(conn, team["PR1"], line["id"], now=at(9, minute))
            sheet = record_lots(conn, team["PR1"], draft["ord_number"], lots_for(draft),
                                now=at(9, minute + 1))  # fmt: skip
            control_preparation(conn, team["PR2"], sheet["id"], sheet["target_weight_g"],
                                visual_ok=True, now=at(10, minute % 60))  # fmt: skip
            release_preparation(conn, team["PH1"], sheet["id"], now=at(11, minute % 60))
            dispense(conn, team["PR1"], sheet["ord_number"], recipient="IDE Julie",
                     now=at(12, minute % 60))  # fmt: skip
            numbers.setdefault(key, []).append(sheet["ord_number"])
    for key in ("martin", "durand"):
        for i, number in enumerate(numbers[key]):
            administer(conn, team["IDE1"], preparation=number, started_at=at(13, i),
                       ended_at=at(14, i), access="PAC", now=at(15))  # fmt: skip
    return {"cures": cures, "numbers": numbers}


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``oncosecours ARGS`` in a fresh process, with the test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "oncosecours", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
