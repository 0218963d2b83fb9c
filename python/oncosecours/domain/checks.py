"""The pharmaceutical safety checks run on a prescription (pure functions, no I/O).

Each check takes plain values and returns a list of :class:`~oncosecours.domain.findings.Finding`
(rule code, severity ``bloquant``/``avertissement``, French message with the values, the values).
:func:`run_all` runs every check on a :class:`PrescriptionFacts` gathered by the service.

Rule codes (stable, used for justifications ``--justify RULE=texte``):

==========================  ============  ===================================================
ECART_DOSE                  bloquant      prescribed dose differs from the computed dose
                                          beyond the molecule's tolerance
DOSE_MAX_ADMINISTRATION     bloquant      per-dose cap (molecule or protocol line) exceeded
DOSE_MAX_PROTOCOLE          bloquant      per-protocol maximum exceeded (all cures of the
                                          inclusion)
CUMUL_ANTHRACYCLINES,       bloquant or   lifetime anthracycline dose (doxorubicin equivalents,
CUMUL_DOXORUBICINE, ...     avertissement or one molecule's own limit) / bleomycin over its limit
CUMUL_BLEOMYCINE                          (warning past 400/550 of the limit), domain.cumulative
INTERVALLE_COURT            bloquant      interval since the previous cure shorter than the cycle
VARIATION_POIDS             bloquant or   weight change over the threshold since the previous cure;
                            avertissement a warning only when that reference is older than the
                                          window (``Limits.weight_window_days``) before the cure
CREATININE_ABSENTE          bloquant      creatinine missing while a dose depends on it
CREATININE_ANCIENNE         bloquant      creatinine older than allowed
SURFACE_ELEVEE              avertissement BSA above the alert threshold
CODE_LES_ABSENT             bloquant      liste-en-sus molecule without an indication code
DILUANT_INTERDIT            bloquant      diluent not allowed for the molecule
CONTENANT_INTERDIT          bloquant      container not allowed for the molecule
DOUBLON                     bloquant      the same molecule twice on the same day
SAUVEGARDE_ANCIENNE         avertissement snapshot older than the threshold (or absent)
REDUCTION_DOSE              avertissement a reduction was applied (shows %, reason, origin)
TRANSCRIPTION               avertissement paper prescription transcribed: check the original
VINCA_VOIE_NON_IV           bloquant,     an injectable vinca alkaloid by another route than
                            never         IV (intrathecal: fatal), or with no route: a
                            justified     validation is refused even with a justification
==========================  ============  ===================================================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from oncosecours.domain.cumulative import cumulative_findings, molecule_key
from oncosecours.domain.display import fr_dose
from oncosecours.domain.dosing import deviation_finding
from oncosecours.domain.findings import Finding, fr_num
from oncosecours.domain.identity import fold
from oncosecours.domain.production import is_intravenous, is_oral, is_vinca_alkaloid

BLOCKING = "bloquant"
WARNING = "avertissement"

RULES_FR = {
    "ECART_DOSE": "écart de dose au protocole",
    "DOSE_MAX_ADMINISTRATION": "dose maximale par administration",
    "DOSE_MAX_PROTOCOLE": "dose maximale par protocole",
    "CUMUL_ANTHRACYCLINES": "dose cumulée d'anthracyclines",
    "CUMUL_DOXORUBICINE": "dose cumulée de doxorubicine",
    "CUMUL_EPIRUBICINE": "dose cumulée d'épirubicine",
    "CUMUL_DAUNORUBICINE": "dose cumulée de daunorubicine",
    "CUMUL_BLEOMYCINE": "dose cumulée de bléomycine",
    "INTERVALLE_COURT": "intervalle depuis la cure précédente",
    "VARIATION_POIDS": "variation de poids",
    "CREATININE_ABSENTE": "créatinine absente",
    "CREATININE_ANCIENNE": "créatinine ancienne",
    "SURFACE_ELEVEE": "surface corporelle élevée",
    "CODE_LES_ABSENT": "code LES absent",
    "DILUANT_INTERDIT": "diluant non autorisé",
    "CONTENANT_INTERDIT": "contenant non autorisé",
    "DOUBLON": "même molécule deux fois le même jour",
    "SAUVEGARDE_ANCIENNE": "sauvegarde ancienne",
    "REDUCTION_DOSE": "réduction de dose",
    "TRANSCRIPTION": "prescription retranscrite",
    "VINCA_VOIE_NON_IV": "vinca-alcaloïde par une autre voie que la voie intraveineuse",
}
NEVER_JUSTIFIED = frozenset({"VINCA_VOIE_NON_IV"})
"""Blocking rules no justification can lift: the prescription must be refused and corrected."""


# --- diluents and containers ---------------------------------------------------------------

_DILUENT_ALIASES = {
    "NACL": ("NACL", "CHLORUREDESODIUM", "SERUMPHYSIOLOGIQUE", "SODIUMCHLORIDE"),
    "G5": ("G5", "GLUCOSE5", "GLUCOSE", "DEXTROSE", "GLUCOSE50MG"),
    "EPPI": ("EPPI", "EAUPPI", "EAUPOURPREPARATIONSINJECTABLES", "EAUSTERILE"),
}
_FORBIDDEN_DILUENTS = {"OXALIPLATINE": ("NACL",), "OXALIPLATIN": ("NACL",)}
"""Facts that hold whatever the snapshot says (oxaliplatin degrades in chloride solutions)."""


def diluent_key(name: str | None) -> str:
    """A diluent name reduced to a family: ``"NaCl 0,9 %"`` -> ``"NACL"``, ``"G5%"`` -> ``"G5"``."""
    folded = fold(name)
    if not folded:
        return ""
    for family, prefixes in _DILUENT_ALIASES.items():
        if any(folded.startswith(p) for p in prefixes):
            return family
    return folded


def container_key(name: str | None) -> str:
    return fold(name)


# --- facts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFacts:
    """One prescribed administration (a protocol line on one day) and what the snapshot says."""

    line_no: int
    day: int
    admin_date: str
    molecule: str
    dose: float
    unit: str
    computed_dose: float
    molecule_id: int | None = None
    anticancer: bool = True
    protocol_dose: float | None = None
    protocol_unit: str | None = None
    tolerance_pct: float | None = None
    max_dose_admin: float | None = None  # molecule cap per administration, in `unit`
    max_dose_line: float | None = None  # protocol line cap (DOSEMAXLI), in `unit`
    max_dose_protocol: float | None = None  # molecule cap for the whole protocol, in `unit`
    liste_en_sus: bool = False
    les_code: str | None = None
    diluent: str | None = None
    allowed_diluents: tuple[str, ...] = ()
    container: str | None = None
    allowed_containers: tuple[str, ...] = ()
    depends_on_creatinine: bool = False
    reduction_pct: float = 0.0
    reduction_reason: str | None = None
    reduction_source: str | None = None
    overridden: bool = False
    route: str | None = None


@dataclass(frozen=True)
class OtherAdministration:
    """An administration of the same patient outside this prescription (other active cure)."""

    admin_date: str
    molecule: str
    molecule_id: int | None
    prescription_id: int
    protocol_name: str


@dataclass(frozen=True)
class CumulativeDose:
    """A past dose of the patient (backup history or another crisis prescription), in mg."""

    molecule: str
    dose_mg: float
    bsa_m2: float | None
    given_on: str
    source: str  # "sauvegarde" or "crise"


@dataclass(frozen=True)
class Limits:
    """Thresholds from the settings."""

    default_tolerance_pct: float = 5.0
    creatinine_max_age_days: int = 7
    weight_change_pct: float = 10.0
    weight_window_days: int = 90
    bsa_alert_m2: float = 2.0
    backup_max_age_days: int = 3


@dataclass(frozen=True)
class PrescriptionFacts:
    """Everything the checks need about one prescription."""

    on_date: str  # date of the prescription / check
    cure_date: str  # J1 of the cure
    cycle_days: int
    lines: Sequence[LineFacts]
    bsa_m2: float | None = None
    weight_kg: float | None = None
    creatinine_umol_l: float | None = None
    creatinine_date: str | None = None
    previous_cure_date: str | None = None
    previous_cure_source: str | None = None
    previous_weight_kg: float | None = None
    previous_weight_source: str | None = None
    protocol_totals_before: dict[str, float] = field(default_factory=dict)  # folded molecule
    others: Sequence[OtherAdministration] = ()
    cumulative_history: Sequence[CumulativeDose] = ()
    backup_date: str | None = None
    transcribed: bool = False
    transcribed_by: str | None = None
    previous_weight_date: str | None = None  # date of the previous weight (ISO), None = unknown


# --- the checks ----------------------------------------------------------------------------


def _pct(a: float, b: float) -> float:
    return (a - b) / b * 100.0 if b else (0.0 if a == b else float("inf"))


def check_dose_deviation(lines: Iterable[LineFacts], default_tolerance_pct: float) -> list[Finding]:
    """ECART_DOSE: prescribed dose vs the engine's dose for this patient (after the documented
    reduction, rounding, banding and caps), beyond the molecule's tolerance."""
    findings = []
    for line in lines:
        tolerance = line.tolerance_pct if line.tolerance_pct is not None else default_tolerance_pct
        if line.computed_dose <= 0:
            continue
        found = deviation_finding(
            line.dose, line.computed_dose, tolerance, line.molecule, line.unit
        )
        if found is not None:
            findings.append(
                Finding(
                    found.rule,
                    found.severity,
                    f"J{line.day} ({line.admin_date}) : {found.message}",
                    {**found.values, "jour": line.day, "date": line.admin_date},
                )
            )
    return findings


