"""The dose engine: the single place where doses are computed.

Standard library only, so that a ribbon click pays almost nothing to import it. Inputs are
checked for plausibility and refused with a French message naming the field; results are never
rounded here unless a function says so (rounding is a reported adjustment, not a side effect).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from oncosecours.domain.banding import CONVENTIONS, BandTable, band_lookup
from oncosecours.domain.bounds import bounds_fr, quoted
from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import Finding, fr_fixed, fr_num, fr_signed

MG_DL_PER_UMOL_L = 1 / 88.4
"""Creatinine: 1 mg/dL = 88.4 µmol/L."""

BSA_FORMULAS = ("mosteller", "dubois", "boyd", "haycock", "gehan_george")


# --- plausibility of the inputs -------------------------------------------------------------


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OncoError(f"Valeur non numérique : « {value} »", field=field)
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise OncoError(f"Valeur non numérique : « {value} »", field=field)
    return number


def check_weight(weight_kg: object, field: str = "poids") -> float:
    """A weight in kg, refused outside ]0, 350]."""
    weight = _number(weight_kg, field)
    if weight <= 0 or weight > 350:
        raise OncoError(
            f"Poids impossible : {quoted(weight, 'kg')} (attendu : "
            f"{bounds_fr('poids', 0, 350, 'kg', low_included=False)})",
            field=field,
        )
    return weight


def check_height(height_cm: object, field: str = "taille") -> float:
    """A height in cm, refused outside [40, 250]; a value like 1.75 is a height in metres."""
    height = _number(height_cm, field)
    if 0.4 <= height <= 2.5:
        raise OncoError(
            f"Taille impossible : {quoted(height, 'cm')}",
            field=field,
            hint=f"Cette valeur ressemble à des mètres : saisir {height * 100:g} cm",
        )
    if height < 40 or height > 250:
        raise OncoError(
            f"Taille impossible : {quoted(height, 'cm')} (attendu : "
            f"{bounds_fr('taille', 40, 250, 'cm')})",
            field=field,
        )
    return height


def check_creatinine(creatinine_umol_l: object, field: str = "créatinine") -> float:
    """A serum creatinine in µmol/L; a value below 10 looks like mg/dL and is refused with a hint."""
    creat = _number(creatinine_umol_l, field)
    if 0 < creat < 10:
        raise OncoError(
            f"Créatinine impossible : {quoted(creat, 'µmol/L')}",
            field=field,
            hint=(
                "Cette valeur ressemble à des mg/dL : en µmol/L cela fait "
                f"{creat * 88.4:.0f} µmol/L (1 mg/dL = 88,4 µmol/L)"
            ),
        )
    if creat <= 0 or creat > 3000:
        raise OncoError(
            f"Créatinine impossible : {quoted(creat, 'µmol/L')} (attendu : "
            f"{bounds_fr('créatinine', 10, 3000, 'µmol/L')})",
            field=field,
        )
    return creat


def check_age(age_years: object, field: str = "âge") -> float:
    """An age in years, refused outside [0, 120]."""
    age = _number(age_years, field)
    if age < 0 or age > 120:
        raise OncoError(
            f"Âge impossible : {quoted(age, 'ans')} (attendu : {bounds_fr('âge', 0, 120, 'ans')})",
            field=field,
        )
    return age


def check_sex(sex: object, field: str = "sexe") -> str:
    """``"M"`` or ``"F"``."""
    if sex not in ("M", "F"):
        raise OncoError(f"Sexe inconnu : « {sex} » (attendu « M » ou « F »)", field=field)
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
        f"Formule de surface corporelle inconnue : « {formula} » "
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
                f"Base de poids inconnue : « {weight_basis} » (actual, ideal, adjusted)",
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
    raise OncoError(f"Version CKD-EPI inconnue : « {version} » (2009 ou 2021)", field="version")


def mdrd(creatinine_umol_l: float, age_years: float, sex: str) -> float:
    """eGFR in mL/min/1.73 m², IDMS-traceable MDRD (175 × SCr^−1.154 × age^−0.203, × 0.742 women)."""
    scr = check_creatinine(creatinine_umol_l) * MG_DL_PER_UMOL_L
    age = check_age(age_years)
    if age < 18:
        raise OncoError("MDRD n'est pas validée avant 18 ans", field="âge")
    egfr = 175.0 * scr**-1.154 * age**-0.203
    return egfr * 0.742 if check_sex(sex) == "F" else egfr


def calvert_dose(auc: float, gfr_ml_min: float, gfr_cap: float | None = 125.0) -> float:
    """Carboplatin dose in mg: AUC × (min(GFR, cap) + 25); ``gfr_cap=None`` means no cap."""
    auc = _number(auc, "AUC")
    gfr = _number(gfr_ml_min, "DFG")
    if auc <= 0 or auc > 10:
        raise OncoError(
            f"AUC impossible : {quoted(auc, 'mg/mL·min')} (attendu : "
            f"{bounds_fr('AUC', 0, 10, 'mg/mL·min', low_included=False)})",
            field="AUC",
        )
    if gfr <= 0:
        raise OncoError(f"Débit de filtration impossible : {gfr:g} mL/min", field="DFG")
    if gfr_cap is not None:
        gfr = min(gfr, float(gfr_cap))
    return auc * (gfr + 25.0)


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


# --- line doses -----------------------------------------------------------------------------

BSA_LABELS = {
    "dubois": "DuBois",
    "mosteller": "Mosteller",
    "boyd": "Boyd",
    "haycock": "Haycock",
    "gehan_george": "Gehan-George",
}
RENAL_FORMULAS = ("cockcroft_gault", "ckd_epi_2021", "ckd_epi_2009", "mdrd")
RENAL_LABELS = {
    "cockcroft_gault": "Cockcroft-Gault",
    "ckd_epi_2021": "CKD-EPI 2021",
    "ckd_epi_2009": "CKD-EPI 2009",
    "mdrd": "MDRD",
}
CLEARANCE_WEIGHTS = ("actual", "ideal", "adjusted")
CLEARANCE_WEIGHT_LABELS = {
    "actual": "poids réel",
    "ideal": "poids idéal",
    "adjusted": "poids ajusté",
}
CARBOPLATIN_METHODS = ("calvert", "chatelut")
BANDING_MODES = ("aucun", *CONVENTIONS)
BANDING_LABELS = {
    "arrondi_superieur": "arrondi supérieur",
    "arrondi_inferieur": "arrondi inférieur",
}

# unit code -> (what the dose is multiplied by, unit of the absolute dose)
DOSE_UNITS: dict[str, tuple[str, str]] = {
    "mg/m2": ("surface", "mg"),
    "mg/kg": ("poids", "mg"),
    "mg": ("fixe", "mg"),
    "g": ("fixe", "g"),
    "mL": ("fixe", "mL"),
    "AUC": ("auc", "mg"),
    "UI/kg": ("poids", "UI"),
    "µg/kg": ("poids", "µg"),
    "µg/m2": ("surface", "µg"),
    "UI/m2": ("surface", "UI"),
    "µg": ("fixe", "µg"),
    "UI": ("fixe", "UI"),
    "MUI": ("fixe", "MUI"),
}
_UNIT_ALIASES = {
    "mg/m²": "mg/m2",
    "µg/m²": "µg/m2",
    "UI/m²": "UI/m2",
    "μg/kg": "µg/kg",  # Greek mu (U+03BC) instead of the micro sign (U+00B5)
    "μg/m2": "µg/m2",
    "μg": "µg",
    "auc": "AUC",
}


def dose_unit(unit: object) -> tuple[str, str]:
    """``(basis kind, absolute unit)`` of a protocol unit code, refused when unknown."""
    code = _UNIT_ALIASES.get(unit, unit) if isinstance(unit, str) else None
    if code not in DOSE_UNITS:
        raise OncoError(
            f"Unité de dose inconnue : « {unit} » (unités connues : {', '.join(DOSE_UNITS)})",
            field="unité",
        )
    return DOSE_UNITS[code]


@dataclass(frozen=True)
class Adjustment:
    """One change of the dose by a rule, with the values before and after, in ``unit``."""

    rule: str
    message: str
    before: float
    after: float
    unit: str


@dataclass(frozen=True)
class PatientMeasures:
    """The patient's measures used by the dose; checked at construction (French refusals)."""

    weight_kg: float
    height_cm: float
    age_years: float
    sex: str
    creatinine_umol_l: float | None = None

    def __post_init__(self) -> None:
        check_weight(self.weight_kg)
        check_height(self.height_cm)
        check_age(self.age_years)
        check_sex(self.sex)
        if self.creatinine_umol_l is not None:
            check_creatinine(self.creatinine_umol_l)


