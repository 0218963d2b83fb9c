"""What happened during the crisis, gathered once per patient (for the dossiers) and flattened into
the datasets the declarative export files (``exports/*.toml``) lay out.

Read only. A record is plain dicts; every value a CSV shows comes from a column of the store
(no recomputation): the dose as prescribed, the engine's dose, the pharmacist's decision...
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from oncosecours.domain import workflow
from oncosecours.domain.errors import OncoError
from oncosecours.domain.identity import parse_date
from oncosecours.store import sortie as db

ITEM_KINDS_FR = {"patient": "Patient", "inclusion": "Inclusion", "cure": "Cure"}


@dataclass
class CrisisRecords:
    """The period and, per patient, the nested record of everything recorded for them."""

    date_from: str
    date_to: str
    patients: list[dict[str, Any]] = field(default_factory=list)

    def items(self) -> list[dict[str, Any]]:
        """The re-entry checklist: one item per patient, inclusion and cure, in dossier order."""
        out = []
        for rec in self.patients:
            p = rec["patient"]
            name = patient_name(p)
            out.append(_item("patient", p["id"], p, name, f"{name}, né(e) le {p['birth_date']}"))
            for inc in rec["inclusions"]:
                i = inc["inclusion"]
                out.append(
                    _item(
                        "inclusion",
                        i["id"],
                        p,
                        name,
                        f"{i['protocol_name']} depuis le {i['start_date']} ({i['cycles']} cycles)",
                    )
                )
                for cure in inc["cures"]:
                    c = cure["cure"]
                    out.append(
                        _item(
                            "cure",
                            c["id"],
                            p,
                            name,
                            f"{i['protocol_name']} C{c['cycle']} du {c['planned_date']} "
                            f"({workflow.CURE_STATES.get(c['state'], c['state'])})",
                        )
                    )
        return out


def _item(kind: str, item_id: int, patient: dict, name: str, label: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": item_id,
        "key": f"{kind}:{item_id}",
        "kind_fr": ITEM_KINDS_FR[kind],
        "patient": name,
        "ipp": patient["ipp"] or f"#{patient['id']}",
        "label": label,
    }


def patient_name(row: dict[str, Any], prefix: str = "") -> str:
    birth = (row.get(f"{prefix}birth_name") or "").upper()
    usual = row.get(f"{prefix}usual_name")
    first = row.get(f"{prefix}first_name") or ""
    return f"{birth}{f' ({usual.upper()})' if usual else ''} {first}".strip()


def period(conn: sqlite3.Connection, date_from: Any, date_to: Any) -> tuple[str, str]:
    """The dates asked, or the crisis' first and last day; refused when reversed."""
    first, last = db.crisis_span(conn)
    start = parse_date(date_from, "du").isoformat() if date_from else (first or date.today())
    end = parse_date(date_to, "au").isoformat() if date_to else (last or date.today())
    start, end = str(start), str(end)
    if end < start:
        raise OncoError(f"Période vide : du {start} au {end}", field="au")
    return start, end


def gather(conn: sqlite3.Connection, date_from: Any = None, date_to: Any = None) -> CrisisRecords:
    """Every inclusion of the period with its cures, prescriptions (lines as prescribed and the
    pharmacist's decision), preparations (number, lots, control, release, dispensing) and
    administrations, grouped per patient."""
    start, end = period(conn, date_from, date_to)
    inclusions = db.inclusions(conn, start, end)
    # a cure still only planned after the period has not happened yet: Chimio plans it again
    cures = [
        c
        for c in db.cures(conn, [i["id"] for i in inclusions])
        if c["planned_date"] <= end or c["prescription_id"] or c["state"] != "planned"
    ]
    moves = db.postponements(conn)
    prescriptions = db.prescriptions(conn, [c["id"] for c in cures])
    lines = db.prescription_lines(conn, [p["id"] for p in prescriptions])
    line_ids = [line["id"] for line in lines]
    preps = db.preparations_of_lines(conn, line_ids)
    lots = db.lots(conn, [p["id"] for p in preps])
    admins = {a["prescription_line_id"]: a for a in db.administrations_of_lines(conn, line_ids)}
    preps_by_line: dict[int, list[dict]] = {}
    for prep in preps:
        prep["lots"] = lots.get(prep["id"], [])
        prep["products"] = json.loads(prep["products_json"] or "[]")
        preps_by_line.setdefault(prep["prescription_line_id"], []).append(prep)
    lines_by_prescription: dict[int, list[dict]] = {}
    for line in lines:
        line["preparations"] = preps_by_line.get(line["id"], [])
        line["administration"] = admins.get(line["id"])
        lines_by_prescription.setdefault(line["prescription_id"], []).append(line)
    prescriptions_by_cure: dict[int, list[dict]] = {}
    for presc in prescriptions:
        presc["lines"] = lines_by_prescription.get(presc["id"], [])
        prescriptions_by_cure.setdefault(presc["cure_id"], []).append(presc)
    cures_by_inclusion: dict[int, list[dict]] = {}
    for cure in cures:
        cures_by_inclusion.setdefault(cure["inclusion_id"], []).append(
            {
                "cure": cure,
                "postponements": moves.get(cure["id"], []),
                "prescriptions": prescriptions_by_cure.get(cure["id"], []),
            }
        )
    by_patient: dict[int, list[dict]] = {}
    for inc in inclusions:
        by_patient.setdefault(inc["patient_id"], []).append(
            {"inclusion": inc, "cures": cures_by_inclusion.get(inc["id"], [])}
        )
    records = CrisisRecords(start, end)
    for patient in db.patients(conn, list(by_patient)):
        records.patients.append({"patient": patient, "inclusions": by_patient[patient["id"]]})
    return records