def check_dose_caps(lines: Iterable[LineFacts]) -> list[Finding]:
    """DOSE_MAX_ADMINISTRATION: the molecule's or the protocol line's per-dose cap."""
    findings = []
    for line in lines:
        for cap, origin in ((line.max_dose_admin, "molécule"), (line.max_dose_line, "ligne")):
            if cap and line.dose > cap + 1e-9:
                findings.append(
                    Finding(
                        "DOSE_MAX_ADMINISTRATION",
                        BLOCKING,
                        f"{line.molecule} J{line.day} : {fr_dose(line.dose)} {line.unit} dépasse la "
                        f"dose maximale par administration ({origin}) de {fr_dose(cap)} {line.unit}",
                        {
                            "molecule": line.molecule,
                            "jour": line.day,
                            "dose": line.dose,
                            "maximum": cap,
                            "origine": origin,
                        },
                    )
                )
    return findings


def check_protocol_maximum(
    lines: Iterable[LineFacts], totals_before: dict[str, float]
) -> list[Finding]:
    """DOSE_MAX_PROTOCOLE: total over the inclusion (earlier cures + this one) above the maximum."""
    totals: dict[str, float] = defaultdict(float)
    caps: dict[str, tuple[float, str, str]] = {}
    for line in lines:
        if line.max_dose_protocol:
            key = fold(line.molecule)
            totals[key] += line.dose
            caps[key] = (line.max_dose_protocol, line.molecule, line.unit)
    findings = []
    for key, (cap, name, unit) in caps.items():
        before = totals_before.get(key, 0.0)
        total = before + totals[key]
        if total > cap + 1e-9:
            findings.append(
                Finding(
                    "DOSE_MAX_PROTOCOLE",
                    BLOCKING,
                    f"{name} : {fr_dose(total)} {unit} sur le protocole ({fr_dose(before)} déjà "
                    f"prescrits + {fr_dose(totals[key])} ici) dépasse le maximum de {fr_dose(cap)} "
                    f"{unit}",
                    {
                        "molecule": name,
                        "deja_prescrit": before,
                        "cette_cure": totals[key],
                        "total": total,
                        "maximum": cap,
                    },
                )
            )
    return findings


