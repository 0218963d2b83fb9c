"""Compounding arithmetic: vials, leftovers, bag, concentration range, gravimetric target."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncosecours.domain.errors import OncoError
from oncosecours.dosing import (
    Leftover,
    MoleculeCompounding,
    VialProduct,
    choose_vials,
    diluent_density,
    plan_compounding,
)

NOW = datetime(2026, 3, 2, 9, 30)
OXALI_50 = VialProduct("Oxaliplatine 50 mg/10 mL", 50, 10)
OXALI_100 = VialProduct("Oxaliplatine 100 mg/20 mL", 100, 20)
# Oxaliplatin: glucose 5 % only, 0.2–0.7 mg/mL (SmPC), leftovers kept 48 h here (example).
OXALIPLATIN = MoleculeCompounding(
    "oxaliplatine",
    concentration_min_mg_ml=0.2,
    concentration_max_mg_ml=0.7,
    diluents=("Glucose 5 %",),
    leftover_stability_hours=48,
)
PACLI_300 = VialProduct("Paclitaxel 300 mg/50 mL", 300, 50)
PACLITAXEL = MoleculeCompounding("paclitaxel", 0.3, 1.2, diluents=("NaCl 0,9 %", "Glucose 5 %"))


def test_vials_volume_bag_and_target_weight():
    plan = plan_compounding(170, [OXALI_50, OXALI_100], OXALIPLATIN, diluent="Glucose 5 %", now=NOW)
    # 2 × 100 mg and 100 + 50 + 50 both waste 30 mg: the fewest vials win.
    assert plan.vials == ((OXALI_100.name, 100, 20, 2, pytest.approx(34.0)),)
    assert plan.vial_count == 2
    assert plan.draw_volume_ml == pytest.approx(34.0)  # 170 mg at 5 mg/mL
    # 100 mL bag: 170 / 134 = 1.27 mg/mL > 0.7; 250 mL bag: 170 / 284 = 0.60 mg/mL in range
    assert plan.bag_volume_ml == 250
    assert plan.final_volume_ml == pytest.approx(284)
    assert plan.final_concentration_mg_ml == pytest.approx(170 / 284)
    assert plan.diluent_density_g_ml == 1.017
    assert plan.target_weight_g == pytest.approx(250 * 1.017 + 34 * 1.0)
    assert plan.weight_min_g == pytest.approx(plan.target_weight_g * 0.95)
    assert plan.weight_max_g == pytest.approx(plan.target_weight_g * 1.05)
    assert plan.added_weight_g == pytest.approx(34.0)
    assert plan.findings == ()
    left = plan.leftover_created
    assert (left.product, left.mg, left.volume_ml) == (OXALI_100.name, 30, pytest.approx(6.0))
    assert left.expires_at == NOW + timedelta(hours=48)
    assert plan.waste_mg == 30


def test_least_waste_before_fewest_vials():
    plan = plan_compounding(140, [OXALI_50, OXALI_100], OXALIPLATIN, diluent="Glucose 5 %")
    assert [(row.product, row.count) for row in plan.vials] == [
        (OXALI_100.name, 1),
        (OXALI_50.name, 1),
    ]
    # all drawn fully except the smallest vial: 100 mg (20 mL) + 40 mg (8 mL)
    assert [row.volume_to_draw_ml for row in plan.vials] == [
        pytest.approx(20),
        pytest.approx(8),
    ]
    assert plan.waste_mg == pytest.approx(10)


def test_waste_tolerance_trades_waste_for_fewer_vials():
    small = VialProduct("P 30 mg", 30, 5)
    medium = VialProduct("P 100 mg", 100, 16.7)
    names = [p.name for p in choose_vials(275, [small, medium, PACLI_300])]
    assert names == ["P 100 mg"] + ["P 30 mg"] * 6  # 280 mg: 5 mg wasted, 7 vials
    assert [p.name for p in choose_vials(275, [small, medium, PACLI_300], 30)] == [PACLI_300.name]


def test_leftover_used_first_while_within_stability():
    old = Leftover(OXALI_100, 20, NOW - timedelta(minutes=1), "R-0001")
    fresh = Leftover(OXALI_100, 30, NOW + timedelta(hours=5), "R-0002")
    plan = plan_compounding(
        170,
        [OXALI_50, OXALI_100],
        OXALIPLATIN,
        diluent="Glucose 5 %",
        leftovers=[old, fresh],
        now=NOW,
    )
    assert [(use.label, use.mg, use.volume_ml) for use in plan.leftover_used] == [
        ("R-0002", 30, pytest.approx(6.0))
    ]
    # the remaining 140 mg: 100 + 50 (10 mg wasted) rather than 2 × 100
    assert [(row.product, row.count) for row in plan.vials] == [
        (OXALI_100.name, 1),
        (OXALI_50.name, 1),
    ]
    assert plan.draw_volume_ml == pytest.approx(34.0)
    expired = [f for f in plan.findings if f.rule == "RELIQUAT_PERIME"]
    assert len(expired) == 1 and expired[0].severity == "avertissement"
    assert "R-0001" in expired[0].message and "02/03/2026 à 09:29" in expired[0].message


def test_leftover_is_not_used_at_its_expiry_instant():
    exact = Leftover(OXALI_100, 50, NOW, "R-0003")
    plan = plan_compounding(
        50, [OXALI_50], OXALIPLATIN, diluent="Glucose 5 %", leftovers=[exact], now=NOW
    )
    assert plan.leftover_used == ()
    assert plan.vials[0].count == 1
    assert [f.rule for f in plan.findings] == ["RELIQUAT_PERIME"]


def test_leftover_covering_the_whole_dose_opens_no_vial():
    leftover = Leftover(OXALI_100, 80, NOW + timedelta(hours=1), "R-0004")
    plan = plan_compounding(
        60, [OXALI_100], OXALIPLATIN, diluent="Glucose 5 %", leftovers=[leftover], now=NOW
    )
    assert plan.vials == () and plan.leftover_created is None
    assert plan.leftover_used[0].mg == 60


def test_leftovers_need_the_time_and_a_plausible_amount():
    leftover = Leftover(OXALI_100, 30, NOW, "R")
    with pytest.raises(OncoError, match="heure de préparation"):
        plan_compounding(50, [OXALI_100], OXALIPLATIN, diluent="Glucose 5 %", leftovers=[leftover])
    with pytest.raises(OncoError, match="supérieur au flacon"):
        Leftover(OXALI_100, 150, NOW)


def test_forbidden_diluent_is_a_blocking_finding():
    plan = plan_compounding(170, [OXALI_100], OXALIPLATIN, diluent="NaCl 0.9%")
    finding = next(f for f in plan.findings if f.rule == "DILUANT_INTERDIT")
    assert finding.severity == "bloquant"
    assert "NaCl 0.9%" in finding.message and "Glucose 5 %" in finding.message
    assert plan.diluent_density_g_ml == 1.005  # the numbers are still computed, never bent


def test_allowed_diluents_match_whatever_the_spelling():
    snapshot_style = MoleculeCompounding("oxaliplatine", 0.2, 0.7, diluents=("G5",))
    assert plan_compounding(170, [OXALI_100], snapshot_style, diluent="Glucose 5 %").findings == ()
    glucose_10 = plan_compounding(
        170, [OXALI_100], snapshot_style, diluent="G10", diluent_density_g_ml=1.04
    )
    assert [f.rule for f in glucose_10.findings] == ["DILUANT_INTERDIT"]


def test_concentration_out_of_range_is_reported_with_the_values():
    plan = plan_compounding(30, [PACLI_300], PACLITAXEL, bag_sizes_ml=(250, 500))
    assert plan.bag_volume_ml == 250  # closest to the range
    finding = next(f for f in plan.findings if f.rule == "CONCENTRATION_HORS_PLAGE")
    assert finding.severity == "bloquant"
    assert finding.values["concentration_mg_ml"] == pytest.approx(30 / 255)
    assert (finding.values["min_mg_ml"], finding.values["max_mg_ml"]) == (0.3, 1.2)
    assert "0,118 mg/mL" in finding.message and "plage 0,3 – 1,2 mg/mL" in finding.message


def test_imposed_bag_volume_is_checked_too():
    plan = plan_compounding(300, [PACLI_300], PACLITAXEL, bag_volume_ml=100)
    assert plan.bag_volume_ml == 100
    assert plan.final_concentration_mg_ml == pytest.approx(2.0)
    assert [f.rule for f in plan.findings] == ["CONCENTRATION_HORS_PLAGE"]


def test_no_dilution_means_the_drawn_volume_only():
    vincristine = MoleculeCompounding("vincristine", density_g_ml=1.0)
    plan = plan_compounding(
        1.5, [VialProduct("Vincristine 1 mg/1 mL", 1, 1)], vincristine, diluent=None
    )
    assert plan.bag_volume_ml is None and plan.diluent_density_g_ml is None
    assert plan.final_volume_ml == pytest.approx(1.5)
    assert plan.final_concentration_mg_ml == pytest.approx(1.0)
    assert plan.target_weight_g == pytest.approx(1.5)


def test_drug_density_and_tare_enter_the_target():
    dense = MoleculeCompounding("x", density_g_ml=1.2)
    plan = plan_compounding(
        100,
        [VialProduct("X 100 mg/10 mL", 100, 10)],
        dense,
        bag_volume_ml=100,
        tare_g=25,
        tolerance_pct=3,
    )
    assert plan.target_weight_g == pytest.approx(25 + 100 * 1.005 + 10 * 1.2)
    assert plan.added_weight_g == pytest.approx(12)
    assert plan.weight_max_g == pytest.approx(plan.target_weight_g * 1.03)


def test_diluent_densities_and_unknown_diluent():
    assert diluent_density("NaCl 0,9 %") == diluent_density("nacl 0.9%") == 1.005
    assert diluent_density("Chlorure de sodium 0,9 %") == diluent_density("NACL") == 1.005
    assert (
        diluent_density("Glucose 5 %") == diluent_density("G5%") == diluent_density("G5") == 1.017
    )
    assert diluent_density("EPPI") == 0.998
    for unknown in ("Ringer lactate", "Glucose 10 %", "G10", "NaCl 3 %"):
        assert diluent_density(unknown) is None
    with pytest.raises(OncoError, match="Densité du solvant « Ringer lactate » inconnue"):
        plan_compounding(100, [OXALI_100], MoleculeCompounding("x"), diluent="Ringer lactate")
    plan = plan_compounding(
        100,
        [OXALI_100],
        MoleculeCompounding("x"),
        diluent="Ringer lactate",
        diluent_density_g_ml=1.01,
    )
    assert plan.diluent_density_g_ml == 1.01


def test_without_a_range_the_smallest_bag_that_holds_the_drug():
    plan = plan_compounding(600, [VialProduct("Y 500 mg/50 mL", 500, 50)], MoleculeCompounding("y"))
    assert plan.draw_volume_ml == pytest.approx(60)
    assert plan.bag_volume_ml == 100


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"dose_mg": 0}, "Valeur impossible"),
        ({"products": []}, "Aucun flacon"),
        ({"tolerance_pct": 100}, "Tolérance impossible"),
        ({"bag_sizes_ml": ()}, "Aucun volume de poche"),
        ({"dose_mg": 10_000}, "au plus 60 flacons"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    arguments = {"dose_mg": 170, "products": [OXALI_50], "molecule": OXALIPLATIN}
    arguments.update(kwargs)
    with pytest.raises(OncoError, match=message):
        plan_compounding(**arguments, diluent="Glucose 5 %")


def test_molecule_and_product_checks():
    with pytest.raises(OncoError, match="Plage de concentration inversée"):
        MoleculeCompounding("x", 2.0, 1.0)
    with pytest.raises(OncoError, match="Densité impossible"):
        MoleculeCompounding("x", density_g_ml=5)
    with pytest.raises(OncoError):
        VialProduct("x", 0, 10)


def brute_force_least_waste(need: float, strengths: list[float]) -> float:
    bounds = [range(math.ceil(need / s) + 1) for s in strengths]
    best = math.inf
    for counts in itertools.product(*bounds):
        total = sum(c * s for c, s in zip(counts, strengths, strict=True))
        if total >= need - 1e-9:
            best = min(best, total - need)
    return best


@given(
    need=st.floats(min_value=1, max_value=600),
    strengths=st.lists(
        st.sampled_from([10.0, 20.0, 50.0, 100.0, 150.0, 500.0]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
)
@settings(max_examples=150, deadline=None)
def test_chosen_vials_cover_the_dose_with_the_least_waste(need, strengths):
    products = [VialProduct(f"{s:g} mg", s, s / 5) for s in strengths]
    chosen = choose_vials(need, products)
    total = sum(p.strength_mg for p in chosen)
    assert total >= need - 1e-9
    assert total - need == pytest.approx(brute_force_least_waste(need, strengths), abs=1e-6)
    # no vial can be removed and still cover the dose
    assert total - min(p.strength_mg for p in chosen) < need - 1e-9


@given(dose=st.floats(min_value=20, max_value=400))
@settings(max_examples=100, deadline=None)
def test_plan_volumes_are_consistent(dose):
    plan = plan_compounding(dose, [OXALI_50, OXALI_100], OXALIPLATIN, diluent="Glucose 5 %")
    drawn_mg = sum(row.volume_to_draw_ml * row.strength_mg / row.volume_ml for row in plan.vials)
    assert drawn_mg == pytest.approx(dose)
    assert plan.final_volume_ml == pytest.approx(plan.bag_volume_ml + plan.draw_volume_ml)
    assert plan.final_concentration_mg_ml * plan.final_volume_ml == pytest.approx(dose)
    in_range = 0.2 <= plan.final_concentration_mg_ml <= 0.7
    assert in_range == (not any(f.rule == "CONCENTRATION_HORS_PLAGE" for f in plan.findings))
