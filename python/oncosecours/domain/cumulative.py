"""Cumulative lifetime doses: anthracyclines (in doxorubicin equivalents) and bleomycin.

Doxorubicin-equivalent factors (cardiotoxicity), mg of the molecule × factor = mg of doxorubicin:

======================  ======  =====================================================================
molecule                factor  source
======================  ======  =====================================================================
doxorubicine            1       reference
épirubicine             0.8     Feijen EAM et al., JAMA Oncol 2019;5(6):864-871, table 3 (mean ratio
                                0.8); adopted by the ESC 2022 cardio-oncology guidelines (Lyon AR
                                et al., Eur Heart J 2022;43:4229-4361)
daunorubicine           0.6     Feijen 2019 (mean ratio 0.6); IGHG 2024 recommendation (JACC
                                CardioOncol) "approximate ratio 0.6"
idarubicine             5       Children's Oncology Group Long-Term Follow-Up Guidelines v5 (2018)
                                and v6 (2023); Feijen 2019 could not estimate it (too few events)
mitoxantrone            10.5    Feijen 2019 (mean ratio 10.5); IGHG 2024 "ratio of 10.5"
doxorubicine liposomale 1       no validated lower ratio: counted as doxorubicin (conservative; the
(pégylée ou non)                Caelyx/Myocet SmPCs monitor the cumulative anthracycline dose)
======================  ======  =====================================================================

Older tables use other ratios (COG v4: daunorubicin 0.833, epirubicin 0.67, mitoxantrone 4); the
values above are the most recent published evidence and are deliberately kept in one place.

Limits (a ``bloquant`` finding when exceeded *after* the planned administration):

* anthracyclines summed in doxorubicin equivalents: 550 mg/m² (doxorubicin SmPC); an
  ``avertissement`` past 400 mg/m² (heart-failure risk ≈ 5 % at 400 mg/m², Swain SM et al.,
  Cancer 2003;97:2869-79);
* when the patient has received only one anthracycline that has its own labelled limit, that
  limit applies in the molecule's own mg/m² instead of the equivalent sum: doxorubicin 550,
  epirubicin 900 (SmPC Farmorubicine), daunorubicin 550 (SmPC Cérubidine, adults) — the warning
  then fires at the same fraction 400/550 of that limit;
* bleomycin: 400 units in total (not per m²; US label, pulmonary toxicity). Amounts are in mg,
  with 1 mg = 1 unité USP = 1000 UI.

History entries are ``(molecule, dose_mg)`` or ``(molecule, dose_mg, bsa_m2)``: the BSA of that
administration when known, else the current one. Molecules are recognised by name (accents and
case ignored; DCI or main brand names). Pure standard library.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from oncosecours.domain.bounds import bounds_fr, quoted
from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import Finding, fr_num

ANTHRACYCLINE_FACTORS: dict[str, float] = {
    "doxorubicine": 1.0,
    "doxorubicine_liposomale": 1.0,
    "epirubicine": 0.8,
    "daunorubicine": 0.6,
    "idarubicine": 5.0,
    "mitoxantrone": 10.5,
}
LABEL_LIMITS_MG_M2: dict[str, float] = {
    "doxorubicine": 550.0,
    "epirubicine": 900.0,
    "daunorubicine": 550.0,
}
DXE_LIMIT_MG_M2 = 550.0
DXE_WARNING_MG_M2 = 400.0
BLEOMYCIN_LIMIT_UNITS = 400.0

NAMES_FR = {
    "doxorubicine": "doxorubicine",
    "doxorubicine_liposomale": "doxorubicine liposomale",
    "epirubicine": "épirubicine",
    "daunorubicine": "daunorubicine",
    "idarubicine": "idarubicine",
    "mitoxantrone": "mitoxantrone",
    "bleomycine": "bléomycine",
}

_ACCENTS = str.maketrans("àâäáéèêëíîïóôöúùûüçñ", "aaaaeeeeiiiooouuuucn")

_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("doxorubicine_liposomale", ("caelyx", "myocet", "doxil")),
    ("doxorubicine", ("doxorubicin", "adriamycin", "adriblastin")),
    ("epirubicine", ("epirubicin", "farmorubicin")),
    ("daunorubicine", ("daunorubicin", "cerubidin")),
    ("idarubicine", ("idarubicin", "zavedos")),
    ("mitoxantrone", ("mitoxantron", "novantron")),
    ("bleomycine", ("bleomycin",)),
)


def molecule_key(name: str) -> str | None:
    """The tracked molecule a name designates (``"Épirubicine"`` → ``"epirubicine"``), or None."""
    text = str(name).lower().translate(_ACCENTS)
    for key, patterns in _PATTERNS:
        if any(pattern in text for pattern in patterns):
            if key == "doxorubicine" and ("liposom" in text or "pegyl" in text):
                return "doxorubicine_liposomale"
            return key
    return None


def doxorubicin_equivalent(molecule: str, dose_mg_m2: float) -> float:
    """mg/m² of doxorubicin equivalent to ``dose_mg_m2`` of an anthracycline (or mitoxantrone)."""
    key = molecule_key(molecule)
    if key not in ANTHRACYCLINE_FACTORS:
        raise OncoError(f"Pas une anthracycline : « {molecule} »", field="molécule")
    return dose_mg_m2 * ANTHRACYCLINE_FACTORS[key]


def _positive(value: object, field: str, allow_zero: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise OncoError(f"Valeur non numérique : « {value} »", field=field)
    number = float(value)
    if number < 0 or (number == 0 and not allow_zero):
        raise OncoError(f"Valeur impossible : {number:g}", field=field)
    return number


def _bsa(value: object) -> float:
    bsa = _positive(value, "surface corporelle", allow_zero=True)
    if not 0 < bsa <= 4:
        raise OncoError(
            f"Surface corporelle impossible : {quoted(bsa, 'm²')} (attendu : "
            f"{bounds_fr('surface', 0, 4, 'm²', low_included=False)})",
            field="surface corporelle",
        )
    return bsa


@dataclass(frozen=True)
class CumulativeTotals:
    """Totals over a history: per anthracycline in its own mg/m², the doxorubicin-equivalent sum,
    and bleomycin in units (mg)."""

    anthracyclines_mg_m2: dict[str, float]
    doxorubicin_equivalent_mg_m2: float
    bleomycin_units: float

    __hash__ = None  # type: ignore[assignment]


def cumulative_totals(history: Iterable[Sequence[object]], bsa_m2: float) -> CumulativeTotals:
    """Sum a history of ``(molecule, dose_mg[, bsa_m2])``; untracked molecules are ignored."""
    current = _bsa(bsa_m2)
    per_molecule: dict[str, float] = {}
    bleomycin = 0.0
    for index, entry in enumerate(history, start=1):
        if not 2 <= len(entry) <= 3:
            raise OncoError(
                f"Entrée d'historique invalide n° {index} : « {entry} » "
                "(attendu (molécule, dose mg[, SC m²]))",
                field="historique",
            )
        key = molecule_key(str(entry[0]))
        if key is None:
            continue
        dose = _positive(entry[1], "dose")
        if key == "bleomycine":
            bleomycin += dose
            continue
        bsa = _bsa(entry[2]) if len(entry) == 3 and entry[2] is not None else current
        per_molecule[key] = per_molecule.get(key, 0.0) + dose / bsa
    dxe = sum(value * ANTHRACYCLINE_FACTORS[key] for key, value in per_molecule.items())
    return CumulativeTotals(per_molecule, dxe, bleomycin)


def _of(noun: str) -> str:
    """French ``de``/``d'`` before a noun (« d'épirubicine », « de daunorubicine »)."""
    return f"d'{noun}" if noun[:1] in "aeéèêiouyh" else f"de {noun}"


def _breakdown(per_molecule: dict[str, float]) -> str:
    parts = []
    for key, value in sorted(per_molecule.items()):
        factor = ANTHRACYCLINE_FACTORS[key]
        text = f"{NAMES_FR[key]} {fr_num(value, 1)} mg/m²"
        if factor != 1.0:
            text += f" × {fr_num(factor)}"
        parts.append(text)
    return " + ".join(parts)


def cumulative_findings(
    history: Iterable[Sequence[object]], planned: Sequence[object], bsa_m2: float
) -> list[Finding]:
    """Findings for the planned administration ``(molecule, dose_mg)`` given the past ones.

    Only the family of the planned molecule is checked (anthracyclines or bleomycin); an empty
    list means nothing fired or the molecule has no tracked cumulative limit.
    """
    if len(planned) != 2:
        raise OncoError(
            f"Administration prévue invalide : « {planned} » (attendu (molécule, dose mg))",
            field="dose prévue",
        )
    key = molecule_key(str(planned[0]))
    if key is None:
        return []
    history = list(history)
    before = cumulative_totals(history, bsa_m2)
    after = cumulative_totals([*history, (planned[0], planned[1])], bsa_m2)
    findings: list[Finding] = []

    if key == "bleomycine":
        total = after.bleomycin_units
        if total > BLEOMYCIN_LIMIT_UNITS + 1e-9:
            findings.append(
                Finding(
                    rule="CUMUL_BLEOMYCINE",
                    severity="bloquant",
                    message=(
                        f"Dose cumulée de bléomycine dépassée : {fr_num(total, 1)} unités après "
                        f"cette administration (antérieur {fr_num(before.bleomycin_units, 1)}, "
                        f"prévu {fr_num(float(planned[1]), 1)} ; limite "  # type: ignore[arg-type]
                        f"{fr_num(BLEOMYCIN_LIMIT_UNITS)} unités, 1 unité = 1 mg = 1000 UI)"
                    ),
                    values={
                        "molecule": "bleomycine",
                        "cumul_anterieur_unites": before.bleomycin_units,
                        "dose_prevue_unites": float(planned[1]),  # type: ignore[arg-type]
                        "cumul_projete_unites": total,
                        "limite_unites": BLEOMYCIN_LIMIT_UNITS,
                    },
                )
            )
        return findings

    molecules = set(after.anthracyclines_mg_m2)
    single = next(iter(molecules)) if len(molecules) == 1 else None
    if single is not None and single in LABEL_LIMITS_MG_M2:
        limit = LABEL_LIMITS_MG_M2[single]
        total = after.anthracyclines_mg_m2[single]
        previous = before.anthracyclines_mg_m2.get(single, 0.0)
        rule = f"CUMUL_{single.upper()}"
        subject = _of(NAMES_FR[single])
        measure = "mg/m²"
    else:
        limit = DXE_LIMIT_MG_M2
        total = after.doxorubicin_equivalent_mg_m2
        previous = before.doxorubicin_equivalent_mg_m2
        rule = "CUMUL_ANTHRACYCLINES"
        subject = _of("anthracyclines")
        measure = "mg/m² en équivalents doxorubicine"
    warning = limit * DXE_WARNING_MG_M2 / DXE_LIMIT_MG_M2
    values = {
        "molecule": key,
        "cumul_anterieur_mg_m2": previous,
        "cumul_projete_mg_m2": total,
        "limite_mg_m2": limit,
        "seuil_alerte_mg_m2": warning,
        "equivalents_doxorubicine_mg_m2": after.doxorubicin_equivalent_mg_m2,
        "detail_mg_m2": dict(after.anthracyclines_mg_m2),
        "facteurs": {k: ANTHRACYCLINE_FACTORS[k] for k in after.anthracyclines_mg_m2},
    }
    context = (
        f"avant : {fr_num(previous, 1)} ; seuil d'alerte : {fr_num(warning, 1)} ; "
        f"limite : {fr_num(limit)} ; détail : {_breakdown(after.anthracyclines_mg_m2)}"
    )
    if total > limit + 1e-9:
        findings.append(
            Finding(
                rule=rule,
                severity="bloquant",
                message=(
                    f"Dose cumulée {subject} dépassée : {fr_num(total, 1)} {measure} après "
                    f"cette administration ({context})"
                ),
                values=values,
            )
        )
    elif total > warning + 1e-9:
        findings.append(
            Finding(
                rule=rule,
                severity="avertissement",
                message=(
                    f"Dose cumulée {subject} élevée : {fr_num(total, 1)} {measure} après "
                    f"cette administration ({context})"
                ),
                values=values,
            )
        )
    return findings


def cumulative_check(
    history: Iterable[Sequence[object]], planned: Sequence[object], bsa_m2: float
) -> Finding | None:
    """The most severe finding of :func:`cumulative_findings`, or ``None``."""
    findings = cumulative_findings(history, planned, bsa_m2)
    findings.sort(key=lambda finding: finding.severity != "bloquant")
    return findings[0] if findings else None
