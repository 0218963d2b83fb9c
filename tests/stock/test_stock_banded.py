"""Dose-banded batch: three bags of oxaliplatin 150 mg prepared ahead, one assigned to a
patient's line with its own ordonnancier number, then controlled and released."""

from __future__ import annotations

import pytest
from production_fixtures import lots_for
from stock_fixtures import at, dump, go, line_of, next_day, patient_on

from oncosecours.domain.errors import OncoError
from oncosecours.services.banded import assign_bag, batch_view, make_batch
from oncosecours.services.preparation import prepare
from oncosecours.services.preparation_plan import preview
from oncosecours.services.release import control_preparation, release_preparation
from oncosecours.store.ordonnancier import check_sequence

LOTS = [
    {"kind": "flacon", "component": "OXALIPLATINE 100 mg/20 mL", "lot": "A1", "expiry": "12/2027", "quantity": 4},
    {"kind": "flacon", "component": "OXALIPLATINE 50 mg/10 mL", "lot": "A2", "expiry": "12/2027", "quantity": 1},
    {"kind": "diluant", "component": "Glucose 5 %", "lot": "G1", "expiry": "12/2027"},
]  # fmt: skip


def _batch(conn, team):
    # 3 × 150 mg = 450 mg = 4 × 100 mg + 1 × 50 mg (no waste); one bag: 150 mg = 30 mL in
    # 250 mL G5, 280 mL, 0,536 mg/mL ; net 250 × 1,017 + 30 = 284,25 g
    return make_batch(conn, team["PR1"], 31, 150, "mg", 3, lots=LOTS, now=at(7))


def test_a_banded_bag_assigned_gets_its_own_number(snapshot, team):
    conn = snapshot
    batch = _batch(conn, team)
    assert [(p["name"], p["count"]) for p in batch["products"]] == [
        ("OXALIPLATINE 100 mg/20 mL", 4),
        ("OXALIPLATINE 50 mg/10 mL", 1),
    ]
    assert batch["drug_volume_ml"] == pytest.approx(30)
    assert batch["final_volume_ml"] == pytest.approx(280)
    assert batch["target_weight_g"] == pytest.approx(284.25)
    assert [b["state"] for b in batch["bags"]] == ["available"] * 3
    assert conn.execute("SELECT count(*) FROM preparations").fetchone()[0] == 0  # not yet

    cure = patient_on(conn, team, "oxali150", 0)
    go(conn, team, cure, 9)
    line = line_of(conn, cure)
    sheet = assign_bag(conn, team["PR2"], batch["id"], line["id"], now=at(10))
    assert sheet["ord_number"] == "2026-000001"
    assert (sheet["patient_birth_name"], sheet["dose"], sheet["unit"]) == ("DUPONT", 150, "mg")
    assert sheet["prepared_by_initials"] == "PR1"  # who compounded the batch
    assert sheet["banded_bag_id"] == batch["bags"][0]["id"]
    assert {lot["lot"] for lot in sheet["lots"]} == {"A1", "A2", "G1"}
    assert sheet["lots_complete"]
    assert any("Poche 1/3 du lot standardisé n° 1" in f["message"] for f in sheet["findings"])
    assert batch_view(conn, batch["id"])["bags"][0]["ord_number"] == "2026-000001"

    # a regular preparation afterwards takes the next number: the register stays gapless
    other = patient_on(conn, team, "oxali", 1)
    go(conn, team, other, 9)
    regular = line_of(conn, other)
    plan = preview(conn, regular["id"], now=at(10, 30))
    second = prepare(conn, team["PR1"], regular["id"], lots=lots_for(plan), now=at(10, 30))
    assert second["ord_number"] == "2026-000002"
    assert check_sequence(conn).ok

    # the bag goes on like any preparation
    control_preparation(conn, team["PR1"], "2026-000001", 284.0, visual_ok=True, now=at(11))
    release_preparation(conn, team["PH2"], "2026-000001", now=at(11, 30))
    state = conn.execute("SELECT state FROM preparations WHERE ord_number = '2026-000001'")
    assert state.fetchone()[0] == "released"


def test_assignment_refused_for_another_dose_or_past_use_by(snapshot, team):
    conn = snapshot
    batch = _batch(conn, team)
    cure = patient_on(conn, team, "oxali", 0)  # 130 mg
    go(conn, team, cure, 9)
    line = line_of(conn, cure)
    before = dump(conn)
    with pytest.raises(OncoError) as error:
        assign_bag(conn, team["PR2"], batch["id"], line["id"], now=at(10))
    assert error.value.rule == "BANDE_DOSE"
    assert "130 mg" in error.value.message and "150 mg" in error.value.message
    assert dump(conn) == before
    # the next day at 8:00 the batch (24 h after 7:00) is past its use-by
    late = patient_on(conn, team, "oxali150", 1, on=next_day(1))
    go(conn, team, late, 7, next_day(1))
    late_line = line_of(conn, late)
    before = dump(conn)
    with pytest.raises(OncoError) as error:
        assign_bag(conn, team["PR2"], batch["id"], late_line["id"], now=at(8, 0, next_day(1)))
    assert error.value.rule == "BANDE_PERIMEE"
    assert dump(conn) == before


def test_a_batch_needs_its_lots(snapshot, team):
    conn = snapshot
    before = dump(conn)
    with pytest.raises(OncoError) as error:
        make_batch(conn, team["PR1"], 31, 150, "mg", 3, lots=LOTS[:2], now=at(7))
    assert "LOTS_MANQUANTS" in error.value.rule
    assert dump(conn) == before
