"""Reconciliation: prescriptions, preparations, releases, dispensings, administrations and billing
lines crossed, and every break listed (each with its rule, its key and the values that make it).

A break stays open until a pharmacist justifies it (:func:`justify`, audited); the crisis can be
closed only when none is open.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from oncosecours.domain import workflow
from oncosecours.domain.errors import OncoError
from oncosecours.services.core import Actor, action, required_reason
from oncosecours.services.sortie.records import patient_name, period
from oncosecours.store import audit
from oncosecours.store import sortie as db

ROLES = ("pharmacien",)

BREAKS = {
    "PRESCRITE_NON_PREPAREE": "ligne validée, due, sans préparation ni administration",
    "SANS_DEVENIR": "n° d'ordonnancier sans devenir (ni libéré, ni refusé, ni annulé)",
    "LIBEREE_NON_ADMINISTREE": "poche libérée (ou dispensée) jamais administrée",
    "ADMINISTREE_NON_FACTUREE": "préparation de la liste en sus administrée, non facturée",
    "FACTUREE_DEUX_FOIS": "préparation facturée dans plusieurs exports",
    "FACTUREE_NON_ADMINISTREE": "ligne de facturation d'une préparation non administrée",
}


def _patient(prep: dict[str, Any]) -> str:
    ipp = prep.get("patient_ipp") or "sans IPP"
    return f"{patient_name(prep, 'patient_')} (IPP {ipp})"


def breaks(conn: sqlite3.Connection, date_from: Any = None, date_to: Any = None) -> dict:
    """Every break of the period (preparations made in it, lines due by its last day)."""
    start, end = period(conn, date_from, date_to)
    found: list[dict[str, Any]] = []

    def add(rule: str, key: str, patient: str, message: str) -> None:
        found.append({"regle": rule, "cle": key, "patient": patient, "message": message})

    for line in db.validated_lines_without_preparation(conn, end):
        if line["admin_date"] < start:
            continue
        add(
            "PRESCRITE_NON_PREPAREE",
            f"ligne:{line['id']}",
            f"{patient_name(line)} (IPP {line['ipp'] or 'sans IPP'})",
            f"ligne n° {line['id']} {line['molecule_name']} du {line['admin_date']} validée, "
            "ni préparée ni administrée",
        )
    preps = db.preparations_between(conn, start, end)
    billed = db.billed(conn)
    les_molecules = db.liste_en_sus_molecules(conn)
    import json

    for prep in preps:
        number, state = prep["ord_number"], prep["state"]
        state_fr = workflow.label("preparation", state)
        if state in ("prepared", "controlled"):
            add(
                "SANS_DEVENIR",
                number,
                _patient(prep),
                f"n° {number} ({prep['molecule_name']}) « {state_fr} » : ni libéré, ni refusé, "
                "ni annulé",
            )
        if state in ("released", "dispensed") and prep["administration_id"] is None:
            add(
                "LIBEREE_NON_ADMINISTREE",
                number,
                _patient(prep),
                f"n° {number} ({prep['molecule_name']}) {state_fr} le "
                f"{(prep['dispensed_at'] or prep['released_at'] or '')[:16]}, jamais administré",
            )
        lines = billed.get(prep["id"], [])
        is_les = prep["molecule_id"] in les_molecules or bool(prep["les_code"])
        new_vials = sum(int(v["count"]) for v in json.loads(prep["products_json"] or "[]"))
        if state == "administered" and is_les and new_vials > 0 and not lines:
            add(
                "ADMINISTREE_NON_FACTUREE",
                number,
                _patient(prep),
                f"n° {number} ({prep['molecule_name']}, liste en sus) administré le "
                f"{(prep['started_at'] or '')[:10]}, absent de tout export de facturation",
            )
        exports_ = sorted({line["export_id"] for line in lines})
        if len(exports_) > 1:
            add(
                "FACTUREE_DEUX_FOIS",
                number,
                _patient(prep),
                f"n° {number} ({prep['molecule_name']}) facturé dans les exports "
                f"n° {', '.join(str(e) for e in exports_)}",
            )
        if lines and state != "administered":
            add(
                "FACTUREE_NON_ADMINISTREE",
                number,
                _patient(prep),
                f"n° {number} ({prep['molecule_name']}) facturé (export n° {lines[0]['export_id']}) "
                f"mais « {state_fr} »",
            )
    justified = db.justifications(conn)
    for item in found:
        reason = justified.get((item["regle"], item["cle"]))
        item["justification"] = reason["text"] if reason else ""
        item["justifie_par"] = reason["justified_by_initials"] if reason else ""
        item["justifie_le"] = reason["justified_at"] if reason else ""
        item["libelle"] = BREAKS[item["regle"]]
    open_ = [b for b in found if not b["justification"]]
    return {
        "du": start,
        "au": end,
        "preparations": len(preps),
        "ruptures": found,
        "ouvertes": len(open_),
        "justifiees": len(found) - len(open_),
    }


def justify(conn: sqlite3.Connection, actor: Actor, ref: str, text: str) -> dict[str, Any]:
    """Explain one break (``REGLE:CLE``, as the report prints it); never changed afterwards."""
    rule, _, key = str(ref or "").strip().partition(":")
    rule = rule.upper()
    if rule not in BREAKS or not key:
        raise OncoError(
            f"Rupture « {ref} » : écrire RÈGLE:CLÉ comme dans le rapport "
            f"(règles : {', '.join(BREAKS)})",
            field="rupture",
        )
    text = required_reason(text, "de la justification")
    with action(conn, actor, "justifier_rupture", ROLES, "justifier une rupture") as act:
        report = breaks(conn)
        if not any(b["regle"] == rule and b["cle"] == key for b in report["ruptures"]):
            raise OncoError(
                f"Aucune rupture {rule}:{key} dans le rapprochement actuel",
                field="rupture",
                rule="RUPTURE_INCONNUE",
            )
        if (rule, key) in db.justifications(conn):
            raise OncoError(f"La rupture {rule}:{key} est déjà justifiée", rule="DEJA_FAIT")
        new_id = db.insert_justification(
            conn, rule, key, text, actor.id, actor.initials, audit.now_iso()
        )
        act.record("rupture", f"{rule}:{key}", None, {"justification": text})
    return {"id": new_id, "regle": rule, "cle": key, "justification": text}


def report_text(report: dict[str, Any]) -> str:
    head = (
        f"Rapprochement du {report['du']} au {report['au']} : {report['preparations']} "
        f"préparation(s), {len(report['ruptures'])} rupture(s) dont {report['ouvertes']} "
        "à justifier."
    )
    lines = [head]
    for b in report["ruptures"]:
        mark = "JUSTIFIÉE" if b["justification"] else "À JUSTIFIER"
        lines.append(f"  {b['regle']}:{b['cle']} — {b['patient']} — {b['message']}")
        lines.append(
            f"      {mark}"
            + (f" par {b['justifie_par']} : {b['justification']}" if b["justification"] else "")
        )
    return "\n".join(lines)