# --- flat datasets (the rows an export file lays out) -------------------------------------------


def _identity(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "ipp": p["ipp"] or "",
        "patient": patient_name(p),
        "nom_naissance": (p["birth_name"] or "").upper(),
        "nom_usage": (p.get("usual_name") or "").upper(),
        "prenom": p["first_name"],
        "date_naissance": p["birth_date"],
        "sexe": p["sex"],
    }


def _lots_text(prep: dict[str, Any]) -> str:
    return " ; ".join(
        f"{lot['component']} lot {lot['lot']} exp. {lot['expiry']}"
        + (f" × {lot['quantity']}" if int(lot["quantity"] or 1) > 1 else "")
        for lot in prep["lots"]
    )


def _vials_text(prep: dict[str, Any]) -> str:
    return " + ".join(f"{v['count']} × {v['name']}" for v in prep["products"])


def datasets(records: CrisisRecords) -> dict[str, list[dict[str, Any]]]:
    """The re-entry datasets: patients, inclusions, cures, lignes, preparations, administrations."""
    out: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("patients", "inclusions", "cures", "lignes", "preparations")
    }
    out["administrations"] = []
    for rec in records.patients:
        p = rec["patient"]
        who = _identity(p)
        out["patients"].append(
            {
                **who,
                "id": p["id"],
                "service": p.get("ward") or "",
                "origine": "créé pendant la crise" if p["source"] == "crise" else "sauvegarde",
                "cree_le": p["created_at"],
                "cree_par": p["created_by_initials"],
            }
        )
        for inc in rec["inclusions"]:
            i = inc["inclusion"]
            out["inclusions"].append(
                {
                    **who,
                    "id": i["id"],
                    "protocole": i["protocol_name"],
                    "code_protocole": i["protocol_id"],
                    "debut": i["start_date"],
                    "cycles": i["cycles"],
                    "duree_cycle": i["cycle_days"],
                    "etat": "arrêtée" if i["state"] == "stopped" else "active",
                    "arretee_le": i.get("stopped_at") or "",
                    "motif_arret": i.get("stop_reason") or "",
                    "incluse_le": i["created_at"],
                    "incluse_par": i["created_by_initials"],
                }
            )
            for cure in inc["cures"]:
                _cure_rows(out, who, i, cure)
    return out


def _cure_rows(out: dict, who: dict, inc: dict, cure_rec: dict) -> None:
    c = cure_rec["cure"]
    moves = cure_rec["postponements"]
    out["cures"].append(
        {
            **who,
            "id": c["id"],
            "inclusion": inc["id"],
            "protocole": inc["protocol_name"],
            "cycle": c["cycle"],
            "date_prevue_initiale": c["initial_date"],
            "date_j1": c["planned_date"],
            "etat": workflow.CURE_STATES.get(c["state"], c["state"]),
            "reports": " ; ".join(
                f"{m['from']} → {m['to']} ({m['reason']}, {m['by']})" for m in moves
            ),
            "nombre_reports": len(moves),
            "annulee_le": c.get("cancelled_at") or "",
            "motif_annulation": c.get("cancel_reason") or "",
        }
    )
    for presc in cure_rec["prescriptions"]:
        for line in presc["lines"]:
            admin = line["administration"]
            out["lignes"].append(
                {
                    **who,
                    "id": line["id"],
                    "cure": c["id"],
                    "prescription": presc["id"],
                    "protocole": inc["protocol_name"],
                    "cycle": c["cycle"],
                    "jour": line["day"],
                    "date_administration": line["admin_date"],
                    "molecule": line["molecule_name"],
                    "dose_protocole": line["protocol_dose"],
                    "unite_protocole": line["protocol_unit"],
                    "dose_theorique": line["theoretical_dose"],
                    "dose_calculee": line["computed_dose"],
                    "dose_prescrite": line["dose"],
                    "unite": line["unit"],
                    "dose_saisie_main": "oui" if line["dose_overridden"] else "non",
                    "reduction_pct": line["reduction_pct"],
                    "motif_reduction": line["reduction_reason"] or "",
                    "code_les": line["les_code"] or "",
                    "voie": line["route"] or "",
                    "duree_min": line["duration_min"],
                    "diluant": line["diluent"] or "",
                    "volume_diluant_ml": line["diluent_volume_ml"],
                    "prescripteur": presc["prescriber_name"],
                    "prescrit_le": presc["prescribed_at"],
                    "retranscrite": "oui" if presc["transcribed"] else "non",
                    "etat_prescription": _PRESCRIPTION_FR.get(presc["state"], presc["state"]),
                    "decision_pharmacien": _DECISION_FR.get(presc["validation_decision"], ""),
                    "valide_par": presc["validated_by"] or "",
                    "valide_le": presc["validated_at"] or "",
                    "commentaire_validation": presc["validation_comment"] or "",
                    "administre": "oui" if admin else "non",
                }
            )
            for prep in line["preparations"]:
                out["preparations"].append(preparation_row(who, prep))
            if admin:
                bag = next(
                    (x for x in line["preparations"] if x["id"] == admin["preparation_id"]), None
                )
                out["administrations"].append(
                    {
                        **who,
                        "id": admin["id"],
                        "ligne": line["id"],
                        "molecule": line["molecule_name"],
                        "numero_ordonnancier": bag["ord_number"] if bag else "",
                        "dose": line["dose"],
                        "unite": line["unit"],
                        "debut": admin["started_at"],
                        "fin": admin["ended_at"],
                        "complete": "oui" if admin["completed"] else "non",
                        "voie_abord": admin["access"] or "",
                        "incidents": " ; ".join(
                            f"{i.get('label', '')} : {i.get('comment', '')}"
                            for i in json.loads(admin["incidents_json"] or "[]")
                        ),
                        "commentaire": admin["comment"] or "",
                        "administre_par": admin["administered_by_initials"],
                    }
                )


