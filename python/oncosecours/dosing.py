"""Public API of the dose engine: the one front door of dosing for code outside the package and
for external checks (a contract, tested in ``tests/domain/test_dosing_api.py``). Inside the
package, each layer imports the ``oncosecours.domain`` module it needs directly.

Everything here is pure standard library and imports in a few milliseconds:

* formulas: :func:`body_surface_area`, :func:`cockcroft_gault`, :func:`ckd_epi`, :func:`mdrd`,
  :func:`calvert_dose`, :func:`chatelut_clearance` (+ ideal/adjusted body weight, input checks);
* line doses: :func:`line_dose` (:class:`LineSpec`, :class:`PatientMeasures`,
  :class:`DosingRules` from :func:`rules_from_settings`) → :class:`LineDose` with its
  :class:`Adjustment` chain; :func:`dose_deviation_pct`, :func:`deviation_finding`;
* dose banding: :class:`BandTable`, :func:`band_lookup` (the shipped tables:
  ``oncosecours.store.dose_banding``);
* cumulative doses: :func:`cumulative_check`, :func:`cumulative_findings`,
  :func:`doxorubicin_equivalent`;
* compounding: :func:`plan_compounding` → :class:`CompoundingPlan`;
* :class:`Finding`, the result of a safety rule.

Compounding and cumulative names are loaded on first access (``from oncosecours.dosing import
plan_compounding`` works as usual) so that ``import oncosecours.dosing`` stays light.
"""

from oncosecours.domain.banding import (
    CONVENTIONS,
    Band,
    BandResult,
    BandTable,
    band_lookup,
    parse_band_table,
)
from oncosecours.domain.dosing import (
    BANDING_LABELS,
    BANDING_MODES,
    BSA_FORMULAS,
    BSA_LABELS,
    CARBOPLATIN_METHODS,
    CLEARANCE_WEIGHTS,
    DOSE_UNITS,
    MG_DL_PER_UMOL_L,
    RENAL_FORMULAS,
    RENAL_LABELS,
    Adjustment,
    DosingRules,
    LineDose,
    LineSpec,
    PatientMeasures,
    adjusted_body_weight,
    body_surface_area,
    calvert_dose,
    chatelut_clearance,
    check_age,
    check_creatinine,
    check_height,
    check_sex,
    check_weight,
    ckd_epi,
    cockcroft_gault,
    deviation_finding,
    dose_deviation_pct,
    dose_unit,
    ideal_body_weight,
    line_dose,
    mdrd,
    rules_from_settings,
)
from oncosecours.domain.findings import Finding

_COMPOUNDING = (
    "CompoundingPlan",
    "Leftover",
    "LeftoverCreated",
    "LeftoverUse",
    "MoleculeCompounding",
    "VialProduct",
    "VialUse",
    "choose_vials",
    "diluent_density",
    "diluent_family",
    "plan_compounding",
)
_CUMULATIVE = (
    "ANTHRACYCLINE_FACTORS",
    "BLEOMYCIN_LIMIT_UNITS",
    "DXE_LIMIT_MG_M2",
    "DXE_WARNING_MG_M2",
    "LABEL_LIMITS_MG_M2",
    "CumulativeTotals",
    "cumulative_check",
    "cumulative_findings",
    "cumulative_totals",
    "doxorubicin_equivalent",
    "molecule_key",
)


def __getattr__(name: str):
    """Compounding and cumulative-dose names, imported on first use (PEP 562) so that
    ``import oncosecours.dosing`` stays light; plain imports, so a reader sees where they live."""
    if name in _COMPOUNDING:
        from oncosecours.domain import compounding as module
    elif name in _CUMULATIVE:
        from oncosecours.domain import cumulative as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_COMPOUNDING) | set(_CUMULATIVE))


__all__ = [
    "BANDING_LABELS",
    "BANDING_MODES",
    "RENAL_LABELS",
    "BSA_FORMULAS",
    "BSA_LABELS",
    "CARBOPLATIN_METHODS",
    "CLEARANCE_WEIGHTS",
    "CONVENTIONS",
    "DOSE_UNITS",
    "MG_DL_PER_UMOL_L",
    "RENAL_FORMULAS",
    "Adjustment",
    "Band",
    "BandResult",
    "BandTable",
    "DosingRules",
    "Finding",
    "LineDose",
    "LineSpec",
    "PatientMeasures",
    "adjusted_body_weight",
    "band_lookup",
    "body_surface_area",
    "calvert_dose",
    "chatelut_clearance",
    "check_age",
    "check_creatinine",
    "check_height",
    "check_sex",
    "check_weight",
    "ckd_epi",
    "cockcroft_gault",
    "deviation_finding",
    "dose_deviation_pct",
    "dose_unit",
    "ideal_body_weight",
    "line_dose",
    "mdrd",
    "parse_band_table",
    "rules_from_settings",
    *_COMPOUNDING,
    *_CUMULATIVE,
]
