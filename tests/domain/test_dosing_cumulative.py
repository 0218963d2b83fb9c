"""Cumulative lifetime doses: doxorubicin equivalents, per-molecule limits, bleomycin."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncosecours.domain.errors import OncoError
from oncosecours.dosing import (
    ANTHRACYCLINE_FACTORS,
    cumulative_check,
    cumulative_findings,
    cumulative_totals,
    doxorubicin_equivalent,
    molecule_key,
)

BSA = 2.0


def cures(molecule: str, mg_m2: float, count: int, bsa: float = BSA) -> list[tuple[str, float]]:
    return [(molecule, mg_m2 * bsa)] * count


def test_documented_factors():
    # See the module docstring for the sources (Feijen 2019, IGHG 2024, COG LTFU v5/v6).
    assert ANTHRACYCLINE_FACTORS == {
        "doxorubicine": 1.0,
        "doxorubicine_liposomale": 1.0,
        "epirubicine": 0.8,
        "daunorubicine": 0.6,
        "idarubicine": 5.0,
        "mitoxantrone": 10.5,
    }
    assert doxorubicin_equivalent("Épirubicine", 100) == pytest.approx(80)
    assert doxorubicin_equivalent("IDARUBICINE", 12) == pytest.approx(60)
    assert doxorubicin_equivalent("mitoxantrone", 12) == pytest.approx(126)
    with pytest.raises(OncoError, match="Pas une anthracycline"):
        doxorubicin_equivalent("cisplatine", 100)


@pytest.mark.parametrize(
    "name,key",
    [
        ("DOXORUBICINE", "doxorubicine"),
        ("Adriblastine", "doxorubicine"),
        ("Doxorubicine liposomale pégylée", "doxorubicine_liposomale"),
        ("CAELYX", "doxorubicine_liposomale"),
        ("Myocet", "doxorubicine_liposomale"),
        ("épirubicine", "epirubicine"),
        ("Farmorubicine", "epirubicine"),
        ("Daunorubicine", "daunorubicine"),
        ("Zavedos", "idarubicine"),
        ("Mitoxantrone", "mitoxantrone"),
        ("Bléomycine", "bleomycine"),
        ("Cisplatine", None),
    ],
)
def test_molecule_names_are_recognised(name, key):
    assert molecule_key(name) == key


def test_totals_use_each_administration_bsa_when_known():
    history = [("doxorubicine", 120.0, 2.0), ("doxorubicine", 114.0, 1.9), ("doxorubicine", 100.0)]
    totals = cumulative_totals(history, 2.0)
    assert totals.anthracyclines_mg_m2["doxorubicine"] == pytest.approx(60 + 60 + 50)
    assert totals.doxorubicin_equivalent_mg_m2 == pytest.approx(170)


def test_nothing_for_an_untracked_molecule_or_a_low_total():
    assert cumulative_check(cures("doxorubicine", 60, 8), ("cisplatine", 150), BSA) is None
    assert cumulative_check(cures("doxorubicine", 60, 4), ("doxorubicine", 120), BSA) is None


def test_doxorubicin_over_550_is_blocking_with_the_values():
    history = cures("doxorubicine", 60, 9)  # 540 mg/m²
    finding = cumulative_check(history, ("doxorubicine", 60 * BSA), BSA)  # -> 600
    assert finding.rule == "CUMUL_DOXORUBICINE"
    assert finding.severity == "bloquant"
    assert finding.values["cumul_anterieur_mg_m2"] == pytest.approx(540)
    assert finding.values["cumul_projete_mg_m2"] == pytest.approx(600)
    assert finding.values["limite_mg_m2"] == 550
    assert "Dose cumulée de doxorubicine dépassée : 600 mg/m²" in finding.message
    assert "avant : 540" in finding.message and "limite : 550" in finding.message


def test_exactly_at_the_limit_is_not_exceeded():
    finding = cumulative_check(cures("doxorubicine", 50, 10), ("doxorubicine", 50 * BSA), BSA)
    assert finding.severity == "avertissement"  # 550 reached, not exceeded


def test_warning_past_400_mg_m2():
    finding = cumulative_check(cures("doxorubicine", 60, 6), ("doxorubicine", 60 * BSA), BSA)
    assert finding.severity == "avertissement"
    assert finding.values["cumul_projete_mg_m2"] == pytest.approx(420)
    assert "élevée" in finding.message


def test_epirubicin_alone_uses_its_own_900_mg_m2_limit():
    # 800 mg/m² epirubicin = 640 mg/m² doxorubicin equivalents, but the epirubicin SmPC limit is
    # 900 mg/m² of epirubicin when it is the only anthracycline received.
    finding = cumulative_check(cures("epirubicine", 100, 7), ("epirubicine", 100 * BSA), BSA)
    assert finding.rule == "CUMUL_EPIRUBICINE" and finding.severity == "avertissement"
    blocking = cumulative_check(cures("epirubicine", 100, 9), ("epirubicine", 100 * BSA), BSA)
    assert blocking.severity == "bloquant"
    assert blocking.values["cumul_projete_mg_m2"] == pytest.approx(1000)
    assert blocking.values["limite_mg_m2"] == 900
    assert "Dose cumulée d'épirubicine dépassée : 1000 mg/m²" in blocking.message


def test_mixed_anthracyclines_are_summed_in_doxorubicin_equivalents():
    history = cures("doxorubicine", 50, 6) + cures("épirubicine", 100, 2)  # 300 + 200 × 0.8 = 460
    finding = cumulative_check(history, ("epirubicine", 90 * BSA), BSA)  # + 72 = 532
    assert finding.rule == "CUMUL_ANTHRACYCLINES"
    assert finding.severity == "avertissement"
    assert finding.values["equivalents_doxorubicine_mg_m2"] == pytest.approx(532)
    over = cumulative_check(history, ("idarubicine", 12 * BSA), BSA)  # + 12 × 5 = 520
    assert over.values["cumul_projete_mg_m2"] == pytest.approx(460 + 60)
    more = cumulative_check(history + [("idarubicine", 12 * BSA)], ("mitoxantrone", 4 * BSA), BSA)
    assert more.severity == "bloquant"  # 520 + 4 × 10.5 = 562 > 550
    assert more.values["cumul_projete_mg_m2"] == pytest.approx(562)
    assert "équivalents doxorubicine" in more.message
    assert "mitoxantrone 4 mg/m² × 10,5" in more.message


def test_liposomal_doxorubicin_counts_as_doxorubicin():
    history = cures("Caelyx", 50, 10)
    finding = cumulative_check(history, ("doxorubicine", 60 * BSA), BSA)
    assert finding.rule == "CUMUL_ANTHRACYCLINES" and finding.severity == "bloquant"


def test_bleomycin_total_over_400_units():
    history = [("bléomycine", 30.0)] * 13  # 390 units (mg)
    assert cumulative_check(history, ("bleomycine", 10), BSA) is None
    finding = cumulative_check(history, ("bleomycine", 30), BSA)
    assert finding.rule == "CUMUL_BLEOMYCINE" and finding.severity == "bloquant"
    assert finding.values["cumul_projete_unites"] == pytest.approx(420)
    assert "420 unités" in finding.message and "1 unité = 1 mg = 1000 UI" in finding.message


def test_bad_input_is_refused():
    with pytest.raises(OncoError, match="Surface corporelle impossible"):
        cumulative_findings([], ("doxorubicine", 100), 0)
    with pytest.raises(OncoError, match="Entrée d'historique invalide"):
        cumulative_findings([("doxorubicine",)], ("doxorubicine", 100), 2)
    with pytest.raises(OncoError, match="Administration prévue invalide"):
        cumulative_findings([], ("doxorubicine", 100, 2), 2)
    with pytest.raises(OncoError, match="Valeur impossible"):
        cumulative_findings([("doxorubicine", -5)], ("doxorubicine", 100), 2)


@given(
    doses=st.lists(st.floats(min_value=10, max_value=200), max_size=15),
    planned=st.floats(min_value=10, max_value=200),
    molecule=st.sampled_from(["doxorubicine", "epirubicine", "daunorubicine"]),
)
@settings(max_examples=200, deadline=None)
def test_single_molecule_finding_matches_the_total(doses, planned, molecule):
    history = [(molecule, dose) for dose in doses]
    total_mg_m2 = (sum(doses) + planned) / BSA
    limit = {"doxorubicine": 550, "epirubicine": 900, "daunorubicine": 550}[molecule]
    finding = cumulative_check(history, (molecule, planned), BSA)
    if total_mg_m2 > limit * (1 + 1e-9):
        assert finding is not None and finding.severity == "bloquant"
    elif total_mg_m2 <= limit * 400 / 550 * (1 + 1e-9):  # "past 400": 400 itself is fine
        assert finding is None
    else:
        assert finding is not None