@dataclass(frozen=True)
class DosingRules:
    """How the hospital computes doses (built from settings by :func:`rules_from_settings`).

    ``banding``: ``"aucun"``, ``"arrondi_superieur"`` (NHS To(A)) or ``"arrondi_inferieur"``
    (NHS To(B)); see :mod:`oncosecours.domain.banding`. ``dose_tolerance_pct`` is the deviation
    tolerated between prescribed and reference dose when the molecule gives none.
    """

    bsa_formula: str = "dubois"
    bsa_cap_m2: float | None = None
    renal_formula: str = "cockcroft_gault"
    clearance_weight: str = "actual"
    carboplatin_method: str = "calvert"
    gfr_cap: float = 125.0
    rounding_step_mg: float = 0.0
    banding: str = "aucun"
    dose_tolerance_pct: float = 5.0

    def __post_init__(self) -> None:
        _choice(self.bsa_formula, BSA_FORMULAS, "formule_surface", "Formule de surface corporelle")
        _choice(self.renal_formula, RENAL_FORMULAS, "formule_renale", "Formule rénale")
        _choice(self.clearance_weight, CLEARANCE_WEIGHTS, "poids_clairance", "Base de poids")
        _choice(self.carboplatin_method, CARBOPLATIN_METHODS, "methode_carboplatine", "Méthode")
        _choice(self.banding, BANDING_MODES, "standardisation", "Standardisation")
        if self.bsa_cap_m2 is not None:
            cap = _number(self.bsa_cap_m2, "surface_max_m2")
            if not 0 < cap <= 4:
                raise OncoError(
                    f"Plafond de surface impossible : {quoted(cap, 'm²')} (attendu : "
                    f"{bounds_fr('plafond', 0, 4, 'm²', low_included=False)})",
                    field="surface_max_m2",
                )
        gfr_cap = _number(self.gfr_cap, "dfg_max_calvert")
        if not 0 < gfr_cap <= 250:
            raise OncoError(f"DFG maximal impossible : {gfr_cap:g} mL/min", field="dfg_max_calvert")
        if _number(self.rounding_step_mg, "pas_arrondi_mg") < 0:
            raise OncoError("Pas d'arrondi négatif", field="pas_arrondi_mg")
        tolerance = _number(self.dose_tolerance_pct, "tolerance_ecart_dose_pct")
        if not 0 <= tolerance < 100:
            raise OncoError(
                f"Tolérance d'écart impossible : {tolerance:g} %",
                field="tolerance_ecart_dose_pct",
            )


