"""French text of the circuit's CLI output (patients, cures, prescriptions, findings)."""

from __future__ import annotations

import json
from typing import Any

from oncosecours.domain.display import fr_dose, fr_dose_unit
from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num
from oncosecours.domain.workflow import CURE_STATES

MEASURE_FR = {
    "weight": ("poids", "kg"),
    "height": ("taille", "cm"),
    "creatinine": ("créat.", "µmol/L"),
}
CURE_FR = CURE_STATES  # French name of a cure state (one mapping, in the domain)


def key_values(items: list[str] | None, what: str) -> dict[str, str]:
    """``["DOXO=25:motif", "I999999"]`` -> ``{"DOXO": "25:motif", "*": "I999999"}``."""
    result: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            key, value = "*", item
        key, value = key.strip() or "*", value.strip()
        if not value:
            raise OncoError(f"Valeur manquante dans « {item} » (attendu CLE=VALEUR)", field=what)
        result[key] = value
    return result


def reductions(items: list[str] | None) -> dict[str, tuple[float, str]]:
    """``--reduction "DOXO=25:FEVG 45 %"`` (or ``"25:motif"`` for every anticancer line)."""
    parsed = {}
    for key, value in key_values(items, "réduction").items():
        pct, _, reason = value.partition(":")
        try:
            number = float(pct.replace(",", ".").replace("%", "").strip())
        except ValueError:
            raise OncoError(
                f"Réduction illisible : « {value} » (attendu POURCENT:motif, ex. 25:neutropénie)",
                field="réduction",
            ) from None
        parsed[key] = (number, reason.strip())
    return parsed


def numbers(items: list[str] | None, what: str) -> dict[str, float]:
    parsed = {}
    for key, value in key_values(items, what).items():
        try:
            parsed[key] = float(value.replace(",", "."))
        except ValueError:
            raise OncoError(f"Nombre illisible : « {value} »", field=what) from None
    return parsed


def patient_block(summary: dict[str, Any]) -> str:
    patient = summary["patient"]
    lines = [summary["libelle"] + f" — sexe {patient['sex']}"]
    if patient.get("ward"):
        lines.append(f"  Service : {patient['ward']}")
    origin = "sauvegarde Chimio" if patient["source"] == "sauvegarde" else "créé pendant la crise"
    lines.append(f"  Dossier n° {patient['id']} ({origin})")
    measures = []
    for kind, (label, unit) in MEASURE_FR.items():
        row = summary["measures"].get(kind)
        if row:
            measures.append(f"{label} {fr_num(row['value'], 1)} {unit} ({row['measured_on']})")
    lines.append("  Mesures : " + ("; ".join(measures) or "aucune"))
    for inc in summary["inclusions"]:
        stopped = f" — ARRÊTÉE : {inc['stop_reason']}" if inc.get("stop_reason") else ""
        lines.append(
            f"  Inclusion n° {inc['id']} : {inc['protocol_name']} (cycle {inc['cycle_days']} j, "
            f"{inc['cycles']} cycles, début {inc['start_date']}){stopped}"
        )
        for cure in inc["cures"]:
            extra = (
                f", prescription n° {cure['prescription_id']}" if cure["prescription_id"] else ""
            )
            postponed = (
                f", reportée : {cure['postpone_reason']}" if cure.get("postpone_reason") else ""
            )
            if cure.get("cancel_reason"):
                postponed += f", motif : {cure['cancel_reason']}"
            lines.append(
                f"    cure n° {cure['id']:<5} C{cure['cycle']:<3} J1 {cure['planned_date']}  "
                f"{CURE_FR.get(cure['state'], cure['state'])}{extra}{postponed}"
            )
    if summary.get("history"):
        last = summary["history"][0]
        lines.append(
            f"  Historique Chimio : dernière cure le {last['start_date'][:10]} "
            f"({last['protocol_name']}, cycle {last['cycle']})"
        )
    for note in summary.get("notes", []):
        lines.append(note_line(note))
    return "\n".join(lines)


def note_line(note: dict[str, Any]) -> str:
    target = f" [prescription n° {note['prescription_id']}]" if note["prescription_id"] else ""
    fix = f" (corrige la note n° {note['corrects_note_id']})" if note["corrects_note_id"] else ""
    fixed = (
        f" — CORRIGÉE par n° {', '.join(map(str, note['corrected_by']))}"
        if note.get("corrected_by")
        else ""
    )
    return (
        f"  Note n° {note['id']} du {note['created_at'][:16].replace('T', ' ')} par "
        f"{note['author_initials']} ({note['author_role']}){target}{fix}{fixed} : {note['text']}"
    )


def findings_block(findings: list[dict[str, Any]]) -> str:
    if not findings:
        return "Contrôles : aucune alerte."
    lines = ["Contrôles :"]
    for f in findings:
        tag = "BLOQUANT" if f["gravite"] == "bloquant" else "alerte  "
        lines.append(f"  {tag} [{f['regle']}] {f['message']}")
    return "\n".join(lines)


def _dose(value: float, unit: str) -> str:
    return fr_dose_unit(value, unit)


def lines_block(lines: list[dict[str, Any]]) -> str:
    out = []
    for line in lines:
        adjustments = line.get("adjustments")
        if adjustments is None:
            adjustments = json.loads(line.get("adjustments_json") or "[]")
        notes = line.get("notes")
        if notes is None:
            notes = json.loads(line.get("notes_json") or "[]")
        flags = []
        if line["reduction_pct"]:
            origin = (
                " reprise de la cure précédente" if line["reduction_source"] == "reprise" else ""
            )
            flags.append(f"réduction {fr_num(line['reduction_pct'], 1)} %{origin}")
        if line["dose_overridden"]:
            flags.append(f"saisie manuelle, calculée {_dose(line['computed_dose'], line['unit'])}")
        if line["les_code"]:
            flags.append(f"LES {line['les_code']}")
        extra = f" [{'; '.join(flags)}]" if flags else ""
        out.append(
            f"  L{line['line_no']:<2} J{line['day']:<2} {line['admin_date']}  "
            f"{line['molecule_name']} {fr_dose(line['protocol_dose'])} {line['protocol_unit']} → "
            f"{_dose(line['dose'], line['unit'])}{extra}"
        )
        out.append(
            f"        base : {line['basis']} ; théorique {_dose(line['theoretical_dose'], line['unit'])}"
        )
        if line.get("diluent") or line.get("container"):
            volume = (
                f" {fr_num(line['diluent_volume_ml'])} mL" if line.get("diluent_volume_ml") else ""
            )
            out.append(
                f"        {line.get('diluent') or 'diluant ?'}{volume}, "
                f"{line.get('container') or 'contenant ?'}"
            )
        for adj in adjustments:
            out.append(f"        ajustement {adj['rule']} : {adj['message']}")
        for note in notes:
            out.append(f"        remarque : {note}")
    return "\n".join(out)


def head_block(head: dict[str, Any]) -> str:
    creat = (
        f"créatinine {fr_num(head['creatinine_umol_l'], 0)} µmol/L du {head['creatinine_date']}"
        if head.get("creatinine_umol_l") is not None
        else "créatinine non renseignée"
    )
    gfr = f", DFG {fr_num(head['gfr_ml_min'], 1)} mL/min" if head.get("gfr_ml_min") else ""
    return (
        f"Mesures : poids {fr_num(head['weight_kg'], 1)} kg, taille {fr_num(head['height_cm'], 1)} "
        f"cm, {creat} ; âge {fr_num(head['age_years'], 0)} ans ; SC {fr_num(head['bsa_m2'])} m² "
        f"({head['bsa_formula']}){gfr}"
    )
