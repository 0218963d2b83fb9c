"""Pure rules of issue 17: units, leftovers as stock, tare, several bags (hand-computed values)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from oncosecours.domain.bags import split_dose
from oncosecours.domain.errors import OncoError
from oncosecours.domain.leftovers import (
    StockLeftover,
    leftover_use_by,
    propose_leftovers,
    why_not_usable,
)
from oncosecours.domain.tare import NO_TARE, container_tare, gross_target, typed_tare
from oncosecours.domain.units import convert, normalise_unit, preparation_unit

TZ = timezone(timedelta(hours=1))
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)


# --- units ------------------------------------------------------------------------------------


def test_conversions_are_exact_and_shown():
    assert convert(450, "µg", "mg").converted == pytest.approx(0.45)
    assert convert(1.5, "g", "mg").converted == pytest.approx(1500)
    assert convert(3, "MUI", "UI").converted == pytest.approx(3_000_000)
    assert convert(450, "µg", "mg").text() == "450 µg = 0,45 mg (1 µg = 0,001 mg)"
    assert convert(30000, "UI", "UI").text() == "30000 UI"


def test_mass_and_activity_are_never_converted():
    with pytest.raises(OncoError) as error:
        convert(15000, "UI", "mg")
    assert error.value.rule == "UNITE_INCOMPATIBLE"


@pytest.mark.parametrize(
    ("raw", "canonical"), [("μg", "µg"), ("mcg", "µg"), ("ui", "UI"), ("ml", "mL"), ("G", "g")]
)
def test_spellings(raw, canonical):
    assert normalise_unit(raw) == canonical


def test_undecoded_unit_names_product_and_code():
    with pytest.raises(OncoError) as error:
        preparation_unit(None, 42, "ASPARAGINASE")
    assert error.value.rule == "UNITE_NON_DECODEE"
    assert "ASPARAGINASE" in error.value.message and "code d'unité 42" in error.value.message
    assert "_dictionnaires.toml" in error.value.hint
    with pytest.raises(OncoError, match="« mg/m2 »"):
        preparation_unit("mg/m2", 2, "OXALIPLATINE")


# --- leftovers --------------------------------------------------------------------------------


def _left(id_, amount, use_by_h, lot="OX1", molecule_id=31, opened=T0):
    return StockLeftover(
        id=id_,
        molecule_id=molecule_id,
        molecule="OXALIPLATINE",
        product_id=3102,
        product="OXALIPLATINE 100 mg/20 mL",
        lot=lot,
        lot_expiry=date(2027, 6, 30),
        unit="mg",
        strength=100,
        vial_volume_ml=20,
        amount_left=amount,
        opened_at=opened,
        use_by=T0 + timedelta(hours=use_by_h),
    )


def test_use_by_is_opening_plus_stability_or_lot_expiry():
    at, reason = leftover_use_by(T0, 48, date(2027, 6, 30), "OXALIPLATINE")
    assert at == T0 + timedelta(hours=48) and "48 h" in reason
    at, reason = leftover_use_by(T0, 48, date(2026, 3, 2), "OXALIPLATINE")
    assert at == datetime(2026, 3, 3, 0, 0, tzinfo=TZ) and "péremption du lot" in reason
    with pytest.raises(OncoError, match="stabilité après ouverture inconnue"):
        leftover_use_by(T0, None, None, "X")


def test_least_waste_then_earliest_use_by():
    # need 30 mg: R1 (25 mg, late), R2 (25 mg, early) and R3 (40 mg) on the shelf.
    shelf = [_left(1, 25, 40), _left(2, 25, 20), _left(3, 40, 10)]
    proposal = propose_leftovers(shelf, 30, 31, T0 + timedelta(hours=1))
    # 25 mg leftovers are used up (no residue); of the two, R2 expires first. Then 5 mg more:
    # R1 would keep 20 mg, R3 35 mg: R1.
    assert [(p.leftover.id, p.take) for p in proposal.picks] == [(2, 25), (1, 5)]
    assert proposal.picks[0].volume_ml == pytest.approx(5.0)  # 25 mg at 5 mg/mL
    assert proposal.covered == 30


def test_past_use_by_other_lot_and_untraced_are_refused():
    now = T0 + timedelta(hours=30)
    shelf = [_left(1, 50, 24), _left(2, 50, 48, lot=None), _left(3, 50, 48, lot="OX9")]
    proposal = propose_leftovers(shelf, 50, 31, now, lots={"OXALIPLATINE 100 mg/20 mL": "OX1"})
    assert proposal.picks == ()
    reasons = dict((left.id, why) for left, why in proposal.refused)
    assert reasons[1].startswith("périmé depuis le 03/03/2026 à 08:00")
    assert reasons[2] == "lot du flacon non tracé"
    assert reasons[3] == "lot OX9 du reliquat différent du lot tracé OX1"
    # exactly at the use-by time: refused (strictly before only)
    assert why_not_usable(_left(4, 10, 30), 31, now) is not None
    assert why_not_usable(_left(5, 10, 30), 40, T0) == "reliquat de OXALIPLATINE, autre molécule"


# --- tare -------------------------------------------------------------------------------------


def test_gross_target_with_tolerance_on_the_content_only():
    table = {"Poche polyoléfine 250 mL": 31.5, "Poche polyoléfine": 28.0}
    tare = container_tare("poche  polyoléfine", 250, table)
    assert tare.grams == 31.5
    assert container_tare("Poche polyoléfine", 100, table).grams == 28.0
    assert container_tare("Seringue", 50, table) is NO_TARE
    # net 271,6 g (250 mL G5 × 1,017 + 17 mL × 1,0): gross 303,1 g, ± 5 % of 271,6 = 13,58 g
    target = gross_target(271.6, tare, 5.0)
    assert target.gross_g == pytest.approx(303.1)
    assert target.min_g == pytest.approx(289.52)
    assert target.max_g == pytest.approx(316.68)
    assert typed_tare(24.2).source == "pesée à la préparation : 24,2 g"
    with pytest.raises(OncoError, match="Tare impossible"):
        typed_tare(-3)


# --- several bags -----------------------------------------------------------------------------


def test_dose_over_the_max_concentration_is_split_in_equal_bags():
    # fluorouracile 5000 mg = 100 mL drawn, max 1,2 mg/mL, bags of 250 or 500 mL: with n bags of
    # 500 mL the concentration is (5000/n)/(500 + 100/n): n = 8 gives 625/512,5 = 1,2195 > 1,2,
    # n = 9 gives 555,6/511,1 = 1,087: 9 bags of 500 mL.
    bags = split_dose(
        5000,
        100,
        unit="mg",
        molecule="FLUOROURACILE",
        bag_sizes_ml=(250, 500),
        max_bag_volume_ml=1000,
        conc_min=None,
        conc_max=1.2,
        drug_density=1.0,
        diluent_density=1.005,
    )
    assert len(bags) == 9 and {b.bag_volume_ml for b in bags} == {500}
    assert bags[0].dose == pytest.approx(5000 / 9)
    assert bags[0].final_volume_ml == pytest.approx(500 + 100 / 9)
    assert bags[0].net_weight_g == pytest.approx(500 * 1.005 + 100 / 9)
    assert sum(b.dose for b in bags) == pytest.approx(5000)


def test_dose_over_the_max_volume_is_split():
    # 2000 mg paclitaxel-like: 333,3 mL drawn; bags ≤ 600 mL; range 0,3–1,2 mg/mL.
    # 1 bag: 500 + 333,3 = 833 mL > 600 ; 250 + 333 = 583 mL, 3,43 mg/mL > 1,2 ;
    # 2 bags: 250 + 166,7 = 416,7 mL, 1000/416,7 = 2,4 > 1,2 ; 500 + 166,7 = 666 > 600 ;
    # 3 bags: 500 + 111,1 = 611 > 600 ; 250 + 111,1 : 666,7/361,1 = 1,85 ;
    # 4 bags: 500 + 83,3 = 583,3 mL <= 600, 500/583,3 = 0,857 mg/mL -> 4 bags of 500 mL.
    bags = split_dose(
        2000,
        2000 / 6,
        unit="mg",
        molecule="PACLITAXEL",
        bag_sizes_ml=(250, 500),
        max_bag_volume_ml=600,
        conc_min=0.3,
        conc_max=1.2,
        drug_density=1.0,
        diluent_density=1.005,
    )
    assert (len(bags), bags[0].bag_volume_ml) == (4, 500)
    assert bags[0].concentration == pytest.approx(500 / (500 + 2000 / 24))


def test_impossible_split_is_refused():
    with pytest.raises(OncoError) as error:
        split_dose(
            10000,
            10,
            unit="mg",
            molecule="X",
            bag_sizes_ml=(50,),
            max_bag_volume_ml=60,
            conc_min=None,
            conc_max=0.5,
            drug_density=1.0,
            diluent_density=1.0,
        )
    assert error.value.rule == "POCHES_IMPOSSIBLE"