def _choice(value: object, allowed: tuple[str, ...], field: str, what: str) -> None:
    if value not in allowed:
        raise OncoError(
            f"{what} inconnue : « {value} » (valeurs connues : {', '.join(allowed)})", field=field
        )


def rules_from_settings(dosage: Mapping[str, object]) -> DosingRules:
    """:class:`DosingRules` from the ``[dosage]`` settings section (any mapping; absent keys keep
    the defaults). ``surface_max_m2 = 0`` means no BSA cap."""
    mapping = {
        "formule_surface": "bsa_formula",
        "surface_max_m2": "bsa_cap_m2",
        "formule_renale": "renal_formula",
        "poids_clairance": "clearance_weight",
        "methode_carboplatine": "carboplatin_method",
        "dfg_max_calvert": "gfr_cap",
        "pas_arrondi_mg": "rounding_step_mg",
        "standardisation": "banding",
        "tolerance_ecart_dose_pct": "dose_tolerance_pct",
    }
    values: dict[str, object] = {}
    for key, name in mapping.items():
        if key in dosage:
            values[name] = dosage[key]
    if values.get("bsa_cap_m2") in (0, 0.0):
        values["bsa_cap_m2"] = None
    return DosingRules(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class LineSpec:
    """A protocol line and what the molecule says about it.

    ``dose`` is per ``unit`` (``"mg/m2"``, ``"mg/kg"``, ``"mg"``, ``"AUC"``, ``"UI/kg"``,
    ``"µg/kg"``, ``"UI"``, ``"MUI"``; also ``"µg/m2"``, ``"UI/m2"``, ``"µg"``).
    ``max_dose_per_admin`` is the molecule's cap per administration (vincristine 2 mg) and
    ``max_dose_per_protocol`` the protocol line's own maximum for one administration (Chimio
    ``DOSEMAXLI``), both in the absolute unit. ``rounding_step`` (absolute unit) overrides the
    settings' default step; ``tolerance_pct`` the settings' tolerated deviation; ``band_table``
    enables dose banding for this molecule when the settings ask for it.
    """

    molecule: str
    dose: float
    unit: str
    max_dose_per_admin: float | None = None
    max_dose_per_protocol: float | None = None
    rounding_step: float | None = None
    tolerance_pct: float | None = None
    band_table: BandTable | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.molecule, str) or not self.molecule.strip():
            raise OncoError("Molécule non renseignée", field="molécule")
        dose_unit(self.unit)
        dose = _number(self.dose, "dose")
        if dose <= 0:
            raise OncoError(
                f"Dose du protocole impossible : {dose:g} {self.unit} ({self.molecule})",
                field="dose",
            )
        for value, field in (
            (self.max_dose_per_admin, "dose_max_administration"),
            (self.max_dose_per_protocol, "dose_max_protocole"),
        ):
            if value is not None and _number(value, field) <= 0:
                raise OncoError(f"Dose maximale impossible : {value:g}", field=field)
        if self.rounding_step is not None and _number(self.rounding_step, "pas_arrondi") < 0:
            raise OncoError("Pas d'arrondi négatif", field="pas_arrondi")
        if self.tolerance_pct is not None:
            tolerance = _number(self.tolerance_pct, "tolerance_pct")
            if not 0 <= tolerance < 100:
                raise OncoError(
                    f"Tolérance d'écart impossible : {tolerance:g} %", field="tolerance_pct"
                )


