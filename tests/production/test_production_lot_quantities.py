"""Lot quantities must match the vials the plan opens (rule LOT_QUANTITE), at preparation and
when the lots are recorded later; a single lot without quantity takes the number opened."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from production_fixtures import at, lines_of, lots_for

from oncosecours.domain.errors import OncoError
from oncosecours.domain.production import (
    Lot,
    check_lots,
    lot_quantity_problems,
    parse_lot_text,
)
from oncosecours.services.go_ahead import give_go_ahead
from oncosecours.services.preparation import prepare, record_lots
from oncosecours.services.preparation_queries import preparation_sheet
from oncosecours.services.release import control_preparation

TZ = timezone(timedelta(hours=1))
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
USE_BY = T0 + timedelta(hours=24)
CARBO = "CARBOPLATINE 450 mg/45 mL"
REQUIRED = [("flacon", CARBO), ("diluant", "Glucose 5 %")]
DILUENT = Lot("diluant", "Glucose 5 %", "G77", date(2027, 6, 30))


def _vial(lot="C1", quantity=None, component=CARBO):
    return Lot("flacon", component, lot, date(2027, 6, 30), quantity)


# --- the pure rule --------------------------------------------------------------------------------


def test_cli_lot_without_quantity_is_not_one_by_default():
    assert parse_lot_text(f"flacon:{CARBO}:C1:06/2027").quantity is None
    assert parse_lot_text(f"flacon:{CARBO}:C1:06/2027:2").quantity == 2


def test_seven_vials_typed_for_one_opened_is_refused_with_the_values():
    with pytest.raises(OncoError) as info:
        check_lots([_vial(quantity=7), DILUENT], REQUIRED, T0, USE_BY, {CARBO: 1})
    assert info.value.rule == "LOT_QUANTITE"
    text = str(info.value)
    assert CARBO in text and "1 flacon ouvert" in text and "saisie 7" in text and "C1 × 7" in text


@pytest.mark.parametrize("opened", [1, 2, 5])
def test_a_single_lot_without_quantity_takes_the_vials_opened(opened):
    lots = check_lots([_vial(), DILUENT], REQUIRED, T0, USE_BY, {CARBO: opened})
    assert [(lot.kind, lot.quantity) for lot in lots] == [("flacon", opened), ("diluant", 1)]


def test_split_lots_must_add_up():
    lots = check_lots([_vial("C1", 3), _vial("C2", 2), DILUENT], REQUIRED, T0, USE_BY, {CARBO: 5})
    assert sum(lot.quantity for lot in lots if lot.kind == "flacon") == 5
    with pytest.raises(OncoError, match=r"5 flacons ouverts.*saisies 4 \(lot C1 × 3, lot C2 × 1\)"):
        check_lots([_vial("C1", 3), _vial("C2", 1), DILUENT], REQUIRED, T0, USE_BY, {CARBO: 5})


def test_several_lots_without_quantity_are_refused():
    with pytest.raises(OncoError) as info:
        check_lots([_vial("C1"), _vial("C2", 1), DILUENT], REQUIRED, T0, USE_BY, {CARBO: 2})
    assert info.value.rule == "LOT_QUANTITE"
    assert "sans quantité" in str(info.value) and "lot C1 × ?" in str(info.value)


def test_a_lot_for_a_product_not_in_the_plan_names_what_is_expected():
    with pytest.raises(OncoError) as info:
        check_lots(
            [_vial(), _vial("X9", 2, component="CARBOPLATINE 150 mg/15 mL"), DILUENT],
            REQUIRED,
            T0,
            USE_BY,
            {CARBO: 1},
        )
    assert info.value.rule == "LOT_INCONNU"
    text = str(info.value)
    assert "CARBOPLATINE 150 mg/15 mL" in text and "X9 × 2" in text
    assert f"« {CARBO} » (1 flacon)" in text


def test_quantity_problems_ignore_a_product_without_lot():
    assert lot_quantity_problems([], {CARBO: 2}) == []  # reported as LOTS_MANQUANTS instead


# --- through the services ---------------------------------------------------------------------


def _carbo(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["durand"], now=at(8))
    return next(
        line for line in lines_of(conn, cures["durand"]) if line["molecule_name"] == "CARBOPLATINE"
    )


def _typed(sheet, quantity):
    lots = lots_for(sheet)
    for lot in lots:
        if lot["kind"] == "flacon":
            if quantity is None:
                lot.pop("quantity")
            else:
                lot["quantity"] = quantity
    return lots


def test_prepare_refuses_a_quantity_that_is_not_the_vials_opened_and_writes_nothing(day):
    conn, team = day["conn"], day["team"]
    line = _carbo(day)
    draft = prepare(conn, team["PR1"], line["id"], now=at(9))  # to learn the plan
    opened = {p["name"]: p["count"] for p in draft["products"]}
    assert sum(opened.values()) >= 1
    wrong = _typed(draft, None)
    for lot in wrong:
        if lot["kind"] == "flacon":
            lot["quantity"] = opened[lot["component"]] + 6
    before = conn.execute("SELECT count(*) FROM preparation_lots").fetchone()[0]
    with pytest.raises(OncoError) as info:
        record_lots(conn, team["PR1"], draft["id"], wrong, now=at(9, 1))
    assert info.value.rule == "LOT_QUANTITE"
    name = next(iter(opened))
    assert name in str(info.value) and f"{opened[name]} flacon" in str(info.value)
    assert conn.execute("SELECT count(*) FROM preparation_lots").fetchone()[0] == before
    # the same lots typed without quantity: the preparation's vials are counted
    sheet = record_lots(conn, team["PR1"], draft["id"], _typed(draft, None), now=at(9, 2))
    assert sheet["lots_complete"]
    recorded = {
        lot["component"]: lot["quantity"] for lot in sheet["lots"] if lot["kind"] == "flacon"
    }
    assert recorded == opened


def test_prepare_with_lots_checks_the_quantities_too(day):
    conn, team = day["conn"], day["team"]
    line = _carbo(day)
    draft = prepare(conn, team["PR1"], line["id"], now=at(9))
    from oncosecours.services.preparation import cancel_preparation

    cancel_preparation(conn, team["PR1"], draft["id"], "essai", now=at(9, 1))
    numbers = conn.execute("SELECT count(*) FROM preparations").fetchone()[0]
    with pytest.raises(OncoError, match="LOT_QUANTITE|flacon") as info:
        prepare(conn, team["PR1"], line["id"], lots=_typed(draft, 7), now=at(9, 2))
    assert "LOT_QUANTITE" in info.value.rule
    assert conn.execute("SELECT count(*) FROM preparations").fetchone()[0] == numbers  # no number
    again = prepare(conn, team["PR1"], line["id"], lots=_typed(draft, None), now=at(9, 3))
    assert again["lots_complete"]


def test_an_opened_leftover_vial_counts_among_the_vials(day):
    """A vial of the plan taken from a leftover opened earlier (lot with its opening time) is
    one of the vials opened: a new lot of the same product on top of it is one too many."""
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    oxali = lines_of(conn, cures["martin"])[0]
    draft = prepare(conn, team["PR1"], oxali["id"], now=at(9))
    lots = _typed(draft, None)
    vial = next(lot for lot in lots if lot["kind"] == "flacon")
    count = next(p["count"] for p in draft["products"] if p["name"] == vial["component"])
    leftover = dict(vial, lot="OLD1", quantity=1, opened_at="2026-03-02T07:00:00+01:00")
    vial["quantity"] = count
    with pytest.raises(OncoError) as info:
        record_lots(conn, team["PR1"], draft["id"], [leftover, *lots], now=at(9, 1))
    assert info.value.rule == "LOT_QUANTITE" and f"saisies {count + 1}" in str(info.value)
    if count > 1:
        vial["quantity"] = count - 1
    else:
        lots.remove(vial)
    sheet = record_lots(conn, team["PR1"], draft["id"], [leftover, *lots], now=at(9, 2))
    assert sheet["lots_complete"]
    assert sheet["lots"][0]["opened_at"] == "2026-03-02T07:00:00+01:00"
    mine = [lot for lot in sheet["lots"] if lot["component"] == vial["component"]]
    assert sum(lot["quantity"] for lot in mine) == count


def test_a_register_with_wrong_quantities_is_not_complete_and_cannot_be_controlled(day):
    """Lots written before the rule (raw insert) with a wrong quantity: not complete."""
    conn, team = day["conn"], day["team"]
    line = _carbo(day)
    draft = prepare(conn, team["PR1"], line["id"], now=at(9))
    conn.execute("BEGIN IMMEDIATE")
    for lot in _typed(draft, 9):
        conn.execute(
            "INSERT INTO preparation_lots (preparation_id, kind, component, lot, expiry, "
            "quantity, recorded_by, recorded_at) VALUES (?, ?, ?, ?, '2027-12-31', ?, ?, ?)",
            (
                draft["id"],
                lot["kind"],
                lot["component"],
                lot["lot"],
                lot.get("quantity") or 1,
                team["PR1"].id,
                "2026-03-02T09:01:00+01:00",
            ),
        )
    conn.execute("COMMIT")
    assert not preparation_sheet(conn, draft["id"])["lots_complete"]
    with pytest.raises(OncoError) as info:
        control_preparation(
            conn, team["PR2"], draft["id"], draft["target_weight_g"], visual_ok=True, now=at(10)
        )
    assert info.value.rule == "LOTS_MANQUANTS"