def check_cumulative_doses(
    lines: Iterable[LineFacts], history: Sequence[CumulativeDose], bsa_m2: float | None
) -> list[Finding]:
    """CUMUL_* (anthracyclines in doxorubicin equivalents, or one anthracycline against its own
    label limit; bleomycin in units): lifetime dose after this prescription, by the dose engine's
    :func:`oncosecours.domain.cumulative.cumulative_findings`."""
    if not bsa_m2:
        return []
    planned: dict[str, tuple[str, float]] = {}
    for line in lines:
        key = molecule_key(line.molecule)
        if key is None or line.unit != "mg":
            continue
        name, total = planned.get(key, (line.molecule, 0.0))
        planned[key] = (name, total + line.dose)
    if not planned:
        return []
    past = [(d.molecule, d.dose_mg, d.bsa_m2) for d in history]
    findings: dict[str, Finding] = {}
    for key, (name, total) in planned.items():
        others = [(n, dose) for k, (n, dose) in planned.items() if k != key]
        for finding in cumulative_findings([*past, *others], (name, total), bsa_m2):
            kept = findings.get(finding.rule)
            if kept is None or (finding.blocking and not kept.blocking):
                findings[finding.rule] = finding
    return list(findings.values())


def check_interval(
    previous_date: str | None, cure_date: str, cycle_days: int, source: str | None = None
) -> list[Finding]:
    """INTERVALLE_COURT: days since the previous cure's J1 shorter than the cycle length."""
    if not previous_date:
        return []
    days = (date.fromisoformat(cure_date[:10]) - date.fromisoformat(previous_date[:10])).days
    if days >= cycle_days:
        return []
    origin = f" ({source})" if source else ""
    return [
        Finding(
            "INTERVALLE_COURT",
            BLOCKING,
            f"{days} jours depuis la cure précédente du {previous_date[:10]}{origin}, "
            f"pour un cycle de {cycle_days} jours",
            {
                "cure_precedente": previous_date[:10],
                "cure": cure_date[:10],
                "jours": days,
                "cycle_jours": cycle_days,
            },
        )
    ]