@dataclass(frozen=True)
class LineDose:
    """The dose of one line for one patient.

    ``theoretical`` is the protocol dose times the basis, before any adjustment; ``adjustments``
    chain from it to ``dose`` (each ``before`` is the previous ``after``, all in ``unit``).
    ``notes`` are French remarks that changed nothing (e.g. a dose outside the banding table).
    ``tolerance_pct`` is the deviation tolerated for this line (molecule, else settings).
    """

    theoretical: float
    dose: float
    unit: str
    basis: str
    basis_value: float | None
    adjustments: tuple[Adjustment, ...]
    notes: tuple[str, ...] = ()
    tolerance_pct: float | None = None


def _amount(value: float, unit: str) -> str:
    """``"2,776 mg"``: the one dose formatter (messages only; values stay exact)."""
    from oncosecours.domain.display import fr_dose_unit

    return fr_dose_unit(value, unit)


def _renal_function(patient: PatientMeasures, rules: DosingRules, bsa: float) -> tuple[float, str]:
    """GFR in mL/min (absolute, de-indexed for CKD-EPI/MDRD) and its French description."""
    creat = patient.creatinine_umol_l
    formula = rules.renal_formula
    label = RENAL_LABELS[formula]
    if formula == "cockcroft_gault":
        gfr = cockcroft_gault(
            patient.age_years,
            patient.weight_kg,
            creat,  # type: ignore[arg-type]
            patient.sex,
            weight_basis=rules.clearance_weight,
            height_cm=patient.height_cm,
        )
        detail = label
        if rules.clearance_weight != "actual":
            detail = f"{label}, {CLEARANCE_WEIGHT_LABELS[rules.clearance_weight]}"
        return gfr, f"DFG {fr_num(gfr, 1)} mL/min ({detail})"
    if formula == "mdrd":
        indexed = mdrd(creat, patient.age_years, patient.sex)  # type: ignore[arg-type]
    else:
        version = 2021 if formula == "ckd_epi_2021" else 2009
        indexed = ckd_epi(creat, patient.age_years, patient.sex, version)  # type: ignore[arg-type]
    gfr = indexed * bsa / 1.73
    return gfr, (
        f"DFG {fr_num(gfr, 1)} mL/min ({label} {fr_num(indexed, 1)} mL/min/1,73 m², "
        f"désindexé par la SC {fr_fixed(bsa)} m² {BSA_LABELS[rules.bsa_formula]})"
    )


