"""Line doses: basis per unit, caps, reduction, rounding, banding; every change is reported."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncosecours.domain.errors import OncoError
from oncosecours.dosing import (
    DosingRules,
    LineSpec,
    PatientMeasures,
    body_surface_area,
    chatelut_clearance,
    ckd_epi,
    deviation_finding,
    dose_deviation_pct,
    line_dose,
    rules_from_settings,
)
from oncosecours.settings import load_settings
from oncosecours.store.dose_banding import load_band_table

# 60-year-old man, 72 kg, 175 cm, creatinine 1 mg/dL: Cockcroft-Gault = 80 × 72 / 72 = 80 mL/min.
MAN = PatientMeasures(weight_kg=72, height_cm=175, age_years=60, sex="M", creatinine_umol_l=88.4)
RULES = DosingRules()


def bsa(patient: PatientMeasures, formula: str = "dubois") -> float:
    return round(body_surface_area(patient.height_cm, patient.weight_kg, formula), 2)


def assert_chain(result) -> None:
    """Adjustments chain from the theoretical dose to the proposed one, in the dose unit."""
    value = result.theoretical
    for adjustment in result.adjustments:
        assert adjustment.before == pytest.approx(value)
        assert adjustment.unit == result.unit
        value = adjustment.after
    assert result.dose == pytest.approx(value)


def rules_of(result) -> list[str]:
    return [adjustment.rule for adjustment in result.adjustments]


def test_mg_per_m2_uses_the_bsa_shown_in_the_basis():
    result = line_dose(LineSpec("cisplatine", 75, "mg/m2"), MAN, RULES)
    assert bsa(MAN) == 1.87
    assert result.basis == "SC 1,87 m² (DuBois)"
    assert result.basis_value == 1.87
    assert result.theoretical == pytest.approx(75 * 1.87)
    assert result.dose == result.theoretical
    assert result.unit == "mg"
    assert result.adjustments == () and result.notes == ()
    assert result.tolerance_pct == 5.0


def test_bsa_formula_comes_from_the_rules():
    result = line_dose(LineSpec("cisplatine", 100, "mg/m²"), MAN, DosingRules(bsa_formula="boyd"))
    assert result.basis == f"SC {bsa(MAN, 'boyd'):.2f} m² (Boyd)".replace(".", ",")
    assert result.theoretical == pytest.approx(100 * bsa(MAN, "boyd"))


@pytest.mark.parametrize(
    "unit,dose,expected,absolute,basis",
    [
        ("mg/kg", 5, 360, "mg", "poids 72 kg"),
        ("UI/kg", 100, 7200, "UI", "poids 72 kg"),
        ("µg/kg", 10, 720, "µg", "poids 72 kg"),
        ("mg", 500, 500, "mg", "dose fixe"),
        ("UI", 1000, 1000, "UI", "dose fixe"),
        ("MUI", 3, 3, "MUI", "dose fixe"),
    ],
)
def test_weight_and_flat_units(unit, dose, expected, absolute, basis):
    result = line_dose(LineSpec("x", dose, unit), MAN, RULES)
    assert result.theoretical == pytest.approx(expected)
    assert result.unit == absolute
    assert result.basis == basis


def test_vincristine_cap_is_reported_with_the_values():
    patient = PatientMeasures(weight_kg=90, height_cm=185, age_years=40, sex="M")
    line = LineSpec("vincristine", 1.4, "mg/m2", max_dose_per_admin=2)
    result = line_dose(line, patient, RULES)
    computed = 1.4 * bsa(patient)
    assert computed > 2
    assert result.dose == 2
    assert rules_of(result) == ["PLAFOND_DOSE"]
    cap = result.adjustments[0]
    assert (cap.before, cap.after, cap.unit) == (pytest.approx(computed), 2.0, "mg")
    assert "Dose plafonnée à 2 mg" in cap.message and "vincristine" in cap.message
    assert f"{computed:.3f}".rstrip("0").replace(".", ",") + " mg calculés" in cap.message
    assert result.theoretical == pytest.approx(computed)  # the theoretical dose is not capped


def test_cap_not_reached_leaves_no_adjustment():
    line = LineSpec("vincristine", 1.0, "mg/m2", max_dose_per_admin=2)
    assert line_dose(line, MAN, RULES).adjustments == ()


def test_protocol_maximum_after_the_molecule_cap():
    line = LineSpec("x", 1000, "mg/m2", max_dose_per_admin=1800, max_dose_per_protocol=1500)
    result = line_dose(line, MAN, RULES)
    assert rules_of(result) == ["PLAFOND_DOSE", "MAX_PROTOCOLE"]
    assert result.dose == 1500
    assert "maximum du protocole, 1500 mg" in result.adjustments[1].message
    assert_chain(result)


def test_bsa_cap_is_an_adjustment():
    big = PatientMeasures(weight_kg=130, height_cm=195, age_years=50, sex="M")
    real = bsa(big)
    assert real > 2.2
    result = line_dose(LineSpec("docetaxel", 75, "mg/m2"), big, DosingRules(bsa_cap_m2=2.0))
    assert result.theoretical == pytest.approx(75 * real)
    assert result.dose == pytest.approx(150)
    assert rules_of(result) == ["PLAFOND_SURFACE"]
    message = result.adjustments[0].message
    assert "plafonnée à 2,00 m²" in message and f"réelle {real:.2f}".replace(".", ",") in message
    assert "plafonnée à 2,00 m²" in result.basis


def test_bsa_under_the_cap_is_untouched():
    result = line_dose(LineSpec("docetaxel", 75, "mg/m2"), MAN, DosingRules(bsa_cap_m2=2.0))
    assert result.adjustments == ()


def test_auc_with_cockcroft_gault():
    result = line_dose(LineSpec("carboplatine", 5, "AUC"), MAN, RULES)
    assert result.basis_value == pytest.approx(80)
    assert result.theoretical == pytest.approx(5 * (80 + 25))
    assert result.basis == "DFG 80 mL/min (Cockcroft-Gault), Calvert AUC 5"
    assert result.unit == "mg"


def test_auc_gfr_cap_is_reported():
    young = PatientMeasures(
        weight_kg=80, height_cm=180, age_years=25, sex="M", creatinine_umol_l=60
    )
    result = line_dose(LineSpec("carboplatine", 6, "AUC"), young, RULES)
    assert result.basis_value > 125
    assert result.theoretical == pytest.approx(6 * (result.basis_value + 25))
    assert result.dose == pytest.approx(6 * 150)
    assert rules_of(result) == ["PLAFOND_DFG"]
    assert "DFG plafonné à 125 mL/min" in result.adjustments[0].message
    custom = line_dose(LineSpec("carboplatine", 6, "AUC"), young, DosingRules(gfr_cap=140))
    assert custom.dose == pytest.approx(6 * 165)


def test_auc_with_ckd_epi_is_de_indexed_by_the_bsa():
    rules = DosingRules(renal_formula="ckd_epi_2021")
    result = line_dose(LineSpec("carboplatine", 5, "AUC"), MAN, rules)
    indexed = ckd_epi(88.4, 60, "M", 2021)
    absolute = indexed * bsa(MAN) / 1.73
    assert result.basis_value == pytest.approx(absolute)
    assert result.theoretical == pytest.approx(5 * (absolute + 25))
    assert "CKD-EPI 2021" in result.basis and "désindexé par la SC 1,87 m²" in result.basis
    assert "mL/min/1,73 m²" in result.basis


def test_auc_with_mdrd_and_ideal_weight():
    mdrd_result = line_dose(LineSpec("carbo", 5, "AUC"), MAN, DosingRules(renal_formula="mdrd"))
    assert "MDRD" in mdrd_result.basis
    heavy = PatientMeasures(
        weight_kg=130, height_cm=175, age_years=60, sex="M", creatinine_umol_l=88.4
    )
    actual = line_dose(LineSpec("carbo", 5, "AUC"), heavy, RULES)
    ideal = line_dose(LineSpec("carbo", 5, "AUC"), heavy, DosingRules(clearance_weight="ideal"))
    assert ideal.basis_value < actual.basis_value
    assert "poids idéal" in ideal.basis


def test_auc_with_chatelut():
    rules = DosingRules(carboplatin_method="chatelut")
    result = line_dose(LineSpec("carboplatine", 5, "AUC"), MAN, rules)
    clearance = chatelut_clearance(72, 60, 88.4, "M")
    assert result.theoretical == pytest.approx(5 * clearance)  # Chatelut: dose = AUC × CL
    assert "Chatelut" in result.basis


def test_auc_without_creatinine_names_the_field():
    patient = PatientMeasures(weight_kg=72, height_cm=175, age_years=60, sex="M")
    with pytest.raises(OncoError, match="Créatinine manquante") as error:
        line_dose(LineSpec("carboplatine", 5, "AUC"), patient, RULES)
    assert error.value.field == "créatinine"
    assert "carboplatine" in str(error.value)


def test_reduction_needs_a_reason_and_a_sensible_percentage():
    line = LineSpec("cisplatine", 100, "mg/m2")
    with pytest.raises(OncoError, match="doit être motivée") as error:
        line_dose(line, MAN, RULES, reduction_pct=25)
    assert error.value.field == "motif"
    with pytest.raises(OncoError, match="doit être motivée"):
        line_dose(line, MAN, RULES, reduction_pct=25, reduction_reason="  ")
    for bad in (100, 120, -10):
        with pytest.raises(OncoError, match="Réduction impossible"):
            line_dose(line, MAN, RULES, reduction_pct=bad, reduction_reason="toxicité")
    result = line_dose(line, MAN, RULES, reduction_pct=25, reduction_reason="neutropénie G3")
    assert result.dose == pytest.approx(187 * 0.75)
    assert rules_of(result) == ["REDUCTION"]
    assert "Réduction de 25 % (motif : neutropénie G3)" in result.adjustments[0].message


def test_rounding_molecule_step_then_settings_step():
    line = LineSpec("cisplatine", 100, "mg/m2", rounding_step=5)
    result = line_dose(line, MAN, RULES, reduction_pct=25, reduction_reason="toxicité")
    assert result.dose == 140  # 140.25 -> 140
    assert rules_of(result) == ["REDUCTION", "ARRONDI"]
    assert "Arrondi au pas de 5 mg : 140,25 mg → 140 mg" in result.adjustments[1].message
    settings_step = line_dose(LineSpec("x", 100, "mg/m2"), MAN, DosingRules(rounding_step_mg=10))
    assert settings_step.dose == 190
    exact = line_dose(LineSpec("x", 100, "mg/m2"), MAN, DosingRules(rounding_step_mg=1))
    assert exact.adjustments == ()  # 187 is already a multiple: nothing to report
    assert_chain(result)


def test_settings_rounding_step_is_in_mg_only():
    result = line_dose(LineSpec("x", 10, "µg/kg"), MAN, DosingRules(rounding_step_mg=50))
    assert result.dose == 720 and result.adjustments == ()


def test_banding_replaces_rounding_and_reports_the_deviation():
    table = load_band_table("nhs_20mgml_v7")
    line = LineSpec("gemcitabine", 1000, "mg/m2", rounding_step=5, band_table=table)
    result = line_dose(line, MAN, DosingRules(banding="arrondi_superieur"))
    # 1870 mg is in the band 1677.02 ≤ d < 1886.80 -> 1780 mg
    assert result.dose == 1780
    assert rules_of(result) == ["STANDARDISATION"]
    message = result.adjustments[0].message
    assert "table NHS 20 mg/mL v7" in message and "1677,02 ≤ d < 1886,8 mg" in message
    assert "1870 mg → 1780 mg" in message and "écart -4,81 %" in message


def test_banding_off_by_default_and_outside_the_table_is_noted():
    table = load_band_table("nhs_20mgml_v7")
    line = LineSpec("gemcitabine", 1000, "mg/m2", band_table=table)
    assert line_dose(line, MAN, RULES).adjustments == ()
    huge = LineSpec("x", 5000, "mg/m2", rounding_step=10, band_table=table)
    result = line_dose(huge, MAN, DosingRules(banding="arrondi_inferieur"))
    assert result.dose == 9350  # not banded, then rounded to the step (9350 is a multiple)
    assert result.adjustments == ()
    assert len(result.notes) == 1
    assert "hors de la table de standardisation" in result.notes[0]
    assert "9350 mg" in result.notes[0] and "non standardisée" in result.notes[0]


def test_cap_applies_after_banding():
    table = load_band_table("nhs_20mgml_v7")
    line = LineSpec("x", 1000, "mg/m2", band_table=table, max_dose_per_admin=1700)
    result = line_dose(line, MAN, DosingRules(banding="arrondi_superieur"))
    assert rules_of(result) == ["STANDARDISATION", "PLAFOND_DOSE"]
    assert result.dose == 1700
    assert_chain(result)


def test_line_tolerance_overrides_the_settings():
    assert line_dose(LineSpec("x", 10, "mg", tolerance_pct=10), MAN, RULES).tolerance_pct == 10
    assert (
        line_dose(LineSpec("x", 10, "mg"), MAN, DosingRules(dose_tolerance_pct=3)).tolerance_pct
        == 3
    )


# --- specs, rules and settings --------------------------------------------------------------


@pytest.mark.parametrize("unit", ["mg/m3", "mg/M2", "", None, "g"])
def test_unknown_unit_is_refused(unit):
    with pytest.raises(OncoError, match="Unité de dose inconnue") as error:
        LineSpec("x", 10, unit)
    assert error.value.field == "unité"


@pytest.mark.parametrize("dose", [0, -5, float("nan")])
def test_impossible_protocol_dose_is_refused(dose):
    with pytest.raises(OncoError):
        LineSpec("x", dose, "mg")


def test_patient_measures_are_checked_at_construction():
    with pytest.raises(OncoError, match="ressemble à des mètres"):
        PatientMeasures(weight_kg=70, height_cm=1.75, age_years=50, sex="F")
    with pytest.raises(OncoError, match="ressemble à des mg/dL"):
        PatientMeasures(weight_kg=70, height_cm=175, age_years=50, sex="F", creatinine_umol_l=0.9)
    with pytest.raises(OncoError, match="Poids impossible"):
        PatientMeasures(weight_kg=0, height_cm=175, age_years=50, sex="F")


@pytest.mark.parametrize(
    "field,value",
    [
        ("bsa_formula", "dubios"),
        ("renal_formula", "cockroft"),
        ("clearance_weight", "lean"),
        ("carboplatin_method", "egorin"),
        ("banding", "arrondi"),
        ("bsa_cap_m2", 0),
        ("gfr_cap", -1),
        ("rounding_step_mg", -1),
    ],
)
def test_unknown_rules_are_refused(field, value):
    with pytest.raises(OncoError):
        DosingRules(**{field: value})


def test_rules_from_the_shipped_settings():
    rules = rules_from_settings(load_settings().dosage)
    assert rules == DosingRules(
        bsa_formula="dubois",
        bsa_cap_m2=None,  # surface_max_m2 = 0 means no cap
        renal_formula="cockcroft_gault",
        clearance_weight="actual",
        carboplatin_method="calvert",
        gfr_cap=125.0,
        rounding_step_mg=0.0,
        banding="aucun",
        dose_tolerance_pct=5.0,
    )


def test_rules_from_a_mapping():
    rules = rules_from_settings(
        {
            "formule_surface": "mosteller",
            "surface_max_m2": 2.2,
            "standardisation": "arrondi_inferieur",
        }
    )
    assert (rules.bsa_formula, rules.bsa_cap_m2, rules.banding) == (
        "mosteller",
        2.2,
        "arrondi_inferieur",
    )
    assert rules.renal_formula == "cockcroft_gault"
    with pytest.raises(OncoError, match="Formule de surface corporelle inconnue"):
        rules_from_settings({"formule_surface": "meeh"})


# --- deviation --------------------------------------------------------------------------------


def test_dose_deviation():
    assert dose_deviation_pct(105, 100) == pytest.approx(5)
    assert dose_deviation_pct(90, 100) == pytest.approx(-10)
    with pytest.raises(OncoError, match="Dose de référence impossible"):
        dose_deviation_pct(100, 0)
    with pytest.raises(OncoError, match="Dose prescrite négative"):
        dose_deviation_pct(-1, 100)


def test_deviation_finding_within_and_beyond_tolerance():
    assert deviation_finding(105, 100, 5, "cisplatine") is None
    finding = deviation_finding(110, 100, 5, "cisplatine")
    assert finding.rule == "ECART_DOSE" and finding.severity == "bloquant"
    assert finding.message == (
        "Écart de dose +10,0 % pour cisplatine : prescrit 110 mg, attendu 100 mg (tolérance ± 5 %)"
    )
    assert finding.values["ecart_pct"] == pytest.approx(10)


# --- properties -------------------------------------------------------------------------------

patients = st.builds(
    PatientMeasures,
    weight_kg=st.floats(min_value=3, max_value=250),
    height_cm=st.floats(min_value=50, max_value=220),
    age_years=st.floats(min_value=18, max_value=100),
    sex=st.sampled_from(["M", "F"]),
    creatinine_umol_l=st.floats(min_value=30, max_value=900),
)
lines = st.builds(
    LineSpec,
    molecule=st.just("x"),
    dose=st.floats(min_value=0.1, max_value=2000),
    unit=st.sampled_from(["mg/m2", "mg/kg", "mg", "AUC", "UI/kg", "µg/kg"]),
    max_dose_per_admin=st.none() | st.floats(min_value=1, max_value=5000),
    max_dose_per_protocol=st.none() | st.floats(min_value=1, max_value=5000),
    rounding_step=st.none() | st.sampled_from([0.1, 1.0, 5.0, 10.0]),
)


@given(
    line=lines,
    patient=patients,
    reduction=st.sampled_from([0, 10, 20, 25, 50]),
    cap=st.none() | st.floats(min_value=1.5, max_value=2.5),
    banding=st.sampled_from(["aucun", "arrondi_superieur", "arrondi_inferieur"]),
)
@settings(max_examples=300, deadline=None)
def test_every_change_is_reported_and_caps_hold(line, patient, reduction, cap, banding):
    if line.unit == "AUC" and line.dose > 10:
        line = LineSpec("x", 5, "AUC", line.max_dose_per_admin, line.max_dose_per_protocol)
    table = load_band_table("nhs_20mgml_v7")
    line = LineSpec(
        line.molecule,
        line.dose,
        line.unit,
        line.max_dose_per_admin,
        line.max_dose_per_protocol,
        line.rounding_step,
        band_table=table,
    )
    rules = DosingRules(bsa_cap_m2=cap, banding=banding)
    result = line_dose(line, patient, rules, reduction, "motif" if reduction else None)
    assert_chain(result)
    for maximum in (line.max_dose_per_admin, line.max_dose_per_protocol):
        if maximum is not None:
            assert result.dose <= maximum
    assert len(set(rules_of(result))) == len(result.adjustments)  # each rule at most once