def check_weight_change(
    previous_kg: float | None,
    weight_kg: float | None,
    threshold_pct: float,
    source: str | None,
    *,
    previous_date: str | None = None,
    cure_date: str | None = None,
    window_days: int | None = None,
) -> list[Finding]:
    """VARIATION_POIDS: weight change since the previous cure beyond the threshold.

    The previous weight only blocks when it is recent: taken at most ``window_days`` days before
    the cure's J1 (``cure_date``). An older reference (a treatment break, a backup cure of months
    ago) gives the same finding as a warning (``avertissement``) that says how old it is. When a
    date is unknown, the comparison blocks as before.
    """
    if not previous_kg or not weight_kg:
        return []
    change = _pct(weight_kg, previous_kg)
    if abs(change) <= threshold_pct + 1e-9:
        return []
    origin = f" ({source})" if source else ""
    values: dict[str, object] = {
        "poids_kg": weight_kg,
        "poids_precedent_kg": previous_kg,
        "variation_pct": change,
        "seuil_pct": threshold_pct,
    }
    message = (
        f"Poids {fr_num(weight_kg, 1)} kg pour {fr_num(previous_kg, 1)} kg à la cure "
        f"précédente{origin} : variation {fr_num(change, 1)} % (seuil "
        f"{fr_num(threshold_pct, 1)} %)"
    )
    severity = BLOCKING
    if previous_date and cure_date:
        gap = (date.fromisoformat(cure_date[:10]) - date.fromisoformat(previous_date[:10])).days
        values.update(
            date_poids_precedent=previous_date[:10], date_cure=cure_date[:10], ecart_jours=gap
        )
        if window_days is not None:
            values["fenetre_jours"] = window_days
            if gap > window_days:
                severity = WARNING
                message += (
                    f" ; référence du {previous_date[:10]}, {gap} jours avant la cure du "
                    f"{cure_date[:10]} (au-delà de la fenêtre de {window_days} jours) : "
                    "alerte non bloquante, vérifier le poids du jour"
                )
    return [Finding("VARIATION_POIDS", severity, message, values)]


