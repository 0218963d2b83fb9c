"""Dose-engine formulas: the real HEGP extracts, published values, properties, mutants, bad input.

The "mutation-style" tests run the same checks against deliberately wrong variants of a formula
(natural log in Boyd, 0.85 forgotten, 88 instead of 88.4...) and require them to fail: they show
that the checks used on the real functions can fail.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncosecours.domain.errors import OncoError
from oncosecours.dosing import (
    BSA_FORMULAS,
    adjusted_body_weight,
    body_surface_area,
    calvert_dose,
    chatelut_clearance,
    ckd_epi,
    cockcroft_gault,
    ideal_body_weight,
    mdrd,
)

CURES = Path(__file__).resolve().parents[2].parent / "shared/reference/chimio-hegp/cures"
UMOL_PER_MG_DL = 88.4


# --- the real HEGP extracts ------------------------------------------------------------------


def hegp_rows() -> list[dict[str, str]]:
    rows = []
    for path in sorted(CURES.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                row["_file"] = path.name
                rows.append(row)
    return rows


def _value(text: str) -> float | None:
    return None if text in ("None", "", None) else float(text.replace(",", "."))


def hegp_mismatches(bsa, column: str) -> tuple[int, list[tuple]]:
    """Rows checked and rows where ``round(bsa(height, weight), 2)`` differs from ``column``."""
    checked, wrong = 0, []
    for row in hegp_rows():
        weight, height, expected = _value(row["POIDS"]), _value(row["TAILLE"]), _value(row[column])
        if weight is None or height is None or expected is None:
            continue
        checked += 1
        got = round(bsa(height, weight), 2)
        if got != expected:
            wrong.append((row["_file"], row["ROW_NUM"], weight, height, expected, got))
    return checked, wrong


@pytest.fixture(scope="module")
def hegp_available():
    if not CURES.is_dir():
        pytest.skip(f"extraits HEGP absents : {CURES}")


def test_hegp_dubois_equals_chimio_scpatpre(hegp_available):
    checked, wrong = hegp_mismatches(lambda h, w: body_surface_area(h, w, "dubois"), "SCPATPRE")
    assert checked > 0
    assert wrong == []
    print(f"DuBois: {checked} lignes HEGP vérifiées")  # 356 rows in the extracts


def test_hegp_boyd_equals_chimio_scpatboyd(hegp_available):
    checked, wrong = hegp_mismatches(lambda h, w: body_surface_area(h, w, "boyd"), "SCPATBOYD")
    assert checked > 0
    assert wrong == []
    print(f"Boyd: {checked} lignes HEGP vérifiées")  # 460 rows in the extracts


def boyd_natural_log(h, w):
    g = w * 1000
    return 0.0003207 * h**0.3 * g ** (0.7285 - 0.0188 * math.log(g))


def boyd_weight_in_kg(h, w):
    return 0.0003207 * h**0.3 * w ** (0.7285 - 0.0188 * math.log10(w))


def boyd_without_height_exponent(h, w):
    g = w * 1000
    return 0.0003207 * h**0.35 * g ** (0.7285 - 0.0188 * math.log10(g))


def dubois_swapped_exponents(h, w):
    return 0.007184 * w**0.725 * h**0.425


def dubois_typo_coefficient(h, w):
    return 0.007148 * w**0.425 * h**0.725


@pytest.mark.parametrize(
    "mutant,column",
    [
        (boyd_natural_log, "SCPATBOYD"),
        (boyd_weight_in_kg, "SCPATBOYD"),
        (boyd_without_height_exponent, "SCPATBOYD"),
        (dubois_swapped_exponents, "SCPATPRE"),
        (dubois_typo_coefficient, "SCPATPRE"),
    ],
)
def test_hegp_check_catches_wrong_formulas(hegp_available, mutant, column):
    checked, wrong = hegp_mismatches(mutant, column)
    assert checked > 0 and len(wrong) > 0


def test_hegp_dubois_and_boyd_are_not_interchangeable(hegp_available):
    # Chimio's SCPATPRE is DuBois, not Boyd (and the reverse): the columns are not mixed up.
    _, wrong = hegp_mismatches(lambda h, w: body_surface_area(h, w, "boyd"), "SCPATPRE")
    assert wrong


# --- published values ------------------------------------------------------------------------


def test_mosteller_published_definition():
    # Mosteller RD, N Engl J Med 1987;317:1098: BSA = sqrt(height cm × weight kg / 3600).
    assert body_surface_area(180, 80, "mosteller") == pytest.approx(2.0, abs=1e-12)
    assert body_surface_area(160, 90, "mosteller") == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize(
    "formula,expected",
    # 170 cm, 70 kg, to 2 decimals, as published by the calcipedia.org BSA calculator comparison
    # ("Mosteller 1.82, Du Bois 1.81, Haycock 1.83, Gehan & George 1.83, Boyd 1.83").
    [
        ("mosteller", 1.82),
        ("dubois", 1.81),
        ("haycock", 1.83),
        ("gehan_george", 1.83),
        ("boyd", 1.83),
    ],
)
def test_bsa_published_comparison_170_cm_70_kg(formula, expected):
    assert round(body_surface_area(170, 70, formula), 2) == expected


@pytest.mark.parametrize(
    "formula,coefficient,weight_exp,height_exp",
    [
        ("dubois", 0.007184, 0.425, 0.725),  # DuBois & DuBois, Arch Intern Med 1916;17:863
        ("haycock", 0.024265, 0.5378, 0.3964),  # Haycock et al., J Pediatr 1978;93:62
        ("gehan_george", 0.0235, 0.51456, 0.42246),  # Gehan & George, Cancer Chemother Rep 1970
    ],
)
@pytest.mark.parametrize("height,weight", [(50, 3.5), (120, 22), (165, 58), (190, 120)])
def test_power_law_bsa_equal_published_coefficients(
    formula, coefficient, weight_exp, height_exp, height, weight
):
    # Written in log form, independently of the implementation.
    expected = math.exp(
        math.log(coefficient) + weight_exp * math.log(weight) + height_exp * math.log(height)
    )
    assert body_surface_area(height, weight, formula) == pytest.approx(expected, rel=1e-12)


def test_boyd_published_form_in_grams():
    # Boyd E, The growth of the surface area of the human body, 1935:
    # BSA = 0.0003207 × H^0.3 × W(g)^(0.7285 − 0.0188 log10 W(g)).
    grams = 70_000
    exponent = 0.7285 - 0.0188 * math.log10(grams)
    expected = 0.0003207 * 170**0.3 * 10 ** (exponent * math.log10(grams))
    assert body_surface_area(170, 70, "boyd") == pytest.approx(expected, rel=1e-12)


def test_cockcroft_gault_published_equation():
    # Cockcroft & Gault, Nephron 1976;16:31: (140 − age) × weight / (72 × SCr mg/dL), × 0.85 women.
    # SCr 88.4 µmol/L = 1 mg/dL exactly.
    assert cockcroft_gault(60, 72, 88.4, "M") == pytest.approx(80.0, rel=1e-12)
    assert cockcroft_gault(60, 72, 88.4, "F") == pytest.approx(68.0, rel=1e-12)
    assert cockcroft_gault(40, 72, 176.8, "M") == pytest.approx(50.0, rel=1e-12)


def cg_failures(cg) -> list[str]:
    """Pinned Cockcroft-Gault values a correct implementation must meet."""
    failures = []
    if not math.isclose(cg(60, 72, 88.4, "M"), 80.0, rel_tol=1e-9):
        failures.append("homme 60 ans 72 kg 1 mg/dL ≠ 80 mL/min")
    if not math.isclose(cg(60, 72, 88.4, "F"), 68.0, rel_tol=1e-9):
        failures.append("femme ≠ 0,85 × homme")
    if not math.isclose(cg(90, 50, 132.6, "M"), 50 * 50 / (72 * 1.5), rel_tol=1e-9):
        failures.append("homme 90 ans 50 kg 1,5 mg/dL")
    return failures


def test_cockcroft_gault_passes_pinned_values():
    assert cg_failures(cockcroft_gault) == []


@pytest.mark.parametrize(
    "mutant",
    [
        lambda a, w, c, s: (140 - a) * w / (72 * c / 88.4),  # 0.85 forgotten for women
        lambda a, w, c, s: (140 - a) * w / (72 * c / 88.0) * (0.85 if s == "F" else 1),  # 88
        lambda a, w, c, s: (140 - a) * w / (72 * c / 88.4) * (0.75 if s == "F" else 1),
        lambda a, w, c, s: (145 - a) * w / (72 * c / 88.4) * (0.85 if s == "F" else 1),
        lambda a, w, c, s: (140 - a) * w / (72 * c) * (0.85 if s == "F" else 1),  # µmol/L as mg/dL
    ],
)
def test_cockcroft_gault_checks_catch_mutants(mutant):
    assert cg_failures(mutant) != []


def test_cockcroft_gault_ideal_and_adjusted_weight():
    # Devine: 50 kg + 2.3 kg per inch over 5 ft (men), 45.5 kg (women). 182.88 cm = 72 in.
    assert ideal_body_weight(182.88, "M") == pytest.approx(50 + 2.3 * 12)
    assert ideal_body_weight(182.88, "F") == pytest.approx(45.5 + 2.3 * 12)
    ibw = 50 + 2.3 * 12
    assert adjusted_body_weight(120, 182.88, "M") == pytest.approx(ibw + 0.4 * (120 - ibw))
    ideal = cockcroft_gault(60, 120, 88.4, "M", weight_basis="ideal", height_cm=182.88)
    adjusted = cockcroft_gault(60, 120, 88.4, "M", weight_basis="adjusted", height_cm=182.88)
    assert ideal == pytest.approx(80 * ibw / 72)
    assert adjusted == pytest.approx(80 * (ibw + 0.4 * (120 - ibw)) / 72)
    with pytest.raises(OncoError, match="taille est nécessaire"):
        cockcroft_gault(60, 120, 88.4, "M", weight_basis="ideal")
    with pytest.raises(OncoError, match="Base de poids inconnue"):
        cockcroft_gault(60, 120, 88.4, "M", weight_basis="maigre", height_cm=180)


def ckd_epi_published(scr_mg_dl: float, age: float, female: bool, version: int) -> float:
    """The piecewise form printed in the papers (Levey, Ann Intern Med 2009;150:604, without the
    race factor; Inker, N Engl J Med 2021;385:1737)."""
    if version == 2021:
        if female:
            alpha = -0.241 if scr_mg_dl <= 0.7 else -1.2
            return 142 * (scr_mg_dl / 0.7) ** alpha * 0.9938**age * 1.012
        alpha = -0.302 if scr_mg_dl <= 0.9 else -1.2
        return 142 * (scr_mg_dl / 0.9) ** alpha * 0.9938**age
    if female:
        alpha = -0.329 if scr_mg_dl <= 0.7 else -1.209
        return 144 * (scr_mg_dl / 0.7) ** alpha * 0.993**age
    alpha = -0.411 if scr_mg_dl <= 0.9 else -1.209
    return 141 * (scr_mg_dl / 0.9) ** alpha * 0.993**age


@pytest.mark.parametrize("version", [2009, 2021])
@pytest.mark.parametrize("sex", ["M", "F"])
@pytest.mark.parametrize("scr_mg_dl", [0.4, 0.7, 0.8, 0.9, 1.0, 1.5, 3.0])
@pytest.mark.parametrize("age", [20, 50, 85])
def test_ckd_epi_equals_published_piecewise_form(version, sex, scr_mg_dl, age):
    got = ckd_epi(scr_mg_dl * UMOL_PER_MG_DL, age, sex, version)
    expected = ckd_epi_published(scr_mg_dl, age, sex == "F", version)
    # 2009 women: the paper's table prints 144 for 141 × 1.018 = 143.54 (its general form, used
    # here), hence 0.33 % of slack for that case only.
    assert got == pytest.approx(expected, rel=3.3e-3 if version == 2009 and sex == "F" else 1e-12)


def test_ckd_epi_2021_known_value():
    # Man, 50 years, SCr 1.0 mg/dL: 142 × (1/0.9)^−1.2 × 0.9938^50 ≈ 91.7 mL/min/1.73 m².
    assert round(ckd_epi(88.4, 50, "M", 2021)) == 92
    assert round(ckd_epi(88.4, 50, "F", 2021)) == 69


def test_mdrd_published_equation():
    # Levey 2006 (IDMS-traceable): 175 × SCr^−1.154 × age^−0.203 × 0.742 (women).
    assert mdrd(88.4, 50, "M") == pytest.approx(175 * 50**-0.203, rel=1e-12)
    assert mdrd(88.4, 50, "F") == pytest.approx(175 * 50**-0.203 * 0.742, rel=1e-12)
    assert mdrd(176.8, 60, "M") == pytest.approx(175 * 2**-1.154 * 60**-0.203, rel=1e-12)
    with pytest.raises(OncoError, match="MDRD n'est pas validée avant 18 ans"):
        mdrd(50, 12, "M")


def test_calvert_published_formula_and_cap():
    # Calvert AH et al., J Clin Oncol 1989;7:1748: dose (mg) = AUC × (GFR + 25).
    assert calvert_dose(5, 100) == 625
    assert calvert_dose(6, 60) == 510
    assert calvert_dose(5, 180) == 5 * 150  # GFR capped at 125 mL/min by default
    assert calvert_dose(5, 180, gfr_cap=math.inf) == 5 * 205
    assert calvert_dose(5, 180, gfr_cap=None) == 5 * 205  # no cap
    with pytest.raises(OncoError, match="AUC impossible"):
        calvert_dose(0, 100)
    with pytest.raises(OncoError, match="Débit de filtration impossible"):
        calvert_dose(5, 0)


def test_chatelut_published_equation():
    # Chatelut E et al., J Natl Cancer Inst 1995;87:573:
    # CL = 0.134 W + 218 W (1 − 0.00457 age)(1 − 0.314 sex) / SCr µmol/L, sex = 1 for women.
    man = 0.134 * 70 + 218 * 70 * (1 - 0.00457 * 60) / 80
    assert chatelut_clearance(70, 60, 80, "M") == pytest.approx(man, rel=1e-12)
    woman = 0.134 * 60 + 218 * 60 * (1 - 0.00457 * 60) * (1 - 0.314) / 80
    assert chatelut_clearance(60, 60, 80, "F") == pytest.approx(woman, rel=1e-12)


# --- properties ------------------------------------------------------------------------------

weights = st.floats(min_value=0.5, max_value=349.0, allow_nan=False)
heights = st.floats(min_value=40.0, max_value=249.0, allow_nan=False)


@given(weight=weights, height=heights, formula=st.sampled_from(BSA_FORMULAS))
@settings(max_examples=300, deadline=None)
def test_bsa_increases_with_weight_and_height(weight, height, formula):
    bsa = body_surface_area(height, weight, formula)
    assert body_surface_area(height, weight + 1.0, formula) > bsa
    assert body_surface_area(height + 1.0, weight, formula) > bsa


@given(weight=st.floats(min_value=0.5, max_value=350.0), height=st.floats(40.0, 250.0))
@settings(max_examples=300, deadline=None)
def test_bsa_bounds(weight, height):
    for formula in BSA_FORMULAS:
        assert 0.05 < body_surface_area(height, weight, formula) < 5.2


@given(
    height=st.floats(min_value=150.0, max_value=200.0),
    bmi=st.floats(min_value=18.5, max_value=35.0),
)
@settings(max_examples=200, deadline=None)
def test_bsa_formulas_agree_for_adults(height, bmi):
    # For ordinary adult builds the five formulas stay within 6 % of Mosteller; a wrong
    # coefficient or exponent (e.g. 0.7184 or swapped exponents) breaks this at once.
    weight = bmi * (height / 100) ** 2
    reference = body_surface_area(height, weight, "mosteller")
    for formula in BSA_FORMULAS:
        assert body_surface_area(height, weight, formula) == pytest.approx(reference, rel=0.06)


@given(
    age=st.floats(min_value=18, max_value=100),
    weight=st.floats(min_value=30, max_value=200),
    creat=st.floats(min_value=20, max_value=1500),
    sex=st.sampled_from(["M", "F"]),
)
@settings(max_examples=300, deadline=None)
def test_renal_functions_move_the_right_way(age, weight, creat, sex):
    cg = cockcroft_gault(age, weight, creat, sex)
    assert cg > 0
    assert cockcroft_gault(age, weight + 1, creat, sex) > cg
    assert cockcroft_gault(age + 1, weight, creat, sex) < cg
    assert cockcroft_gault(age, weight, creat + 1, sex) < cg
    for version in (2009, 2021):
        egfr = ckd_epi(creat, age, sex, version)
        assert 0 < egfr < 250
        assert ckd_epi(creat + 1, age, sex, version) < egfr
        assert ckd_epi(creat, age + 1, sex, version) < egfr
    assert mdrd(creat + 1, age, sex) < mdrd(creat, age, sex)
    if sex == "F":
        assert cg == pytest.approx(cockcroft_gault(age, weight, creat, "M") * 0.85)


@given(scr=st.sampled_from([0.7, 0.9]), sex=st.sampled_from(["M", "F"]))
def test_ckd_epi_is_continuous_at_kappa(scr, sex):
    umol = scr * UMOL_PER_MG_DL
    for version in (2009, 2021):
        below = ckd_epi(umol * (1 - 1e-9), 50, sex, version)
        above = ckd_epi(umol * (1 + 1e-9), 50, sex, version)
        assert below == pytest.approx(above, rel=1e-6)


@given(auc=st.floats(min_value=0.5, max_value=10), gfr=st.floats(min_value=1, max_value=300))
def test_calvert_never_exceeds_the_capped_dose(auc, gfr):
    dose = calvert_dose(auc, gfr)
    assert dose <= auc * 150 + 1e-9
    assert calvert_dose(auc, gfr + 1) >= dose


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [0, -70, 351, 1000])
def test_impossible_weight_is_refused_naming_the_field(weight):
    with pytest.raises(OncoError) as error:
        body_surface_area(170, weight)
    assert error.value.field == "poids"
    assert "Poids impossible" in str(error.value)
    assert "(attendu : poids > 0 et ≤ 350 kg)" in str(error.value)


def test_height_in_metres_gets_a_hint():
    with pytest.raises(OncoError) as error:
        body_surface_area(1.75, 70)
    assert error.value.field == "taille"
    assert "ressemble à des mètres" in str(error.value)
    assert "175 cm" in str(error.value)


@pytest.mark.parametrize("height", [30, 260, 0])
def test_impossible_height_is_refused(height):
    with pytest.raises(OncoError, match="Taille impossible") as error:
        body_surface_area(height, 70)
    assert error.value.field == "taille"


def test_creatinine_in_mg_dl_gets_a_hint():
    with pytest.raises(OncoError) as error:
        cockcroft_gault(60, 70, 0.9, "M")
    assert error.value.field == "créatinine"
    text = str(error.value)
    assert "mg/dL" in text and "80 µmol/L" in text and "88,4" in text


@pytest.mark.parametrize("creat", [0, -5, 3500])
def test_impossible_creatinine_is_refused(creat):
    with pytest.raises(OncoError, match="Créatinine impossible"):
        ckd_epi(creat, 60, "M")


@pytest.mark.parametrize("age", [-1, 121, 200])
def test_impossible_age_is_refused(age):
    with pytest.raises(OncoError, match="Âge impossible") as error:
        cockcroft_gault(age, 70, 80, "M")
    assert error.value.field == "âge"


def test_unknown_formula_sex_version_are_refused():
    with pytest.raises(OncoError, match="Formule de surface corporelle inconnue") as error:
        body_surface_area(170, 70, "dubios")
    assert error.value.field == "formule_surface"
    assert "mosteller" in str(error.value)
    with pytest.raises(OncoError, match="Sexe inconnu"):
        cockcroft_gault(60, 70, 80, "H")
    with pytest.raises(OncoError, match="Version CKD-EPI inconnue"):
        ckd_epi(80, 60, "M", 2012)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "70", None, True])
def test_non_numbers_are_refused(value):
    with pytest.raises(OncoError, match="Valeur non numérique"):
        body_surface_area(170, value)
