"""Refusals that read better: the real bounds of a range, why a date does not exist, values
quoted with « » the same way everywhere."""

from __future__ import annotations

from datetime import date

import pytest

from oncosecours.domain.dosing import check_age, check_creatinine, check_height, check_weight
from oncosecours.domain.errors import OncoError
from oncosecours.domain.identity import parse_date
from oncosecours.domain.production import gravimetric_check, parse_datetime, parse_expiry


def _message(call, *args, **kwargs) -> str:
    with pytest.raises(OncoError) as caught:
        call(*args, **kwargs)
    return caught.value.message


@pytest.mark.parametrize(
    ("call", "value", "expected"),
    [
        (check_weight, 0, "Poids impossible : « 0 » kg (attendu : poids > 0 et ≤ 350 kg)"),
        (check_weight, 351, "Poids impossible : « 351 » kg (attendu : poids > 0 et ≤ 350 kg)"),
        (check_height, 30, "Taille impossible : « 30 » cm (attendu : taille ≥ 40 et ≤ 250 cm)"),
        (check_creatinine, 4000,
         "Créatinine impossible : « 4000 » µmol/L (attendu : créatinine ≥ 10 et ≤ 3\u202f000 µmol/L)"),
        (check_age, 130, "Âge impossible : « 130 » ans (attendu : âge ≥ 0 et ≤ 120 ans)"),
    ],
)  # fmt: skip
def test_a_range_says_its_real_bounds(call, value, expected):
    assert _message(call, value) == expected
    assert "entre" not in _message(call, value)


def test_the_bounds_themselves_are_as_stated():
    assert check_weight(350) == 350 and check_height(40) == 40 and check_age(0) == 0
    assert "poids > 0" in _message(check_weight, 0)  # 0 refused: hence ">" and not "entre"


def test_a_gravimetric_weight_out_of_range():
    assert _message(gravimetric_check, 25000.0, 100.0, 95.0, 105.0) == (
        "Poids mesuré impossible : « 25000 » g (attendu : poids mesuré > 0 et ≤ 20\u202f000 g)"
    )


@pytest.mark.parametrize(
    ("call", "text", "expected"),
    [
        (parse_date, "31/02/2026",
         "Date invalide : « 31/02/2026 » — le 31/02/2026 n'existe pas (février 2026 compte 28 jours)"),
        (parse_date, "2026-04-31",
         "Date invalide : « 2026-04-31 » — le 31/04/2026 n'existe pas (avril 2026 compte 30 jours)"),
        (parse_date, "12/13/2026",
         "Date invalide : « 12/13/2026 » — le mois « 13 » n'existe pas (mois de 01 à 12)"),
        (parse_date, "hier", "Date invalide : « hier » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)"),
        (parse_expiry, "13/2027",
         "Date de péremption invalide : « 13/2027 » — le mois « 13 » n'existe pas (mois de 01 à 12)"),
        (parse_datetime, "29/02/2027 10:00",
         "Date et heure invalides : « 29/02/2027 10:00 » — le 29/02/2027 n'existe pas "
         "(février 2027 compte 28 jours)"),
    ],
)  # fmt: skip
def test_an_impossible_date_says_why(call, text, expected):
    assert _message(call, text, "date") == expected


def test_a_leap_day_is_a_date():
    assert parse_date("29/02/2028", "date") == date(2028, 2, 29)