def preparation_row(who: dict[str, Any], prep: dict[str, Any]) -> dict[str, Any]:
    """One ordonnancier entry with its fate (also the archive's ordonnancier CSV)."""
    return {
        **who,
        "id": prep["id"],
        "numero_ordonnancier": prep["ord_number"],
        "prepare_le": prep["prepared_at"],
        "prepare_par": prep["prepared_by_initials"],
        "prescripteur": prep["prescriber_name"],
        "protocole": prep["protocol_name"],
        "cycle": prep["cycle"],
        "jour": prep["day"],
        "date_administration": prep["admin_date"],
        "molecule": prep["molecule_name"],
        "dose": prep["dose"],
        "unite": prep["unit"],
        "code_les": prep["les_code"] or "",
        "flacons": _vials_text(prep),
        "diluant": prep["diluent"] or "",
        "volume_final_ml": prep["final_volume_ml"],
        "lots": _lots_text(prep),
        "a_utiliser_avant": prep["use_by"],
        "etat": workflow.label("preparation", prep["state"]),
        "poids_mesure_g": prep["measured_weight_g"],
        "dans_tolerance": "" if prep["in_tolerance"] is None else
        ("oui" if prep["in_tolerance"] else "non"),
        "controle_par": prep["controlled_by_initials"] or "",
        "controle_le": prep["controlled_at"] or "",
        "liberation": _DECISION_RELEASE_FR.get(prep["release_decision"], ""),
        "libere_par": prep["released_by"] or "",
        "libere_le": prep["released_at"] or "",
        "justification_liberation": prep["release_justification"] or prep["release_comment"]
        or "",
        "dispense_le": prep["dispensed_at"] or "",
        "recu_par": prep["recipient"] or "",
        "administre_le": prep["started_at"] or "",
        "administre_par": prep["administered_by_initials"] or "",
        "annulee_le": prep["cancelled_at"] or "",
        "motif_annulation": prep["cancel_reason"] or "",
    }  # fmt: skip


def register_rows(conn: sqlite3.Connection, date_from: str, date_to: str) -> list[dict[str, Any]]:
    """The ordonnancier of a period, one row per number (the archive's CSV)."""
    preps = db.preparations_between(conn, date_from, date_to)
    lots = db.lots(conn, [p["id"] for p in preps])
    rows = []
    for prep in preps:
        prep["lots"] = lots.get(prep["id"], [])
        prep["products"] = json.loads(prep["products_json"] or "[]")
        who = {
            "ipp": prep["patient_ipp"] or "",
            "patient": patient_name(prep, "patient_"),
            "nom_naissance": (prep["patient_birth_name"] or "").upper(),
            "nom_usage": (prep["patient_usual_name"] or "").upper(),
            "prenom": prep["patient_first_name"],
            "date_naissance": prep["patient_birth_date"],
            "sexe": prep["patient_sex"],
        }
        rows.append(preparation_row(who, prep))
    return rows


_PRESCRIPTION_FR = {"prescribed": "prescrite", "validated": "validée", "refused": "refusée"}
_DECISION_FR = {"validated": "validée", "refused": "refusée"}
_DECISION_RELEASE_FR = {"released": "libérée", "rejected": "refusée"}
