"""The safety checks as pure functions: each fires with its values, and stays silent otherwise."""

from __future__ import annotations

import pytest

from oncosecours.domain import checks
from oncosecours.domain.checks import CumulativeDose, Limits, LineFacts, PrescriptionFacts


def line(**over) -> LineFacts:
    values = dict(
        line_no=1,
        day=1,
        admin_date="2026-03-02",
        molecule="OXALIPLATINE",
        dose=170.0,
        unit="mg",
        computed_dose=170.0,
        molecule_id=31,
        protocol_dose=85.0,
        protocol_unit="mg/m2",
    )
    values.update(over)
    return LineFacts(**values)


def test_dose_deviation_beyond_tolerance_only():
    assert checks.check_dose_deviation([line(dose=178.0)], 5.0) == []  # +4.7 %
    [finding] = checks.check_dose_deviation([line(dose=190.0, tolerance_pct=10.0)], 5.0)
    assert finding.rule == "ECART_DOSE" and finding.severity == "bloquant"
    assert finding.values["ecart_pct"] == pytest.approx(11.7647, abs=1e-4)
    assert finding.values["tolerance_pct"] == 10.0 and finding.values["jour"] == 1
    assert "190 mg" in finding.message and "J1" in finding.message


def test_caps_per_administration_molecule_and_line():
    found = checks.check_dose_caps([line(dose=2.5, max_dose_admin=2.0, max_dose_line=2.2)])
    assert [(f.values["origine"], f.values["maximum"]) for f in found] == [
        ("molécule", 2.0),
        ("ligne", 2.2),
    ]
    assert checks.check_dose_caps([line(dose=2.0, max_dose_admin=2.0)]) == []


def test_protocol_maximum_counts_earlier_cures():
    lines = [line(molecule="BLEOMYCINE", dose=30.0, max_dose_protocol=300.0, day=d) for d in (1, 8)]
    assert checks.check_protocol_maximum(lines, {"BLEOMYCINE": 240.0}) == []
    [finding] = checks.check_protocol_maximum(lines, {"BLEOMYCINE": 250.0})
    assert finding.values["total"] == 310.0 and finding.values["cette_cure"] == 60.0


def test_cumulative_anthracyclines_use_history_and_bsa():
    history = [CumulativeDose("DOXORUBICINE", 85.0, 1.7, "2025-01-01", "sauvegarde")] * 10
    lines = [line(molecule="DOXORUBICINE", dose=85.0, molecule_id=50)]
    [finding] = checks.check_cumulative_doses(lines, history, 1.7)
    assert finding.rule == "CUMUL_DOXORUBICINE" and finding.severity == "avertissement"
    history = history + history[:1]
    [finding] = checks.check_cumulative_doses(lines, history, 1.7)
    assert finding.severity == "bloquant" and finding.values["cumul_projete_mg_m2"] == 600
    assert checks.check_cumulative_doses([line()], history, 1.7) == []  # no anthracycline here


def test_interval_shorter_than_cycle():
    assert checks.check_interval(None, "2026-03-02", 14) == []
    assert checks.check_interval("2026-02-16", "2026-03-02", 14) == []
    [finding] = checks.check_interval("2026-02-20", "2026-03-02", 14, "sauvegarde")
    assert finding.values["jours"] == 10 and "sauvegarde" in finding.message


def test_weight_change_threshold():
    assert checks.check_weight_change(80.0, 72.5, 10.0, None) == []
    [finding] = checks.check_weight_change(80.0, 71.0, 10.0, "cure du 2026-02-16")
    assert finding.values["variation_pct"] == pytest.approx(-11.25)


def test_creatinine_missing_or_old_only_when_needed():
    carbo = line(molecule="CARBOPLATINE", depends_on_creatinine=True)
    assert checks.check_creatinine([line()], None, None, "2026-03-02", 7) == []
    [missing] = checks.check_creatinine([carbo], None, None, "2026-03-02", 7)
    assert missing.rule == "CREATININE_ABSENTE" and missing.values["molecules"] == ["CARBOPLATINE"]
    assert checks.check_creatinine([carbo], 80.0, "2026-02-23", "2026-03-02", 7) == []
    [old] = checks.check_creatinine([carbo], 80.0, "2026-02-22", "2026-03-02", 7)
    assert old.rule == "CREATININE_ANCIENNE" and old.values["age_jours"] == 8


