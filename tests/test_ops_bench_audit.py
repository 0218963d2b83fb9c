"""The crisis of ``bench audit`` goes through the whole circuit with the services, and every row
it writes is proven by verify (no timing asserted here: the bench measures)."""

from __future__ import annotations

from oncosecours.ops.bench_audit import build_crisis, measure, report


def test_a_short_synthetic_crisis_verifies_row_by_row(tmp_path):
    path = tmp_path / "crise.sqlite"
    counts = build_crisis(path, weeks=1, per_day=1, seed=3)
    assert counts["patients"] == 7 and counts["prescriptions"] >= 7 and counts["etapes"] > 50
    result = measure(path, repeat=1)
    assert result["ok"] and result["lignes_comparees"] > 200 and result["ecritures"] > 50
    text = report({"crise": {"semaines": 1, **counts, **result}})
    assert text.startswith("Crise synthétique (1 semaines") and "lignes comparées" in text
