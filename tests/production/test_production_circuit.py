"""The second half of the circuit on one day, for three patients, through the services."""

from __future__ import annotations

import sqlite3

import pytest
from production_fixtures import TODAY, at, lines_of, lots_for

from oncosecours.services.administration import administer
from oncosecours.services.day_status import day_status
from oncosecours.services.dispensing import dispense
from oncosecours.services.go_ahead import give_go_ahead, waiting_cures, withhold_go_ahead
from oncosecours.services.preparation import cancel_preparation, prepare, record_lots
from oncosecours.services.preparation_queries import ordonnancier_rows, preparation_sheet
from oncosecours.services.release import (
    control_preparation,
    reject_preparation,
    release_preparation,
)
from oncosecours.store import audit
from oncosecours.store.ordonnancier import check_sequence


def _states(conn, cure_id=None):
    rows = day_status(conn, TODAY, now=at(12))
    return {r["line_id"]: r["state"] for r in rows if cure_id is None or r["cure_id"] == cure_id}


def test_full_day_for_three_patients(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]

    # morning: everything validated, waiting for the go-ahead
    waiting = waiting_cures(conn, TODAY)
    assert sorted(w["cure_id"] for w in waiting) == sorted(cures.values())
    assert set(_states(conn).values()) == {"validated"}
    rows = day_status(conn, TODAY, now=at(7))
    assert all(r["blocking"] == "attend le feu vert du prescripteur" for r in rows)
    assert all(r["steps"]["validated"]["by"] == "PH1" for r in rows)

    # the go-ahead: withheld for LEROY at 8:00 (counts pending), given at 10:00
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    give_go_ahead(conn, team["DR1"], cures["durand"], now=at(8, 5))
    withhold_go_ahead(
        conn, team["DR1"], cures["leroy"], "PNN à 0,9 G/L, contrôle à 10 h", now=at(8)
    )
    leroy_rows = [r for r in day_status(conn, TODAY) if r["cure_id"] == cures["leroy"]]
    assert {r["state"] for r in leroy_rows} == {"withheld"}
    assert "PNN" in leroy_rows[0]["blocking"]

    # preparation of every compounded line of MARTIN and DURAND
    sheets = []
    minute = 0
    for key in ("martin", "durand"):
        for line in lines_of(conn, cures[key]):
            minute += 5
            draft = prepare(conn, team["PR1"], line["id"], now=at(9, minute))
            assert draft["lots"] == [] and not draft["lots_complete"]
            sheet = record_lots(
                conn, team["PR1"], draft["ord_number"], lots_for(draft), now=at(9, minute + 1)
            )
            assert sheet["lots_complete"]
            sheets.append(sheet)
    give_go_ahead(conn, team["DR1"], cures["leroy"], now=at(10))
    (doxo_line,) = lines_of(conn, cures["leroy"])
    probe = prepare(conn, team["PR2"], doxo_line["id"], lots=None, now=at(10, 5))
    doxo = record_lots(conn, team["PR2"], probe["id"], lots_for(probe), now=at(10, 6))
    sheets.append(doxo)

    numbers = [s["ord_number"] for s in sheets]
    assert numbers == [f"2026-{n:06d}" for n in range(1, len(sheets) + 1)]
    assert len(sheets) == 5  # oxaliplatin, 5-FU, paclitaxel, carboplatin, doxorubicin

    # what the fiche needs is recorded
    oxali = sheets[0]
    assert oxali["molecule_name"] == "OXALIPLATINE" and oxali["diluent"] == "Glucose 5 %"
    assert oxali["final_volume_ml"] == pytest.approx(
        oxali["diluent_volume_ml"] + oxali["drug_volume_ml"]
    )
    assert oxali["final_conc_mg_ml"] == pytest.approx(oxali["dose"] / oxali["final_volume_ml"])
    assert sum(p["count"] * p["strength_mg"] for p in oxali["products"]) >= oxali["dose"]
    assert oxali["prepared_at"] == "2026-03-02T09:05:00+01:00"
    assert oxali["use_by"] == "2026-03-03T09:05:00+01:00"  # oxaliplatin: 24 h after dilution
    assert "24 h" in oxali["use_by_reason"]
    assert oxali["weight_min_g"] < oxali["target_weight_g"] < oxali["weight_max_g"]
    assert oxali["tolerance_pct"] == 5.0
    pacli = sheets[2]
    assert pacli["filter_um"] == 0.22 and pacli["container"] == "Poche polyoléfine sans PVC"
    assert doxo["light_protect"] is True and doxo["storage"] == "2-8 °C"
    assert {(r["ord_number"]) for r in ordonnancier_rows(conn, TODAY, TODAY)} == set(numbers)

    # control: one bag out of tolerance (flagged), one with a double check
    for i, sheet in enumerate(sheets):
        weight = sheet["target_weight_g"] * (1.08 if i == 1 else 1.01)
        result = control_preparation(
            conn,
            team["PR2"] if sheet["prepared_by_initials"] == "PR1" else team["PR1"],
            sheet["id"],
            round(weight, 1),
            visual_ok=True,
            double_checker="PH2" if i == 0 else None,
            now=at(11, i),
        )
        assert ("HORS_TOLERANCE" in result["flags"]) == (i == 1)
    assert (
        "poids hors tolérance"
        in next(r for r in day_status(conn, TODAY, now=at(11, 30)) if r["number"] == numbers[1])[
            "flags"
        ]
    )

    # release by a pharmacist who did not prepare; justification for the out-of-tolerance bag
    for i, sheet in enumerate(sheets):
        release_preparation(
            conn,
            team["PH1"],
            sheet["id"],
            justification="recontrôle volumétrique conforme, écart dû au suremplissage"
            if i == 1
            else None,
            now=at(11, 40 + i),
        )
    # dispensing then administration
    for i, sheet in enumerate(sheets):
        dispense(conn, team["PR1"], sheet["ord_number"], recipient="IDE Julie", now=at(12, i))
    incidents = {numbers[3]: ["reaction:frissons, perfusion ralentie"]}
    for i, sheet in enumerate(sheets):
        administer(
            conn,
            team["IDE1"],
            preparation=sheet["ord_number"],
            started_at=at(12, 30 + i),
            ended_at=at(14, i),
            incidents=incidents.get(sheet["ord_number"], ()),
            access="PAC",
            now=at(15),
        )
    # the supportive line of MARTIN (ondansetron) has no bag: administered after the go-ahead
    support = [
        r for r in lines_of(conn, cures["martin"], prepared_only=False) if r["line_type"] != 1
    ]
    assert support
    for line in support:
        administer(
            conn, team["IDE1"], line_id=line["id"], started_at="12:00", ended_at="12:15", now=at(15)
        )

    rows = day_status(conn, TODAY, now=at(16))
    assert {r["state"] for r in rows} == {"administered"}
    assert all(r["blocking"] is None for r in rows)
    carbo = next(r for r in rows if r["number"] == numbers[3])
    assert carbo["steps"]["administered"]["incidents"][0]["kind"] == "reaction"
    assert carbo["steps"]["released"]["by"] == "PH1"
    assert carbo["steps"]["dispensed"]["recipient"] == "IDE Julie"
    assert carbo["steps"]["go_ahead"]["by"] == "DR1"

    # the register, by date, patient and drug
    by_date = ordonnancier_rows(conn, TODAY, TODAY, "date")
    assert [r["ord_number"] for r in by_date] == numbers
    by_patient = [r["patient_birth_name"] for r in ordonnancier_rows(conn, TODAY, TODAY, "patient")]
    assert by_patient == sorted(by_patient) and by_patient[0] == "DURAND"
    by_drug = [r["molecule_name"] for r in ordonnancier_rows(conn, TODAY, TODAY, "drug")]
    assert by_drug == sorted(by_drug)
    assert all(r["lots_text"] for r in by_date)
    assert check_sequence(conn).ok
    assert audit.verify(conn).ok
    sheet = preparation_sheet(conn, numbers[3])
    assert sheet["administration"]["incidents"][0]["comment"] == "frissons, perfusion ralentie"
    assert sheet["control"]["in_tolerance"] == 1 and sheet["release"]["decision"] == "released"


