"""Pharmaceutical validation: every safety check, justifications of blocking findings, decision.

The checks (``domain.checks``) run on facts gathered here from the prescription, the patient's
other crisis prescriptions, the backup history and the *current* snapshot. A pharmacist validates
(each blocking rule justified in writing) or refuses (with a comment); both are traced. A
pharmacist never decides on a prescription they wrote or transcribed.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from datetime import date
from typing import Any

from oncosecours import clock
from oncosecours.domain import checks, workflow
from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import Finding
from oncosecours.domain.identity import fold
from oncosecours.services.core import Actor, action, optional_text, squeeze
from oncosecours.store import audit, prescriptions, treatment_history
from oncosecours.store.circuit import (
    cure_by_id,
    inclusion_by_id,
    json_list,
    molecule,
    patient_by_id,
    prescription_by_id,
    prescription_lines,
    snapshot_meta,
)
from oncosecours.store.users import user_by_id

VALIDATE_ROLES = ("pharmacien",)
ACTIVE_PRESCRIPTION_STATES = ("prescribed", "validated")
_ENGAGED_CURE_STATES = ("prescribed", "validated", "go_ahead", "withheld")


def limits_from_settings(settings) -> checks.Limits:
    dosage = settings.dosage
    return checks.Limits(
        default_tolerance_pct=float(dosage.tolerance_ecart_dose_pct),
        creatinine_max_age_days=int(dosage.anciennete_max_creatinine_jours),
        weight_change_pct=float(dosage.variation_poids_alerte_pct),
        weight_window_days=int(dosage.fenetre_variation_poids_jours),
        bsa_alert_m2=float(dosage.surface_alerte_m2),
        backup_max_age_days=int(settings.sauvegardes.seuil_anciennete_jours),
    )


def _load_settings(settings):
    if settings is not None:
        return settings
    from oncosecours.settings import load_settings

    return load_settings()


def _line_facts(conn: sqlite3.Connection, line: dict[str, Any]) -> checks.LineFacts:
    mol = molecule(conn, line.get("molecule_id")) or {}
    max_admin = mol.get("max_dose") if (mol.get("max_dose_unit") or "mg") == line["unit"] else None
    max_protocol = (
        mol.get("max_dose_protocol") if (mol.get("max_dose_unit") or "mg") == line["unit"] else None
    )
    inclusion_line = prescriptions.inclusion_line(conn, line["inclusion_line_id"])
    return checks.LineFacts(
        line_no=line["line_no"],
        day=line["day"],
        admin_date=line["admin_date"],
        molecule=line["molecule_name"],
        dose=float(line["dose"]),
        unit=line["unit"],
        computed_dose=float(line["computed_dose"]),
        molecule_id=line.get("molecule_id"),
        anticancer=line["line_type"] == 1,
        protocol_dose=line["protocol_dose"],
        protocol_unit=line["protocol_unit"],
        tolerance_pct=mol.get("dose_tolerance_pct"),
        max_dose_admin=max_admin or None,
        max_dose_line=(inclusion_line["max_dose"] if inclusion_line else None) or None,
        max_dose_protocol=max_protocol or None,
        liste_en_sus=bool(mol.get("liste_en_sus")),
        les_code=line.get("les_code"),
        diluent=line.get("diluent"),
        allowed_diluents=tuple(json_list(mol.get("diluents_json"))),
        container=line.get("container"),
        allowed_containers=tuple(json_list(mol.get("containers_json"))),
        depends_on_creatinine=line["protocol_unit"] == "AUC"
        or bool(mol.get("creatinine_required")),
        reduction_pct=float(line.get("reduction_pct") or 0.0),
        reduction_reason=line.get("reduction_reason"),
        reduction_source=line.get("reduction_source"),
        overridden=bool(line.get("dose_overridden")),
        route=line.get("route"),
    )


def _history_rows(conn: sqlite3.Connection, patient: dict[str, Any]) -> list[dict[str, Any]]:
    if not patient.get("ref_patient_id"):
        return []
    return treatment_history.backup_history(conn, patient["ref_patient_id"])


def build_facts(
    conn: sqlite3.Connection,
    *,
    patient: dict[str, Any],
    inclusion: dict[str, Any],
    cure: dict[str, Any],
    head: dict[str, Any],
    lines: list[dict[str, Any]],
    prescription_id: int | None = None,
) -> checks.PrescriptionFacts:
    """Facts of a prescription (stored, or a draft when ``prescription_id`` is None).

    ``head`` carries the prescription's own values (on_date, weight_kg, creatinine_umol_l,
    creatinine_date, bsa_m2, transcribed, transcriber); ``lines`` are prescription_lines rows.
    """
    exclude = prescription_id if prescription_id is not None else -1
    history = _history_rows(conn, patient)
    cure_date = cure["planned_date"]

    # previous cure: crisis cures of the same inclusion already engaged, then the backup
    previous_date, previous_source = None, None
    row = treatment_history.previous_engaged_cure(
        conn, inclusion["id"], cure["id"], _ENGAGED_CURE_STATES, cure_date
    )
    if row:
        previous_date, previous_source = row[0], f"cycle {row[1]}, crise"
    protocol_key = fold(inclusion["protocol_name"])
    for item in history:
        same = item.get("protocol_id") == inclusion["protocol_id"] or (
            fold(item.get("protocol_name")) == protocol_key
        )
        if same and (item.get("day") in (None, 1)) and item["start_date"][:10] <= cure_date:
            if previous_date is None or item["start_date"][:10] > previous_date:
                previous_date = item["start_date"][:10]
                previous_source = f"cycle {item.get('cycle') or '?'}, sauvegarde Chimio"

    # previous weight: the latest other crisis prescription, else the backup history
    previous_weight, weight_source, weight_date = None, None, ""
    row = treatment_history.previous_weight(conn, patient["id"], exclude)
    if row:
        previous_weight, weight_date = row[0], row[1]
        weight_source = f"prescription n° {row[2]} du {row[1]}"
    for item in reversed(history):
        if item.get("weight_kg") and item["start_date"][:10] > weight_date:
            previous_weight, weight_date = item["weight_kg"], item["start_date"][:10]
            weight_source = f"sauvegarde Chimio, cure du {item['start_date'][:10]}"
        if item.get("weight_kg"):
            break

    # totals of the same molecules over the inclusion's other prescriptions
    totals: dict[str, float] = defaultdict(float)
    for item in treatment_history.inclusion_doses(conn, inclusion["id"], exclude):
        totals[fold(item[0])] += item[1]

    # other active administrations of the patient (duplicates)
    dates = sorted({line["admin_date"] for line in lines})
    others = []
    if dates:
        for item in treatment_history.other_administrations(
            conn, patient["id"], exclude, cure["id"], dates[0], dates[-1]
        ):
            others.append(checks.OtherAdministration(*item))

    # lifetime cumulative doses: backup history + other crisis prescriptions
    cumulative = []
    for item in history:
        dose = item.get("dose_prescribed") if item.get("dose_prescribed") is not None else None
        if item.get("molecule_id") is not None and dose and item.get("molecule_name"):
            cumulative.append(
                checks.CumulativeDose(
                    item["molecule_name"],
                    float(dose),
                    item.get("bsa_dubois") or None,
                    item["start_date"][:10],
                    "sauvegarde",
                )
            )
    for item in treatment_history.crisis_mg_doses(conn, patient["id"], exclude):
        cumulative.append(checks.CumulativeDose(item[0], item[1], item[3], item[2], "crise"))

    meta = snapshot_meta(conn)
    return checks.PrescriptionFacts(
        on_date=head["on_date"],
        cure_date=cure_date,
        cycle_days=inclusion["cycle_days"],
        lines=[_line_facts(conn, line) for line in lines],
        bsa_m2=head.get("bsa_m2"),
        weight_kg=head.get("weight_kg"),
        creatinine_umol_l=head.get("creatinine_umol_l"),
        creatinine_date=head.get("creatinine_date"),
        previous_cure_date=previous_date,
        previous_cure_source=previous_source,
        previous_weight_kg=previous_weight,
        previous_weight_source=weight_source,
        previous_weight_date=weight_date or None,
        protocol_totals_before=dict(totals),
        others=others,
        cumulative_history=cumulative,
        backup_date=meta["backup_date"] if meta else None,
        transcribed=bool(head.get("transcribed")),
        transcribed_by=head.get("transcriber"),
    )


def findings_for(
    conn: sqlite3.Connection,
    prescription_id: int,
    *,
    settings=None,
    today: date | None = None,
) -> list[Finding]:
    """Every check on a stored prescription, with today's data (read only)."""
    settings = _load_settings(settings)
    prescription = prescription_by_id(conn, prescription_id)
    cure = cure_by_id(conn, prescription["cure_id"])
    inclusion = inclusion_by_id(conn, cure["inclusion_id"])
    patient = patient_by_id(conn, prescription["patient_id"])
    transcriber = None
    if prescription["transcriber_id"]:
        row = user_by_id(conn, prescription["transcriber_id"])
        transcriber = f"{row['name']} ({row['initials']})" if row else None
    head = {**prescription, "transcriber": transcriber}
    head["on_date"] = (today or clock.today()).isoformat()
    facts = build_facts(
        conn,
        patient=patient,
        inclusion=inclusion,
        cure=cure,
        head=head,
        lines=prescription_lines(conn, prescription_id),
        prescription_id=prescription_id,
    )
    return checks.run_all(facts, limits_from_settings(settings))


