"""The dose engine: the single place where doses are computed.

Standard library only, so that a ribbon click pays almost nothing to import it. Inputs are
checked for plausibility and refused with a French message naming the field; results are never
rounded here unless a function says so (rounding is a reported adjustment, not a side effect).
"""

from __future__ import annotations

import math

from oncosecours.domain.errors import OncoError

MG_DL_PER_UMOL_L = 1 / 88.4
"""Creatinine: 1 mg/dL = 88.4 µmol/L."""

BSA_FORMULAS = ("mosteller", "dubois", "boyd", "haycock", "gehan_george")


# --- plausibility of the inputs -------------------------------------------------------------


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OncoError(f"Valeur non numérique : {value!r}", field=field)
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise OncoError(f"Valeur non numérique : {value!r}", field=field)
    return number


def check_weight(weight_kg: object, field: str = "poids") -> float:
    """A weight in kg, refused outside ]0, 350]."""
    weight = _number(weight_kg, field)
    if weight <= 0 or weight > 350:
        raise OncoError(
            f"Poids impossible : {weight:g} kg (attendu entre 0 et 350 kg)", field=field
        )
    return weight


def check_height(height_cm: object, field: str = "taille") -> float:
    """A height in cm, refused outside [40, 250]; a value like 1.75 is a height in metres."""
    height = _number(height_cm, field)
    if 0.4 <= height <= 2.5:
        raise OncoError(
            f"Taille impossible : {height:g} cm",
            field=field,
            hint=f"Cette valeur ressemble à des mètres : saisir {height * 100:g} cm",
        )
    if height < 40 or height > 250:
        raise OncoError(
            f"Taille impossible : {height:g} cm (attendu entre 40 et 250 cm)", field=field
        )
    return height


def check_creatinine(creatinine_umol_l: object, field: str = "créatinine") -> float:
    """A serum creatinine in µmol/L; a value below 10 looks like mg/dL and is refused with a hint."""
    creat = _number(creatinine_umol_l, field)
    if 0 < creat < 10:
        raise OncoError(
            f"Créatinine impossible : {creat:g} µmol/L",
            field=field,
            hint=(
                "Cette valeur ressemble à des mg/dL : en µmol/L cela fait "
                f"{creat * 88.4:.0f} µmol/L (1 mg/dL = 88,4 µmol/L)"
            ),
        )
    if creat <= 0 or creat > 3000:
        raise OncoError(
            f"Créatinine impossible : {creat:g} µmol/L (attendu entre 10 et 3000 µmol/L)",
            field=field,
        )
    return creat


def check_age(age_years: object, field: str = "âge") -> float:
    """An age in years, refused outside [0, 120]."""
    age = _number(age_years, field)
    if age < 0 or age > 120:
        raise OncoError(f"Âge impossible : {age:g} ans (attendu entre 0 et 120 ans)", field=field)
    return age


def check_sex(sex: object, field: str = "sexe") -> str:
    """``"M"`` or ``"F"``."""
    if sex not in ("M", "F"):
        raise OncoError(f"Sexe inconnu : {sex!r} (attendu « M » ou « F »)", field=field)
    return str(sex)


# --- body surface area ----------------------------------------------------------------------


def body_surface_area(height_cm: float, weight_kg: float, formula: str = "dubois") -> float:
    """Body surface area in m², not rounded.

    Boyd (1935) takes the weight in grams, with a log10 exponent; the others take kg and cm.
    """
    height = check_height(height_cm)
    weight = check_weight(weight_kg)
    if formula == "mosteller":
        return math.sqrt(height * weight / 3600.0)
    if formula == "dubois":
        return 0.007184 * weight**0.425 * height**0.725
    if formula == "boyd":
        grams = weight * 1000.0
        return 0.0003207 * height**0.3 * grams ** (0.7285 - 0.0188 * math.log10(grams))
    if formula == "haycock":
        return 0.024265 * weight**0.5378 * height**0.3964
    if formula == "gehan_george":
        return 0.0235 * weight**0.51456 * height**0.42246
    raise OncoError(
        f"Formule de surface corporelle inconnue : {formula!r} "
        f"(formules connues : {', '.join(BSA_FORMULAS)})",
        field="formule_surface",
    )


# --- renal function -------------------------------------------------------------------------


def ideal_body_weight(height_cm: float, sex: str) -> float:
    """Devine ideal body weight in kg (50 kg men, 45.5 kg women, + 2.3 kg per inch over 5 ft)."""
    height = check_height(height_cm)
    base = 50.0 if check_sex(sex) == "M" else 45.5
    return base + 2.3 * (height / 2.54 - 60.0)