def test_cancelled_and_rejected_keep_their_numbers(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    oxali, fluo = lines_of(conn, cures["martin"])
    first = prepare(conn, team["PR1"], oxali["id"], now=at(9))
    first = record_lots(conn, team["PR1"], first["id"], lots_for(first), now=at(9, 1))
    cancel_preparation(conn, team["PR1"], first["ord_number"], "poche percée", now=at(9, 2))
    second = prepare(conn, team["PR1"], oxali["id"], lots=lots_for(first), now=at(9, 3))
    assert (first["ord_number"], second["ord_number"]) == ("2026-000001", "2026-000002")
    control_preparation(conn, team["PR2"], second["id"], 1.0, visual_ok=True, now=at(9, 10))
    reject_preparation(
        conn, team["PH1"], second["id"], "poids très inférieur : erreur de volume", now=at(9, 20)
    )
    status = next(r for r in day_status(conn, TODAY, now=at(9, 21)) if r["line_id"] == oxali["id"])
    assert status["state"] == "go_ahead" and "2026-000002 refusée" in status["blocking"]
    third = prepare(conn, team["PR1"], oxali["id"], lots=lots_for(first), now=at(9, 30))
    assert third["ord_number"] == "2026-000003"
    rows = ordonnancier_rows(conn, TODAY, TODAY)
    assert [(r["ord_number"], r["state"]) for r in rows] == [
        ("2026-000001", "cancelled"),
        ("2026-000002", "rejected"),
        ("2026-000003", "prepared"),
    ]
    assert rows[0]["cancelled"] and rows[0]["cancel_reason"] == "poche percée"
    assert check_sequence(conn).ok and audit.verify(conn).ok


def test_use_by_is_shortened_by_an_opened_leftover_vial(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    oxali = lines_of(conn, cures["martin"])[0]
    draft = prepare(conn, team["PR1"], oxali["id"], now=at(9))
    lots = lots_for(draft)
    lots[0]["opened_at"] = "2026-03-01T20:00:00+01:00"  # oxaliplatin: 48 h after reconstitution
    sheet = record_lots(conn, team["PR1"], draft["id"], lots, now=at(9, 5))
    assert sheet["use_by"] == "2026-03-03T09:00:00+01:00"  # 24 h dilution still the earliest
    lots[0]["opened_at"] = "2026-02-28T12:00:00+01:00"  # leftover good until 2026-03-02 12:00
    sheet = record_lots(conn, team["PR1"], draft["id"], lots, now=at(9, 6))
    assert sheet["use_by"] == "2026-03-02T12:00:00+01:00" and "ouvert" in sheet["use_by_reason"]


def test_store_refuses_edits_of_the_register_behind_the_back(day, store_path):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    line = lines_of(conn, cures["martin"])[0]
    sheet = prepare(conn, team["PR1"], line["id"], now=at(9))
    sheet = record_lots(conn, team["PR1"], sheet["id"], lots_for(sheet), now=at(9, 1))
    control_preparation(
        conn, team["PR2"], sheet["id"], sheet["target_weight_g"], visual_ok=True, now=at(9, 5)
    )
    from pg_engine import outsider

    raw = outsider(store_path)
    for sql, message in [
        ("UPDATE preparations SET ord_number = '2026-999999'", "ne se modifie pas"),
        ("UPDATE preparations SET dose = dose * 2", "ne se modifie pas"),
        (
            "UPDATE preparations SET use_by = '2030-01-01T00:00:00+01:00'",
            "date limite non modifiable",
        ),
        ("UPDATE preparations SET state = 'administered'", "changement d'état interdit"),
        ("DELETE FROM preparations", "ne se supprime pas"),
        ("UPDATE preparation_lots SET lot = 'X'", "lot non modifiable"),
        ("DELETE FROM preparation_lots", "lots non modifiables"),
        ("UPDATE preparation_controls SET in_tolerance = 1", "non modifiable"),
        ("DELETE FROM go_aheads", "non modifiable"),
    ]:
        with pytest.raises(sqlite3.DatabaseError, match=message):
            raw.execute(sql)
    columns = [r[1] for r in raw.execute("PRAGMA table_info(preparations)")][1:]
    values = raw.execute(f"SELECT {', '.join(columns)} FROM preparations").fetchone()
    row = dict(zip(columns, values, strict=True))
    row.update(ord_seq=5, ord_number="2026-000005", state="prepared")
    with pytest.raises(sqlite3.DatabaseError, match="non consécutif"):
        raw.execute(
            f"INSERT INTO preparations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    raw.close()


def test_numbering_restarts_each_year_or_continues(conn, team, tmp_path):
    """A cure J1 on 31/12 and J8 on 07/01: the January bag is n° 1 of the new year."""
    from datetime import date

    import production_fixtures as c

    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.patients import create_patient
    from oncosecours.services.prescription import prescribe
    from oncosecours.services.validation import validate_prescription
    from oncosecours.settings import load_settings

    c.load_snapshot(conn)
    j1 = date(2026, 12, 31)
    person = create_patient(
        conn,
        team["DR1"],
        birth_name="NOËL",
        first_name="Léon",
        birth_date="1960-01-01",
        sex="M",
        ward="HDJ",
        weight_kg=70.0,
        height_cm=175.0,
        creatinine_umol_l=80.0,
        measured_on=j1,
        today=j1,
    )
    cure = include_patient(conn, team["DR1"], person["id"], 3, j1, today=j1)["cures"][0]["id"]
    pid = prescribe(conn, team["DR1"], cure, today=j1)["prescription_id"]
    validate_prescription(conn, team["PH1"], pid, today=j1)
    j1_line, j8_line = [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM prescription_lines WHERE prescription_id = ? ORDER BY day", (pid,)
        )
    ]
    continuous = tmp_path / "continu.toml"
    continuous.write_text(
        '[production]\nremise_a_zero_annuelle = false\nformat_ordonnancier = "URC-{numero:07d}"\n'
    )
    yearly = load_settings()
    give_go_ahead(conn, team["DR1"], cure, j1, now=at(8, day=j1))
    first = prepare(conn, team["PR1"], j1_line["id"], settings=yearly, now=at(9, day=j1))
    j8 = date(2027, 1, 7)
    give_go_ahead(conn, team["DR1"], cure, j8, now=at(8, day=j8))
    second = prepare(conn, team["PR1"], j8_line["id"], settings=yearly, now=at(9, day=j8))
    assert (first["ord_number"], second["ord_number"]) == ("2026-000001", "2027-000001")
    cancel_preparation(conn, team["PR1"], second["id"], "test", now=at(9, 1, day=j8))
    third = prepare(
        conn, team["PR1"], j8_line["id"], settings=load_settings(continuous), now=at(9, 2, day=j8)
    )
    assert third["ord_number"] == "URC-0000001" and third["ord_scope"] == "continu"
    report = check_sequence(conn)
    assert report.ok and report.series == {"2026": 1, "2027": 1, "continu": 1}
