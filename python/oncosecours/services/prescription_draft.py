"""The draft of a prescription: every protocol line of a cure computed for the patient, nothing
written. Used by :mod:`oncosecours.services.prescription` (preview, prescribe, transcribe).

Every protocol line is computed by ``domain.dosing.line_dose`` for the patient's confirmed
measures; every adjustment (BSA or GFR cap, reduction, rounding, banding, caps) is kept with the
line. A reduction decided for a cure is proposed again (applied, marked ``reprise``) for the next
cure of the inclusion, as are the LES code, diluent and container; the prescriber can change them.
One row per (protocol line x day of its day mask) with its date.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from oncosecours.domain import checks, dosing
from oncosecours.domain.errors import OncoError
from oncosecours.domain.identity import age_years, fold, parse_date
from oncosecours.services.patients import _check_measure, refuse_deceased
from oncosecours.services.validation import build_facts, limits_from_settings
from oncosecours.store import prescriptions, reference
from oncosecours.store.circuit import (
    inclusion_by_id,
    inclusion_lines,
    json_list,
    latest_measurement,
    molecule,
    patient_by_id,
    snapshot_meta,
)

_LES_FORMAT = re.compile(r"^I\d{6}$")
_CANONICAL_DILUENTS = {"NACL": "NaCl 0,9 %", "G5": "Glucose 5 %", "EPPI": "EPPI"}
_VOLUME_IN = re.compile(r"\bdans\s+(\d+(?:[.,]\d+)?)\s*ml\b", re.IGNORECASE)
_VOLUME_OF = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*ml\s+(?:de\s+|d')?(?:nacl|g5|glucos|chlorure|s[ée]rum)", re.IGNORECASE
)


# --- reference data -------------------------------------------------------------------------


def known_les_codes(conn: sqlite3.Connection, settings) -> set[str]:
    """LES codes accepted: the settings' list, plus the backup's when the snapshot has one."""
    codes = {str(c).upper() for c in settings.codes_les.codes}
    return codes | reference.les_codes(conn)


def check_les_code(code: object, known: set[str], molecule_name: str) -> str:
    text = str(code or "").strip().upper()
    if not _LES_FORMAT.match(text):
        raise OncoError(
            f"Code LES invalide pour {molecule_name} : « {code} » (attendu I + 6 chiffres, "
            "I999999 hors AMM justifié, I999998 recherche)",
            field="code LES",
            rule="CODE_LES",
        )
    if text not in known:
        raise OncoError(
            f"Code LES {text} inconnu pour {molecule_name} (codes connus : "
            f"{', '.join(sorted(known)) or 'aucun'})",
            field="code LES",
            rule="CODE_LES",
            hint="Ajouter le code dans etablissement.toml, section [codes_les]",
        )
    return text


def _default_diluent(line: dict[str, Any], mol: dict[str, Any]) -> str | None:
    """The diluent named first in the line's comment, else the molecule's first allowed one
    (anticancer lines only: a supportive line without a named diluent gets none)."""
    allowed = json_list(mol.get("diluents_json"))
    comment = fold(line.get("comment"))
    found = []
    for family, words in (
        ("G5", ("G5", "GLUCOSE", "DEXTROSE")),
        ("NACL", ("NACL", "CHLORUREDESODIUM", "SERUMPHYSIO")),
    ):
        positions = [comment.find(w) for w in words if w in comment]
        if positions:
            found.append((min(positions), family))
    if found:
        family = min(found)[1]
        for name in allowed:
            if checks.diluent_key(name) == family:
                return name
        return _CANONICAL_DILUENTS[family]
    return allowed[0] if allowed and line["line_type"] == 1 else None


def _default_volume(line: dict[str, Any]) -> float | None:
    """``dans 100 mL`` or ``50 mL de NaCl`` in the comment, else the protocol line's volume."""
    for pattern in (_VOLUME_IN, _VOLUME_OF):
        match = pattern.search(line.get("comment") or "")
        if match:
            return float(match.group(1).replace(",", "."))
    return line.get("volume_ml") or None


# --- options keyed by line ------------------------------------------------------------------


