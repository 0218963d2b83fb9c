"""Waste over a series of preparations with and without leftovers (hand-replayed)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from oncosecours.domain.compounding import VialProduct
from oncosecours.domain.waste import simulate
from oncosecours.ops.bench_leftovers import week_report

T = datetime(2026, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=1)))
OXALI = [VialProduct("OX 50", 50, 10), VialProduct("OX 100", 100, 20)]
DOSES = [
    (T, 130),
    (T + timedelta(hours=2), 140),
    (T + timedelta(hours=30), 120),
    (T + timedelta(hours=80), 60),
]


def test_without_leftovers_each_rest_is_thrown_away():
    # 130 -> 100 + 50 (20 lost) ; 140 -> 100 + 50 (10) ; 120 -> 100 + 50 (30) ; 60 -> 100 (40)
    report = simulate(DOSES, OXALI, stability_h=None)
    assert (report.vials_opened, report.amount_opened, report.wasted) == (7, 550, 100)


def test_with_leftovers_within_48_h_and_refused_past_it():
    # 130 -> 100 + 50, 20 on the shelf (until T+48) ; 140 -> R 20 + 100 + 50 (30 kept until
    # T+50) ; 120 at T+30 -> R 30 + 100 (10 kept until T+78) ; 60 at T+80: the 10 mg are past
    # their use-by (thrown away), a 100 mg vial is opened, 40 mg left at the end of the series.
    report = simulate(DOSES, OXALI, stability_h=48)
    assert (report.vials_opened, report.amount_opened, report.wasted) == (6, 500, 50)
    assert report.leftovers_used == 2
    assert report.dose_total == 450 == report.amount_opened - report.wasted


def test_the_week_bench_saves_vials_and_drug():
    report = week_report(seed=3, per_day=6)
    for row in report["molecules"]:
        # what is opened is administered or lost, in every scenario
        for key in ("sans", "avec", "avec_moins_de_flacons"):
            cell = row[key]
            assert abs(cell["quantite_ouverte"] - cell["perte"] - cell["dose_totale"]) < 1e-6
        assert row["avec"]["perte"] <= row["sans"]["perte"]
    assert report["quantite_avec"] < report["quantite_sans"]
    assert report["flacons_economises_moins"] > 0