def check_creatinine(
    lines: Iterable[LineFacts],
    creatinine: float | None,
    measured_on: str | None,
    on_date: str,
    max_age_days: int,
) -> list[Finding]:
    """CREATININE_ABSENTE / CREATININE_ANCIENNE when a dose depends on the renal function."""
    needing = sorted({line.molecule for line in lines if line.depends_on_creatinine})
    if not needing:
        return []
    names = ", ".join(needing)
    if creatinine is None or not measured_on:
        return [
            Finding(
                "CREATININE_ABSENTE",
                BLOCKING,
                f"Aucune créatinine alors que la dose de {names} en dépend",
                {"molecules": needing},
            )
        ]
    age = (date.fromisoformat(on_date[:10]) - date.fromisoformat(measured_on[:10])).days
    if age <= max_age_days:
        return []
    return [
        Finding(
            "CREATININE_ANCIENNE",
            BLOCKING,
            f"Créatinine {fr_num(creatinine, 0)} µmol/L du {measured_on[:10]} : {age} jours "
            f"(maximum {max_age_days} jours) alors que la dose de {names} en dépend",
            {
                "creatinine_umol_l": creatinine,
                "date": measured_on[:10],
                "age_jours": age,
                "maximum_jours": max_age_days,
                "molecules": needing,
            },
        )
    ]


def check_bsa(bsa_m2: float | None, threshold_m2: float) -> list[Finding]:
    """SURFACE_ELEVEE (warning): BSA above the alert threshold."""
    if bsa_m2 is None or bsa_m2 <= threshold_m2 + 1e-9:
        return []
    return [
        Finding(
            "SURFACE_ELEVEE",
            WARNING,
            f"Surface corporelle {fr_num(bsa_m2)} m² supérieure à {fr_num(threshold_m2)} m² : "
            "vérifier poids, taille et plafonnement éventuel",
            {"surface_m2": bsa_m2, "seuil_m2": threshold_m2},
        )
    ]


def check_les_codes(lines: Iterable[LineFacts]) -> list[Finding]:
    """CODE_LES_ABSENT: a liste-en-sus molecule without its indication code."""
    missing: dict[str, list[int]] = defaultdict(list)
    for line in lines:
        if line.liste_en_sus and not line.les_code:
            missing[line.molecule].append(line.day)
    return [
        Finding(
            "CODE_LES_ABSENT",
            BLOCKING,
            f"{name} (liste en sus) sans code d'indication LES (J{', J'.join(map(str, days))})",
            {"molecule": name, "jours": days},
        )
        for name, days in missing.items()
    ]


def check_diluents_and_containers(lines: Iterable[LineFacts]) -> list[Finding]:
    """DILUANT_INTERDIT / CONTENANT_INTERDIT: against the molecule's allowed lists and known facts."""
    findings = []
    seen: set[tuple] = set()
    for line in lines:
        key = diluent_key(line.diluent)
        allowed = {diluent_key(d) for d in line.allowed_diluents}
        forbidden = _FORBIDDEN_DILUENTS.get(fold(line.molecule), ())
        if key and (key in forbidden or (allowed and key not in allowed)):
            marker = ("D", line.molecule, key)
            if marker not in seen:
                seen.add(marker)
                listed = ", ".join(line.allowed_diluents) or "non renseignés"
                findings.append(
                    Finding(
                        "DILUANT_INTERDIT",
                        BLOCKING,
                        f"{line.molecule} dans « {line.diluent} » : diluant non autorisé "
                        f"(autorisés : {listed})",
                        {
                            "molecule": line.molecule,
                            "diluant": line.diluent,
                            "autorises": list(line.allowed_diluents),
                        },
                    )
                )
        ckey = container_key(line.container)
        callowed = {container_key(c) for c in line.allowed_containers}
        if ckey and callowed and ckey not in callowed:
            marker = ("C", line.molecule, ckey)
            if marker not in seen:
                seen.add(marker)
                findings.append(
                    Finding(
                        "CONTENANT_INTERDIT",
                        BLOCKING,
                        f"{line.molecule} en « {line.container} » : contenant non autorisé "
                        f"(autorisés : {', '.join(line.allowed_containers)})",
                        {
                            "molecule": line.molecule,
                            "contenant": line.container,
                            "autorises": list(line.allowed_containers),
                        },
                    )
                )
    return findings