def _decidable(conn: sqlite3.Connection, actor: Actor, prescription_id: int, target: str):
    prescription = prescription_by_id(conn, prescription_id)
    cure = cure_by_id(conn, prescription["cure_id"])
    what = f"La prescription n° {prescription_id}"
    if prescription["state"] != "prescribed":
        state = workflow.label("cure", prescription["state"])
        if prescription["state"] == target:
            message = f"{what} est déjà « {state} » : action déjà faite (double clic ?)"
        else:
            message = f"{what} est déjà « {state} » : une seule décision pharmaceutique"
        raise OncoError(message, rule="TRANSITION")
    if cure["prescription_id"] != prescription_id:
        raise OncoError(
            f"{what} n'est plus la prescription en cours de la cure n° {cure['id']}",
            rule="TRANSITION",
        )
    workflow.require_transition("cure", cure["state"], target, f"La cure n° {cure['id']}")
    if actor.id in (prescription["prescriber_id"], prescription["transcriber_id"]):
        role = "retranscrite" if actor.id == prescription["transcriber_id"] else "rédigée"
        raise OncoError(
            f"{actor.initials} ne peut pas valider une prescription qu'il/elle a {role} "
            f"(prescription n° {prescription_id}) : un autre pharmacien doit la valider",
            rule="AUTO_VALIDATION",
        )
    return prescription, cure