def line_dose(
    line: LineSpec,
    patient: PatientMeasures,
    rules: DosingRules,
    reduction_pct: float = 0.0,
    reduction_reason: str | None = None,
) -> LineDose:
    """The dose of ``line`` for ``patient`` under the hospital's ``rules``, every change reported.

    Order: basis (BSA rounded to 0.01 m² as shown in the basis and as Chimio does, weight, GFR or
    Chatelut clearance, or flat) → BSA cap / GFR cap → reduction → banding (when the settings ask
    for it and the line has a table; a dose outside the table is noted and then rounded) or
    rounding (molecule step, else settings step for mg) → cap per administration → protocol
    maximum. Caps come last so that the proposed dose never exceeds them.
    """
    kind, unit = dose_unit(line.unit)
    reduction = _number(reduction_pct, "réduction")
    if reduction != 0:
        if not 0 < reduction < 100:
            raise OncoError(
                f"Réduction impossible : {quoted(reduction, '%')} (attendu : "
                f"{bounds_fr('réduction', 0, 100, '%', low_included=False, high_included=False)}"
                ", ou 0 sans réduction)",
                field="réduction",
            )
        if not reduction_reason or not str(reduction_reason).strip():
            raise OncoError(
                f"Une réduction de {fr_num(reduction)} % doit être motivée", field="motif"
            )
    adjustments: list[Adjustment] = []
    notes: list[str] = []

    def adjust(rule: str, message: str, before: float, after: float) -> float:
        adjustments.append(Adjustment(rule, message, before, after, unit))
        return after

    basis_value: float | None
    if kind == "surface":
        bsa = round(body_surface_area(patient.height_cm, patient.weight_kg, rules.bsa_formula), 2)
        label = BSA_LABELS[rules.bsa_formula]
        theoretical = line.dose * bsa
        basis, basis_value = f"SC {fr_fixed(bsa)} m² ({label})", bsa
        dose = theoretical
        cap = rules.bsa_cap_m2
        if cap is not None and bsa > cap:
            dose = adjust(
                "PLAFOND_SURFACE",
                f"Surface corporelle plafonnée à {fr_fixed(cap)} m² (réelle {fr_fixed(bsa)} m², "
                f"{label}) : {_amount(theoretical, unit)} → {_amount(line.dose * cap, unit)}",
                theoretical,
                line.dose * cap,
            )
            basis = f"{basis}, plafonnée à {fr_fixed(cap)} m²"
    elif kind == "poids":
        theoretical = line.dose * patient.weight_kg
        basis, basis_value = f"poids {fr_num(patient.weight_kg, 1)} kg", patient.weight_kg
        dose = theoretical
    elif kind == "fixe":
        theoretical = line.dose
        basis, basis_value = "dose fixe", None
        dose = theoretical
    else:  # AUC
        if patient.creatinine_umol_l is None:
            raise OncoError(
                f"Créatinine manquante : nécessaire pour la dose en AUC de {line.molecule}",
                field="créatinine",
            )
        if rules.carboplatin_method == "chatelut":
            clearance = chatelut_clearance(
                patient.weight_kg, patient.age_years, patient.creatinine_umol_l, patient.sex
            )
            _ = calvert_dose(line.dose, clearance)  # checks the AUC range
            theoretical = line.dose * clearance
            basis = f"clairance du carboplatine {fr_num(clearance, 1)} mL/min (Chatelut)"
            basis_value = clearance
            dose = theoretical
        else:
            bsa = round(
                body_surface_area(patient.height_cm, patient.weight_kg, rules.bsa_formula), 2
            )
            gfr, basis = _renal_function(patient, rules, bsa)
            basis_value = gfr
            theoretical = calvert_dose(line.dose, gfr, gfr_cap=math.inf)
            basis = f"{basis}, Calvert AUC {fr_num(line.dose)}"
            dose = theoretical
            if gfr > rules.gfr_cap:
                capped = calvert_dose(line.dose, gfr, gfr_cap=rules.gfr_cap)
                dose = adjust(
                    "PLAFOND_DFG",
                    f"DFG plafonné à {fr_num(rules.gfr_cap)} mL/min dans la formule de Calvert "
                    f"(calculé {fr_num(gfr, 1)} mL/min) : {_amount(theoretical, unit)} → "
                    f"{_amount(capped, unit)}",
                    theoretical,
                    capped,
                )

    if reduction:
        reduced = dose * (1 - reduction / 100.0)
        dose = adjust(
            "REDUCTION",
            f"Réduction de {fr_num(reduction)} % (motif : {str(reduction_reason).strip()}) : "
            f"{_amount(dose, unit)} → {_amount(reduced, unit)}",
            dose,
            reduced,
        )

    banded = False
    if rules.banding != "aucun" and line.band_table is not None and unit == "mg":
        table = line.band_table
        result = band_lookup(table, dose, rules.banding)
        if result is None:
            notes.append(
                f"Dose {_amount(dose, unit)} hors de la table de standardisation « {table.title} » "
                f"({fr_num(table.low_mg)} à {fr_num(table.high_mg)} mg) : dose non standardisée"
            )
        else:
            band = result.band
            upper = band.to_a_mg if rules.banding == "arrondi_superieur" else band.to_b_mg
            sign = "<" if rules.banding == "arrondi_superieur" else "≤"
            dose = adjust(
                "STANDARDISATION",
                f"Dose standardisée ({table.title}, {BANDING_LABELS[rules.banding]}, bande "
                f"{fr_num(band.from_mg)} ≤ d {sign} {fr_num(upper)} mg) : {_amount(dose, unit)} → "
                f"{_amount(result.band_dose_mg, unit)} (écart {fr_signed(result.deviation_pct, 2)} %)",
                dose,
                result.band_dose_mg,
            )
            banded = True

    if not banded:
        if line.rounding_step is not None:
            step = line.rounding_step
        else:
            step = rules.rounding_step_mg if unit == "mg" else 0.0
        if step > 0:
            rounded = round(float(math.floor(dose / step + 0.5)) * step, 10)
            if rounded <= 0:
                notes.append(
                    f"Arrondi au pas de {_amount(step, unit)} non appliqué : "
                    f"{_amount(dose, unit)} donnerait une dose nulle"
                )
            elif not math.isclose(rounded, dose, rel_tol=0, abs_tol=1e-9):
                dose = adjust(
                    "ARRONDI",
                    f"Arrondi au pas de {_amount(step, unit)} : {_amount(dose, unit)} → "
                    f"{_amount(rounded, unit)}",
                    dose,
                    rounded,
                )

    if line.max_dose_per_admin is not None and dose > line.max_dose_per_admin:
        cap = float(line.max_dose_per_admin)
        dose = adjust(
            "PLAFOND_DOSE",
            f"Dose plafonnée à {_amount(cap, unit)} par administration ({line.molecule}) : "
            f"{_amount(dose, unit)} calculés",
            dose,
            cap,
        )
    if line.max_dose_per_protocol is not None and dose > line.max_dose_per_protocol:
        cap = float(line.max_dose_per_protocol)
        dose = adjust(
            "MAX_PROTOCOLE",
            f"Dose limitée au maximum du protocole, {_amount(cap, unit)} ({line.molecule}) : "
            f"{_amount(dose, unit)} calculés",
            dose,
            cap,
        )

    tolerance = line.tolerance_pct if line.tolerance_pct is not None else rules.dose_tolerance_pct
    return LineDose(
        theoretical=theoretical,
        dose=dose,
        unit=unit,
        basis=basis,
        basis_value=basis_value,
        adjustments=tuple(adjustments),
        notes=tuple(notes),
        tolerance_pct=tolerance,
    )