def _molecule_key(molecule_id: int | None, name: str) -> str:
    return f"#{molecule_id}" if molecule_id is not None else fold(name)


def check_duplicates(
    lines: Sequence[LineFacts], others: Iterable[OtherAdministration]
) -> list[Finding]:
    """DOUBLON: an anticancer molecule twice on the same day.

    Within the prescription, two identical lines (same molecule, dose and unit on the same day);
    across prescriptions, the same molecule on the same day in another active cure.
    """
    findings = []
    seen: dict[tuple, LineFacts] = {}
    for line in lines:
        if not line.anticancer:
            continue
        key = (
            _molecule_key(line.molecule_id, line.molecule),
            line.admin_date,
            line.protocol_dose,
            line.protocol_unit,
        )
        if key in seen:
            findings.append(
                Finding(
                    "DOUBLON",
                    BLOCKING,
                    f"{line.molecule} prescrit deux fois à l'identique le {line.admin_date} "
                    f"(lignes {seen[key].line_no} et {line.line_no})",
                    {"molecule": line.molecule, "date": line.admin_date},
                )
            )
        seen[key] = line
    mine = {
        (_molecule_key(line.molecule_id, line.molecule), line.admin_date): line
        for line in lines
        if line.anticancer
    }
    reported = set()
    for other in others:
        key = (_molecule_key(other.molecule_id, other.molecule), other.admin_date)
        if key in mine and (key, other.prescription_id) not in reported:
            reported.add((key, other.prescription_id))
            findings.append(
                Finding(
                    "DOUBLON",
                    BLOCKING,
                    f"{mine[key].molecule} le {other.admin_date} figure aussi dans la "
                    f"prescription n° {other.prescription_id} ({other.protocol_name})",
                    {
                        "molecule": mine[key].molecule,
                        "date": other.admin_date,
                        "autre_prescription": other.prescription_id,
                    },
                )
            )
    return findings


def check_backup_age(backup_date: str | None, on_date: str, max_age_days: int) -> list[Finding]:
    """SAUVEGARDE_ANCIENNE (warning): the history and protocols come from an old backup."""
    if not backup_date:
        return [
            Finding(
                "SAUVEGARDE_ANCIENNE",
                WARNING,
                "Aucune sauvegarde Chimio chargée : historique des cures inconnu",
                {"date_sauvegarde": None},
            )
        ]
    age = (date.fromisoformat(on_date[:10]) - date.fromisoformat(backup_date[:10])).days
    if age <= max_age_days:
        return []
    return [
        Finding(
            "SAUVEGARDE_ANCIENNE",
            WARNING,
            f"Sauvegarde Chimio du {backup_date[:10]} ({age} jours, seuil {max_age_days}) : "
            "historique et protocoles possiblement incomplets",
            {"date_sauvegarde": backup_date[:10], "age_jours": age, "seuil_jours": max_age_days},
        )
    ]