def _clean_justifications(justifications: dict[str, str] | None) -> dict[str, str]:
    clean = {}
    for rule, text in (justifications or {}).items():
        code = str(rule).strip().upper()
        words = squeeze(text)
        if not words:
            raise OncoError(f"Justification vide pour la règle {code}", field="justification")
        clean[code] = words
    return clean


def validate_prescription(
    conn: sqlite3.Connection,
    actor: Actor,
    prescription_id: int,
    *,
    justifications: dict[str, str] | None = None,
    comment: str | None = None,
    settings=None,
    today: date | None = None,
) -> dict[str, Any]:
    """Validate: every blocking rule that fired needs a written justification ``{RULE: text}``."""
    settings = _load_settings(settings)
    given = _clean_justifications(justifications)
    comment = optional_text(comment)
    with action(
        conn, actor, "valider_prescription", VALIDATE_ROLES, "valider une prescription"
    ) as act:
        prescription, cure = _decidable(conn, actor, prescription_id, "validated")
        from oncosecours.services.patients import refuse_deceased

        refuse_deceased(
            conn, patient_by_id(conn, prescription["patient_id"]), "validation pharmaceutique"
        )
        findings = findings_for(conn, prescription_id, settings=settings, today=today)
        never = [f for f in findings if f.rule in checks.NEVER_JUSTIFIED]
        if never:
            raise OncoError(
                f"La prescription n° {prescription_id} ne peut pas être validée, même avec une "
                "justification : " + " ; ".join(f.message for f in never),
                rule=",".join(dict.fromkeys(f.rule for f in never)),
                hint="Refuser la prescription (oncosecours validate refuse) et faire corriger "
                "la voie par le prescripteur",
            )
        needed = checks.blocking_rules(findings)
        missing = [rule for rule in needed if rule not in given]
        if missing:
            detail = " ; ".join(f.message for f in findings if f.rule in missing)
            raise OncoError(
                f"Alerte(s) bloquante(s) sans justification : {', '.join(missing)} — {detail}",
                rule="JUSTIFICATION",
                hint="Justifier chaque règle (--justify REGLE=texte) ou refuser la prescription",
            )
        unknown = [rule for rule in given if rule not in needed]
        if unknown:
            raise OncoError(
                f"Justification pour une règle qui n'est pas déclenchée : {', '.join(unknown)} "
                f"(règles bloquantes : {', '.join(needed) or 'aucune'})",
                field="justification",
            )
        return _decide(act, prescription, cure, "validated", findings, given, comment)