def test_bsa_warning():
    assert checks.check_bsa(2.0, 2.0) == []
    [finding] = checks.check_bsa(2.13, 2.0)
    assert finding.severity == "avertissement" and "2,13 m²" in finding.message


def test_les_code_missing():
    assert checks.check_les_codes([line(liste_en_sus=True, les_code="I000123")]) == []
    [finding] = checks.check_les_codes(
        [line(molecule="RITUXIMAB", liste_en_sus=True, day=d) for d in (1, 8)]
    )
    assert finding.values == {"molecule": "RITUXIMAB", "jours": [1, 8]}


@pytest.mark.parametrize(
    "name,family",
    [
        ("NaCl 0,9 %", "NACL"),
        ("chlorure de sodium 0.9%", "NACL"),
        ("G5%", "G5"),
        ("Glucose 5 %", "G5"),
        ("EPPI", "EPPI"),
    ],
)
def test_diluent_families(name, family):
    assert checks.diluent_key(name) == family


def test_oxaliplatin_never_in_sodium_chloride_even_without_masks():
    [finding] = checks.check_diluents_and_containers([line(diluent="NaCl 0,9 %")])
    assert finding.rule == "DILUANT_INTERDIT" and finding.values["autorises"] == []
    assert checks.check_diluents_and_containers([line(diluent="Glucose 5 %")]) == []


def test_diluent_and_container_against_the_molecule_lists():
    fu = line(
        molecule="FLUOROURACILE",
        diluent="G5",
        allowed_diluents=("NaCl 0,9 %",),
        container="Poche PVC",
        allowed_containers=("Diffuseur",),
    )
    assert [f.rule for f in checks.check_diluents_and_containers([fu])] == [
        "DILUANT_INTERDIT",
        "CONTENANT_INTERDIT",
    ]


def test_duplicates_within_and_across_prescriptions():
    bolus = line(molecule="FLUOROURACILE", molecule_id=6, protocol_dose=400.0, line_no=4)
    infusion = line(molecule="FLUOROURACILE", molecule_id=6, protocol_dose=600.0, line_no=5)
    assert checks.check_duplicates([bolus, infusion], []) == []
    [twice] = checks.check_duplicates([bolus, line(**{**bolus.__dict__, "line_no": 6})], [])
    assert "lignes 4 et 6" in twice.message
    other = checks.OtherAdministration("2026-03-02", "FLUOROURACILE", 6, 17, "LV5FU2")
    [across] = checks.check_duplicates([bolus], [other])
    assert across.values["autre_prescription"] == 17


def test_backup_age_warning():
    assert checks.check_backup_age("2026-02-28", "2026-03-02", 3) == []
    [old] = checks.check_backup_age("2026-02-20", "2026-03-02", 3)
    assert old.values["age_jours"] == 10 and old.severity == "avertissement"
    [none] = checks.check_backup_age(None, "2026-03-02", 3)
    assert "Aucune sauvegarde" in none.message


def test_run_all_puts_blocking_first_and_lists_rules_to_justify():
    facts = PrescriptionFacts(
        on_date="2026-03-02",
        cure_date="2026-03-02",
        cycle_days=14,
        lines=[line(dose=200.0, reduction_pct=20.0, reduction_reason="neuropathie")],
        bsa_m2=2.1,
        backup_date="2026-03-01",
        previous_cure_date="2026-02-25",
        transcribed=True,
        transcribed_by="Anne (PH1)",
    )
    findings = checks.run_all(facts, Limits())
    rules = [f.rule for f in findings]
    assert rules == [
        "ECART_DOSE",
        "INTERVALLE_COURT",
        "SURFACE_ELEVEE",
        "REDUCTION_DOSE",
        "TRANSCRIPTION",
    ]
    assert checks.blocking_rules(findings) == ["ECART_DOSE", "INTERVALLE_COURT"]