def _select(lines: list[dict[str, Any]], key: str, what: str) -> list[dict[str, Any]]:
    """Lines named by ``*`` (all anticancer lines), a line number, or a molecule name (prefix)."""
    text = str(key).strip()
    if text == "*":
        return [line for line in lines if line["line_type"] == 1]
    if text.isdigit():
        chosen = [line for line in lines if line["line_no"] == int(text)]
    else:
        wanted = fold(text)
        chosen = [
            line for line in lines if wanted and fold(line["molecule_name"]).startswith(wanted)
        ]
    if not chosen:
        names = ", ".join(f"{line['line_no']} {line['molecule_name']}" for line in lines)
        raise OncoError(
            f"{what} : aucune ligne « {text} » dans le protocole (lignes : {names})",
            field=what,
        )
    return chosen


def _by_line(
    lines: list[dict[str, Any]], options: Mapping[str, Any] | None, what: str, single: bool = False
) -> dict[int, Any]:
    chosen: dict[int, Any] = {}
    ordered = sorted((options or {}).items(), key=lambda item: str(item[0]).strip() != "*")
    for key, value in ordered:
        selected = _select(lines, key, what)
        if single and len(selected) > 1:
            listed = ", ".join(f"ligne {line['line_no']}" for line in selected)
            raise OncoError(
                f"{what} : « {key} » désigne plusieurs lignes ({listed}) ; donner le numéro de ligne",
                field=what,
            )
        for line in selected:
            chosen[line["line_no"]] = value
    return chosen


def _previous_choices(
    conn: sqlite3.Connection, inclusion_id: int, cycle: int
) -> dict[int, dict[str, Any]]:
    """Per line number, what the last non-refused prescription of an earlier cure decided."""
    previous = prescriptions.previous_prescription_id(conn, inclusion_id, cycle)
    if previous is None:
        return {}
    choices: dict[int, dict[str, Any]] = {}
    for line in prescriptions.lines_by_day(conn, previous):
        choices.setdefault(line["line_no"], line | {"from_prescription": previous})
    return choices


# --- the draft ------------------------------------------------------------------------------


def _measures(
    conn: sqlite3.Connection,
    patient: dict[str, Any],
    on_date: date,
    weight_kg: float | None,
    height_cm: float | None,
    creatinine_umol_l: float | None,
    creatinine_date: str | date | None,
) -> tuple[dict[str, Any], list[tuple[str, float, str]]]:
    """The measures used and the new ones to record (kind, value, date)."""
    today = on_date.isoformat()
    used: dict[str, Any] = {}
    new: list[tuple[str, float, str]] = []
    for kind, given, label in (
        ("weight", weight_kg, "poids"),
        ("height", height_cm, "taille"),
    ):
        last = latest_measurement(conn, patient["id"], kind, today)
        if given is not None:
            value = _check_measure(kind, given)
            if last is None or last["value"] != value:
                new.append((kind, value, today))
            used[kind] = (
                value,
                today if last is None or last["value"] != value else last["measured_on"],
            )
        elif last is not None:
            used[kind] = (last["value"], last["measured_on"])
        else:
            raise OncoError(
                f"Aucun {label} connu pour ce patient : le saisir pour prescrire",
                field=label,
                rule="MESURE_ABSENTE",
            )
    last = latest_measurement(conn, patient["id"], "creatinine", today)
    if creatinine_umol_l is not None:
        value = _check_measure("creatinine", creatinine_umol_l)
        when = parse_date(creatinine_date, "date de créatinine") if creatinine_date else on_date
        if when > on_date:
            raise OncoError(
                f"Date de créatinine dans le futur : {when.isoformat()}", field="date de créatinine"
            )
        if last is None or last["value"] != value or last["measured_on"] != when.isoformat():
            new.append(("creatinine", value, when.isoformat()))
        used["creatinine"] = (value, when.isoformat())
    elif last is not None:
        used["creatinine"] = (last["value"], last["measured_on"])
    else:
        used["creatinine"] = (None, None)
    return used, new


def _no_banding(_name: str) -> None:
    return None