def adjusted_body_weight(weight_kg: float, height_cm: float, sex: str) -> float:
    """Adjusted body weight: IBW + 0.4 × (actual − IBW), used for obese patients."""
    weight = check_weight(weight_kg)
    ibw = ideal_body_weight(height_cm, sex)
    return ibw + 0.4 * (weight - ibw)


def cockcroft_gault(
    age_years: float,
    weight_kg: float,
    creatinine_umol_l: float,
    sex: str,
    *,
    weight_basis: str = "actual",
    height_cm: float | None = None,
) -> float:
    """Creatinine clearance in mL/min: (140 − age) × W / (72 × SCr mg/dL), × 0.85 for women.

    ``weight_basis`` is ``"actual"``, ``"ideal"`` or ``"adjusted"`` (the last two need the height).
    """
    age = check_age(age_years)
    creat = check_creatinine(creatinine_umol_l)
    sex = check_sex(sex)
    weight = check_weight(weight_kg)
    if weight_basis != "actual":
        if height_cm is None:
            raise OncoError(
                "La taille est nécessaire pour le poids idéal ou ajusté", field="taille"
            )
        if weight_basis == "ideal":
            weight = ideal_body_weight(height_cm, sex)
        elif weight_basis == "adjusted":
            weight = adjusted_body_weight(weight, height_cm, sex)
        else:
            raise OncoError(
                f"Base de poids inconnue : {weight_basis!r} (actual, ideal, adjusted)",
                field="poids_clairance",
            )
    clearance = (140.0 - age) * weight / (72.0 * creat * MG_DL_PER_UMOL_L)
    return clearance * 0.85 if sex == "F" else clearance


def ckd_epi(creatinine_umol_l: float, age_years: float, sex: str, version: int = 2021) -> float:
    """eGFR in mL/min/1.73 m²: CKD-EPI 2009 (without the race factor) or 2021."""
    scr = check_creatinine(creatinine_umol_l) * MG_DL_PER_UMOL_L
    age = check_age(age_years)
    female = check_sex(sex) == "F"
    kappa = 0.7 if female else 0.9
    ratio = scr / kappa
    if version == 2009:
        alpha = -0.329 if female else -0.411
        egfr = 141.0 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.209 * 0.993**age
        return egfr * 1.018 if female else egfr
    if version == 2021:
        alpha = -0.241 if female else -0.302
        egfr = 142.0 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938**age
        return egfr * 1.012 if female else egfr
    raise OncoError(f"Version CKD-EPI inconnue : {version!r} (2009 ou 2021)", field="version")


def mdrd(creatinine_umol_l: float, age_years: float, sex: str) -> float:
    """eGFR in mL/min/1.73 m², IDMS-traceable MDRD (175 × SCr^−1.154 × age^−0.203, × 0.742 women)."""
    scr = check_creatinine(creatinine_umol_l) * MG_DL_PER_UMOL_L
    age = check_age(age_years)
    if age < 18:
        raise OncoError("MDRD n'est pas validée avant 18 ans", field="âge")
    egfr = 175.0 * scr**-1.154 * age**-0.203
    return egfr * 0.742 if check_sex(sex) == "F" else egfr


def calvert_dose(auc: float, gfr_ml_min: float, gfr_cap: float = 125.0) -> float:
    """Carboplatin dose in mg: AUC × (min(GFR, cap) + 25)."""
    auc = _number(auc, "AUC")
    gfr = _number(gfr_ml_min, "DFG")
    if auc <= 0 or auc > 10:
        raise OncoError(f"AUC impossible : {auc:g} mg/mL·min (attendu entre 0 et 10)", field="AUC")
    if gfr <= 0:
        raise OncoError(f"Débit de filtration impossible : {gfr:g} mL/min", field="DFG")
    return auc * (min(gfr, gfr_cap) + 25.0)


def chatelut_clearance(
    weight_kg: float, age_years: float, creatinine_umol_l: float, sex: str
) -> float:
    """Carboplatin clearance (Chatelut) in mL/min.

    0.134·W + 218·W·(1 − 0.00457·age)·(1 − 0.314·sex) / SCr(µmol/L), with sex = 1 for women.
    """
    weight = check_weight(weight_kg)
    age = check_age(age_years)
    creat = check_creatinine(creatinine_umol_l)
    female = 1.0 if check_sex(sex) == "F" else 0.0
    return 0.134 * weight + 218.0 * weight * (1 - 0.00457 * age) * (1 - 0.314 * female) / creat