def refuse_prescription(
    conn: sqlite3.Connection,
    actor: Actor,
    prescription_id: int,
    *,
    comment: str,
    settings=None,
    today: date | None = None,
) -> dict[str, Any]:
    """Refuse with a comment (mandatory); the cure can then be prescribed again."""
    settings = _load_settings(settings)
    comment = squeeze(comment)
    if not comment:
        raise OncoError("Un refus doit être motivé (commentaire obligatoire)", field="commentaire")
    with action(
        conn, actor, "refuser_prescription", VALIDATE_ROLES, "refuser une prescription"
    ) as act:
        prescription, cure = _decidable(conn, actor, prescription_id, "refused")
        findings = findings_for(conn, prescription_id, settings=settings, today=today)
        return _decide(act, prescription, cure, "refused", findings, {}, comment)


def _decide(act, prescription, cure, decision, findings, justifications, comment):
    conn = act.conn
    now = audit.now_iso()
    found = [f.to_dict() for f in findings]
    validation_id = prescriptions.insert_validation(
        conn,
        {
            "prescription_id": prescription["id"],
            "pharmacist_id": act.actor.id,
            "decision": decision,
            "comment": comment,
            "findings_json": json.dumps(found, ensure_ascii=False),
            "justifications_json": json.dumps(justifications, ensure_ascii=False),
            "decided_at": now,
        },
    )
    prescriptions.set_prescription_state(conn, prescription["id"], decision)
    prescriptions.set_cure_state(conn, cure["id"], decision, now)
    act.record(
        "prescription",
        prescription["id"],
        {"état": "prescribed", "cure": cure["id"], "état_cure": cure["state"]},
        {
            "état": decision,
            "décision": validation_id,
            "commentaire": comment,
            "alertes": [f["regle"] for f in found],
            "justifications": justifications,
        },
    )
    return {
        "validation_id": validation_id,
        "prescription_id": prescription["id"],
        "cure_id": cure["id"],
        "decision": decision,
        "comment": comment,
        "findings": found,
        "justifications": justifications,
    }