def check_reductions(lines: Iterable[LineFacts]) -> list[Finding]:
    """REDUCTION_DOSE (warning): show each reduction with its reason and origin."""
    shown: dict[tuple, list[int]] = defaultdict(list)
    for line in lines:
        if line.reduction_pct:
            key = (line.molecule, line.reduction_pct, line.reduction_reason, line.reduction_source)
            shown[key].append(line.day)
    findings = []
    for (name, pct, reason, source), _days in shown.items():
        origin = " (reprise de la cure précédente)" if source == "reprise" else ""
        findings.append(
            Finding(
                "REDUCTION_DOSE",
                WARNING,
                f"{name} : réduction de {fr_num(pct, 1)} %{origin}, motif « {reason or '?'} »",
                {"molecule": name, "reduction_pct": pct, "motif": reason, "origine": source},
            )
        )
    return findings


def check_transcription(transcribed: bool, by: str | None) -> list[Finding]:
    if not transcribed:
        return []
    return [
        Finding(
            "TRANSCRIPTION",
            WARNING,
            f"Prescription papier retranscrite par {by or '?'} : comparer à l'original signé",
            {"retranscrite_par": by},
        )
    ]


def check_vinca_route(lines: Iterable[LineFacts]) -> list[Finding]:
    """VINCA_VOIE_NON_IV (never justified): an injectable vinca alkaloid must go IV (WHO / ISMP;
    intrathecal vincristine is fatal). Oral vinorelbine capsules are not concerned."""
    findings = []
    seen: set[tuple] = set()
    for line in lines:
        if not is_vinca_alkaloid(line.molecule) or is_oral(line.route):
            continue
        if is_intravenous(line.route):
            continue
        key = (line.molecule, line.route)
        if key in seen:
            continue
        seen.add(key)
        route = (line.route or "").strip()
        shown = f"voie « {route} »" if route else "voie non renseignée"
        findings.append(
            Finding(
                "VINCA_VOIE_NON_IV",
                BLOCKING,
                f"{line.molecule} (ligne {line.line_no}) : {shown} ; un vinca-alcaloïde "
                "s'administre uniquement par voie intraveineuse (mortel par une autre voie, "
                "notamment intrathécale)",
                {"molecule": line.molecule, "voie": route or None, "ligne": line.line_no},
            )
        )
    return findings


def run_all(facts: PrescriptionFacts, limits: Limits) -> list[Finding]:
    """Every check, blocking findings first (stable order within a severity)."""
    lines = list(facts.lines)
    findings = [
        *check_dose_deviation(lines, limits.default_tolerance_pct),
        *check_dose_caps(lines),
        *check_protocol_maximum(lines, facts.protocol_totals_before),
        *check_cumulative_doses(lines, facts.cumulative_history, facts.bsa_m2),
        *check_interval(
            facts.previous_cure_date, facts.cure_date, facts.cycle_days, facts.previous_cure_source
        ),
        *check_weight_change(
            facts.previous_weight_kg,
            facts.weight_kg,
            limits.weight_change_pct,
            facts.previous_weight_source,
            previous_date=facts.previous_weight_date,
            cure_date=facts.cure_date,
            window_days=limits.weight_window_days,
        ),
        *check_creatinine(
            lines,
            facts.creatinine_umol_l,
            facts.creatinine_date,
            facts.on_date,
            limits.creatinine_max_age_days,
        ),
        *check_bsa(facts.bsa_m2, limits.bsa_alert_m2),
        *check_les_codes(lines),
        *check_vinca_route(lines),
        *check_diluents_and_containers(lines),
        *check_duplicates(lines, facts.others),
        *check_backup_age(facts.backup_date, facts.on_date, limits.backup_max_age_days),
        *check_reductions(lines),
        *check_transcription(facts.transcribed, facts.transcribed_by),
    ]
    return sorted(findings, key=lambda f: 0 if f.blocking else 1)


def blocking_rules(findings: Iterable[Finding]) -> list[str]:
    """The distinct rule codes that need a justification, in order."""
    rules: list[str] = []
    for finding in findings:
        if finding.blocking and finding.rule not in rules:
            rules.append(finding.rule)
    return rules
