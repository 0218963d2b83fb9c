"""The one French dose formatter (domain.display) and the solute note of the care plan."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncosecours.domain.display import (
    care_amount,
    doubtful_solute_unit,
    fr_dose,
    fr_dose_unit,
    is_solute,
)


@pytest.mark.parametrize(
    "value,expected",
    [
        (73.755, "73,755"),  # f"{73.755:.2f}" gives 73.75: the audit's case
        (523.6666666, "523,667"),
        (523.667, "523,667"),
        (2.0, "2"),
        (1470, "1470"),  # no thousands separator: unambiguous at the hood
        (1470.5, "1470,5"),
        (2.675, "2,675"),
        (1.0005, "1,001"),  # half up on the decimal writing, not on the binary float
        (0.0004, "0"),
        (12.50, "12,5"),
        ("12,5", "12,5"),
        (None, ""),
        ("", ""),
    ],
)
def test_dose_is_written_the_french_way(value, expected):
    assert fr_dose(value) == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "abc", True])
def test_what_is_not_a_dose_is_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        fr_dose(bad)


@given(st.floats(min_value=0, max_value=100_000, allow_nan=False, allow_infinity=False))
def test_written_dose_is_the_value_rounded_half_up_to_three_decimals(value):
    text = fr_dose(value)
    assert " " not in text and "." not in text and text.count(",") <= 1
    assert not (("," in text) and text.endswith("0"))
    expected = Decimal(str(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    assert Decimal(text.replace(",", ".")) == expected


def test_dose_with_its_unit():
    assert fr_dose_unit(145.0, "mg") == "145 mg"
    assert fr_dose_unit(5, "AUC") == "5 AUC"
    assert fr_dose_unit(3.5, None) == "3,5"


@pytest.mark.parametrize(
    "name",
    [
        "CHLORURE DE SODIUM 0,9 % 250 mL",
        "Chlorure de sodium 0,9 %",
        "NaCl 0,9 % hydratation",
        "Glucose 5 %",
        "G5 100 mL",
        "Eau ppi",
        "Ringer lactate",
        "Produit 196285 — Rinçage APRES Oxaliplatine",
    ],
)
def test_solutes_are_recognised(name):
    assert is_solute(name)
    assert doubtful_solute_unit(name, "mg", anticancer=False)
    assert not doubtful_solute_unit(name, "mL", anticancer=False)
    assert care_amount(250, "mg", name, False) == (
        "250 — unité à vérifier (sauvegarde : mg ; soluté : mL probable)"
    )


@pytest.mark.parametrize(
    "name",
    ["ONDANSETRON 8 mg/4 mL", "Dexaméthasone", "Gluconate de calcium", "Sulfate de magnésium"],
)
def test_drugs_keep_their_unit(name):
    assert not is_solute(name)
    assert care_amount(8, "mg", name, False) == "8 mg"


def test_an_anticancer_line_is_never_rewritten():
    assert care_amount(73.755, "mg", "OXALIPLATINE dans glucose 5 %", True) == "73,755 mg"