def dose_deviation_pct(prescribed: float, theoretical: float) -> float:
    """Signed deviation of the prescribed dose from the reference one, in % of the reference."""
    prescribed = _number(prescribed, "dose prescrite")
    theoretical = _number(theoretical, "dose théorique")
    if theoretical <= 0:
        raise OncoError(
            f"Dose de référence impossible : {theoretical:g} (doit être positive)",
            field="dose théorique",
        )
    if prescribed < 0:
        raise OncoError(f"Dose prescrite négative : {prescribed:g}", field="dose prescrite")
    return (prescribed - theoretical) / theoretical * 100.0


def deviation_finding(
    prescribed: float,
    reference: float,
    tolerance_pct: float,
    molecule: str,
    unit: str = "mg",
    severity: str = "bloquant",
) -> Finding | None:
    """``ECART_DOSE`` when the prescribed dose deviates from the reference by more than the
    tolerance (in absolute value); ``None`` when within."""
    deviation = dose_deviation_pct(prescribed, reference)
    if abs(deviation) <= tolerance_pct + 1e-9:
        return None
    return Finding(
        rule="ECART_DOSE",
        severity=severity,
        message=(
            f"Écart de dose {fr_signed(deviation)} % pour {molecule} : prescrit "
            f"{_amount(prescribed, unit)}, attendu {_amount(reference, unit)} "
            f"(tolérance ± {fr_num(tolerance_pct)} %)"
        ),
        values={
            "molecule": molecule,
            "prescrit": prescribed,
            "reference": reference,
            "unite": unit,
            "ecart_pct": deviation,
            "tolerance_pct": tolerance_pct,
        },
    )