def _compute_line(line, mol, patient_measures, rules, reduction, banding):
    name = line["molecule_name"]
    try:
        kind, unit = dosing.dose_unit(line["unit"])
    except OncoError:
        if line["line_type"] == 1:
            raise OncoError(
                f"{name} (ligne {line['line_no']}) : unité de dose inconnue « {line['unit']} »",
                field="unité",
                rule="UNITE_INCONNUE",
            ) from None
        return None
    cap = mol.get("max_dose") if (mol.get("max_dose_unit") or "mg") == unit else None
    spec = dosing.LineSpec(
        molecule=name,
        dose=line["dose"],
        unit=line["unit"],
        max_dose_per_admin=cap or None,
        max_dose_per_protocol=line.get("max_dose") or None,
        tolerance_pct=mol.get("dose_tolerance_pct"),
        band_table=banding(name) if line["line_type"] == 1 else None,
    )
    try:
        return dosing.line_dose(
            spec,
            patient_measures,
            rules,
            reduction[0] if reduction else 0.0,
            reduction[1] if reduction else None,
        )
    except OncoError as error:
        raise OncoError(
            f"{name} (ligne {line['line_no']}) : {error.message}",
            field=error.field,
            rule=error.rule,
            hint=error.hint,
        ) from None


def compute_draft(
    conn: sqlite3.Connection,
    cure: dict[str, Any],
    *,
    settings,
    on_date: date,
    weight_kg: float | None = None,
    height_cm: float | None = None,
    creatinine_umol_l: float | None = None,
    creatinine_date: str | date | None = None,
    reductions: Mapping[str, tuple[float, str]] | None = None,
    les_codes: Mapping[str, str] | None = None,
    diluents: Mapping[str, str] | None = None,
    containers: Mapping[str, str] | None = None,
    doses: Mapping[str, float] | None = None,
    transcribed: bool = False,
    transcriber: str | None = None,
) -> dict[str, Any]:
    inclusion = inclusion_by_id(conn, cure["inclusion_id"])
    if inclusion["state"] != "active":
        raise OncoError(f"L'inclusion n° {inclusion['id']} est arrêtée", rule="TRANSITION")
    patient = patient_by_id(conn, cure["patient_id"])
    refuse_deceased(conn, patient, "prescription")
    lines = inclusion_lines(conn, inclusion["id"])
    used, new_measures = _measures(
        conn, patient, on_date, weight_kg, height_cm, creatinine_umol_l, creatinine_date
    )
    weight, height = used["weight"][0], used["height"][0]
    creat, creat_date = used["creatinine"]
    age = age_years(date.fromisoformat(patient["birth_date"]), on_date)
    patient_measures = dosing.PatientMeasures(weight, height, age, patient["sex"], creat)
    rules = dosing.rules_from_settings(settings.dosage)
    bsa = round(dosing.body_surface_area(height, weight, rules.bsa_formula), 2)

    banding = _no_banding
    if rules.banding != "aucun":
        from oncosecours.store.dose_banding import table_for_molecule

        banding = table_for_molecule

    previous = _previous_choices(conn, inclusion["id"], cure["cycle"])
    red_given = _by_line(lines, reductions, "réduction")
    les_given = _by_line(lines, les_codes, "code LES")
    les_explicit = _by_line(
        lines, {k: v for k, v in (les_codes or {}).items() if str(k).strip() != "*"}, "code LES"
    )
    dil_given = _by_line(lines, diluents, "diluant")
    cont_given = _by_line(lines, containers, "contenant")
    dose_given = _by_line(lines, doses, "dose", single=True)
    known_codes = known_les_codes(conn, settings)

    drafted: list[dict[str, Any]] = []
    gfr = None
    j1 = date.fromisoformat(cure["planned_date"])
    for line in lines:
        mol = molecule(conn, line["molecule_id"]) or {}
        before = previous.get(line["line_no"], {})
        source = None
        reduction = None
        if line["line_no"] in red_given:
            pct, reason = red_given[line["line_no"]]
            if float(pct):
                reduction, source = (float(pct), reason), "prescripteur"
        elif before.get("reduction_pct"):
            reduction = (before["reduction_pct"], before["reduction_reason"])
            source = "reprise"
        result = _compute_line(line, mol, patient_measures, rules, reduction, banding)
        if result is None:
            theoretical = computed = float(line["dose"])
            unit, basis, basis_value = line["unit"], f"non calculée (unité {line['unit']})", None
            adjustments, notes = [], []
        else:
            theoretical, computed, unit = result.theoretical, result.dose, result.unit
            basis, basis_value = result.basis, result.basis_value
            adjustments = [dataclasses.asdict(a) for a in result.adjustments]
            notes = list(result.notes)
            if line["unit"] in ("AUC", "auc") and rules.carboplatin_method == "calvert":
                gfr = basis_value
        dose, overridden = computed, 0
        if line["line_no"] in dose_given:
            dose = dosing._number(dose_given[line["line_no"]], "dose")
            if dose <= 0:
                raise OncoError(f"Dose impossible : {dose:g} {unit}", field="dose")
            overridden = int(not abs(dose - computed) < 1e-9)
        les = None
        if mol.get("liste_en_sus"):
            code = les_given.get(line["line_no"]) or before.get("les_code")
            if not code:
                raise OncoError(
                    f"Code LES obligatoire pour {line['molecule_name']} (liste en sus, ligne "
                    f"{line['line_no']})",
                    field="code LES",
                    rule="CODE_LES",
                    hint="Option --les MOLECULE=I000000 (I999999 hors AMM justifié, I999998 "
                    "recherche)",
                )
            les = check_les_code(code, known_codes, line["molecule_name"])
        elif line["line_no"] in les_explicit:
            raise OncoError(
                f"{line['molecule_name']} n'est pas en liste en sus : pas de code LES",
                field="code LES",
            )
        diluent = (
            dil_given.get(line["line_no"]) or before.get("diluent") or _default_diluent(line, mol)
        )
        allowed_containers = json_list(mol.get("containers_json"))
        container = (
            cont_given.get(line["line_no"])
            or before.get("container")
            or (allowed_containers[0] if allowed_containers and line["line_type"] == 1 else None)
        )
        for day in json.loads(line["days_json"]):
            drafted.append(
                {
                    "inclusion_line_id": line["id"],
                    "line_no": line["line_no"],
                    "day": day,
                    "admin_date": (j1 + timedelta(days=day - 1)).isoformat(),
                    "molecule_id": line["molecule_id"],
                    "molecule_name": line["molecule_name"],
                    "product_id": line["product_id"],
                    "line_type": line["line_type"],
                    "protocol_dose": line["dose"],
                    "protocol_unit": line["unit"],
                    "theoretical_dose": theoretical,
                    "computed_dose": computed,
                    "dose": dose,
                    "unit": unit,
                    "dose_overridden": overridden,
                    "basis": basis,
                    "basis_value": basis_value,
                    "adjustments_json": json.dumps(adjustments, ensure_ascii=False),
                    "notes_json": json.dumps(notes, ensure_ascii=False),
                    "reduction_pct": reduction[0] if reduction else 0.0,
                    "reduction_reason": reduction[1] if reduction else None,
                    "reduction_source": source,
                    "les_code": les,
                    "diluent": diluent,
                    "diluent_volume_ml": _default_volume(line) if diluent else None,
                    "container": container,
                    "route": line["route"],
                    "duration_min": line["duration_min"],
                    "time_offset_min": line["time_offset_min"],
                    "comment": line["comment"],
                }
            )
    meta = snapshot_meta(conn)
    head = {
        "on_date": on_date.isoformat(),
        "weight_kg": weight,
        "weight_date": used["weight"][1],
        "height_cm": height,
        "height_date": used["height"][1],
        "creatinine_umol_l": creat,
        "creatinine_date": creat_date,
        "age_years": age,
        "sex": patient["sex"],
        "bsa_m2": bsa,
        "bsa_formula": rules.bsa_formula,
        "gfr_ml_min": gfr,
        "renal_formula": (
            "chatelut" if rules.carboplatin_method == "chatelut" else rules.renal_formula
        ),
        "rules_json": json.dumps(dataclasses.asdict(rules), ensure_ascii=False),
        "snapshot_backup_date": meta["backup_date"] if meta else None,
        "transcribed": transcribed,
        "transcriber": transcriber,
    }
    facts = build_facts(
        conn, patient=patient, inclusion=inclusion, cure=cure, head=head, lines=drafted
    )
    findings = checks.run_all(facts, limits_from_settings(settings))
    return {
        "patient": patient,
        "inclusion": inclusion,
        "cure": cure,
        "head": head,
        "lines": drafted,
        "new_measures": new_measures,
        "findings": [f.to_dict() for f in findings],
    }
