"""VARIATION_POIDS only blocks when the previous weight is recent (window before the cure's J1)."""

from __future__ import annotations

import pytest

from oncosecours.domain import checks
from oncosecours.domain.checks import Limits, LineFacts, PrescriptionFacts


def _change(previous_date, cure_date="2026-03-02", window=90, previous=80.0, weight=70.0):
    return checks.check_weight_change(
        previous,
        weight,
        10.0,
        "prescription n° 3",
        previous_date=previous_date,
        cure_date=cure_date,
        window_days=window,
    )


def test_recent_reference_blocks_with_its_dates():
    [finding] = _change("2026-02-09")
    assert finding.rule == "VARIATION_POIDS" and finding.severity == "bloquant"
    assert finding.values["ecart_jours"] == 21 and finding.values["fenetre_jours"] == 90
    assert finding.values["date_poids_precedent"] == "2026-02-09"
    assert finding.values["variation_pct"] == pytest.approx(-12.5)
    assert "70 kg pour 80 kg" in finding.message and "-12,5 %" in finding.message


def test_reference_exactly_at_the_window_still_blocks():
    [finding] = _change("2025-12-02")  # 90 days before 2026-03-02
    assert finding.values["ecart_jours"] == 90 and finding.severity == "bloquant"


def test_old_reference_only_warns_and_says_why():
    [finding] = _change("2025-12-01")  # 91 days
    assert finding.severity == "avertissement" and not finding.blocking
    assert finding.values["ecart_jours"] == 91
    assert "2025-12-01" in finding.message and "91 jours" in finding.message
    assert "fenêtre de 90 jours" in finding.message and "non bloquante" in finding.message
    assert "-12,5 %" in finding.message  # the values are still shown


def test_small_change_says_nothing_whatever_the_age():
    assert _change("2025-01-01", weight=75.0) == []
    assert _change("2026-02-09", weight=75.0) == []


def test_unknown_date_keeps_the_blocking_comparison():
    [finding] = _change(None)
    assert finding.severity == "bloquant" and "ecart_jours" not in finding.values
    [finding] = checks.check_weight_change(80.0, 70.0, 10.0, None)
    assert finding.severity == "bloquant"


def test_window_comes_from_the_limits_in_run_all():
    line = LineFacts(
        line_no=1,
        day=1,
        admin_date="2026-03-02",
        molecule="OXALIPLATINE",
        dose=170.0,
        unit="mg",
        computed_dose=170.0,
    )
    facts = PrescriptionFacts(
        on_date="2026-03-02",
        cure_date="2026-03-02",
        cycle_days=14,
        lines=[line],
        weight_kg=70.0,
        previous_weight_kg=80.0,
        previous_weight_date="2026-01-20",  # 41 days
        backup_date="2026-03-01",
    )
    wide = checks.run_all(facts, Limits(weight_window_days=90))
    narrow = checks.run_all(facts, Limits(weight_window_days=30))
    assert checks.blocking_rules(wide) == ["VARIATION_POIDS"]
    assert checks.blocking_rules(narrow) == []
    assert [f.rule for f in narrow] == ["VARIATION_POIDS"]
