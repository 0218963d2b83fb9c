"""Cycles and day masks -> dated cures."""

from __future__ import annotations

from datetime import date

import pytest

from oncosecours.domain import schedule
from oncosecours.domain.errors import OncoError


@pytest.mark.parametrize(
    "mask,days",
    [("O", [1]), ("ON", [1]), ("NOO", [2, 3]), ("ONNNNNNNNNNNNNO", [1, 15]), ("onno", [1, 4])],
)
def test_days_from_chimio_masks(mask, days):
    assert schedule.days_from_mask(mask) == days


@pytest.mark.parametrize("mask", ["", "NNN", "O1N", "X"])
def test_bad_masks_are_refused(mask):
    with pytest.raises(OncoError, match="Masque de jours"):
        schedule.days_from_mask(mask)


def test_plan_cures_every_cycle():
    assert schedule.plan_cures(date(2026, 3, 2), 14, 3) == [
        date(2026, 3, 2),
        date(2026, 3, 16),
        date(2026, 3, 30),
    ]


def test_administration_dates_from_days():
    assert schedule.administration_dates(date(2026, 2, 25), [15, 1]) == [
        (1, date(2026, 2, 25)),
        (15, date(2026, 3, 11)),
    ]


def test_choose_cycles_default_and_maximum():
    assert schedule.choose_cycles(None, 6, 12) == 6
    assert schedule.choose_cycles(None, None, None) == 1
    assert schedule.choose_cycles(12, 6, 12) == 12
    with pytest.raises(OncoError, match=r"CYCLES_MAX.*13.*\(12\)"):
        schedule.choose_cycles(13, 6, 12)
    with pytest.raises(OncoError, match="impossible"):
        schedule.choose_cycles(0, 6, 12)


def test_postpone_moves_later_cures_by_the_same_delta():
    cures = [(1, date(2026, 3, 2)), (2, date(2026, 3, 16)), (3, date(2026, 3, 30))]
    shifts = schedule.postpone(cures, 2, date(2026, 3, 23), movable=[2, 3])
    assert [(s.cycle, s.before, s.after) for s in shifts] == [
        (2, date(2026, 3, 16), date(2026, 3, 23)),
        (3, date(2026, 3, 30), date(2026, 4, 6)),
    ]


def test_postpone_refuses_earlier_date_and_fixed_later_cure():
    cures = [(1, date(2026, 3, 2)), (2, date(2026, 3, 16))]
    with pytest.raises(OncoError, match="postérieur"):
        schedule.postpone(cures, 1, date(2026, 3, 1), movable=[1, 2])
    with pytest.raises(OncoError, match="cycle 2 ne peut plus"):
        schedule.postpone(cures, 1, date(2026, 3, 5), movable=[1])


def test_cure_last_day():
    assert schedule.cure_last_day([[1], [1, 15], [2, 3]]) == 15
