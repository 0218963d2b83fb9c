"""What each sheet shows, read from the store: plain dicts keyed by the layout's column keys.

The builder (openpyxl) and the ribbon actions (xlwings) both write these, so a sheet built today
and a sheet refreshed by a click look the same. Read-only (the SQL is in :mod:`oncosecours.store.sheets`
and the services' reads); no pandas, no Excel here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from oncosecours.domain import workflow
from oncosecours.domain.display import fr_dose
from oncosecours.store import sheets

DAY_STATES = tuple(workflow.DAY_STATES_FR)
DAY_STATES_FR = workflow.DAY_STATES_FR

FEU_VERT_CHOICES = ("Feu vert", "Différer")
LIBERATION_CHOICES = ("Libérer", "Refuser")
INCIDENT_CHOICES = ("Aucun", "Arrêt", "Extravasation", "Réaction")
YES_NO = ("Non", "Oui")
SEXES = ("F", "M")


@dataclass(frozen=True)
class ViewContext:
    day: date
    settings: Any = None
    store_label: str = ""
    settings_label: str = ""
    journal_rows: int = 2000
    cache: dict = field(default_factory=dict)


@dataclass
class SheetContent:
    """Values of named form fields (only those given are written) and the table rows (None =
    leave the table as it is)."""

    fields: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] | None = None


def _name(row: sqlite3.Row | dict, prefix: str = "") -> str:
    birth = (row[f"{prefix}birth_name"] or "").upper()
    usual = row[f"{prefix}usual_name"]
    first = row[f"{prefix}first_name"] or ""
    return f"{birth}{f' ({usual.upper()})' if usual else ''} {first}".strip()


def _fr_date(iso: str | None) -> str:
    if not iso:
        return ""
    return f"{iso[8:10]}/{iso[5:7]}/{iso[0:4]}"


def _cure_label(state: str) -> str:
    return workflow.CURE_STATES.get(state, state)


def _findings_text(findings_json: str | None) -> tuple[str, int]:
    findings = json.loads(findings_json or "[]")
    lines, blocking = [], 0
    for item in findings:
        severity = item.get("gravite") or item.get("severity") or ""
        rule = item.get("regle") or item.get("rule") or ""
        message = item.get("message") or ""
        if severity == "bloquant":
            blocking += 1
        lines.append(f"{'⛔' if severity == 'bloquant' else '⚠'} [{rule}] {message}")
    return "\n".join(lines), blocking


# --- The day (services.day_status, shared by several sheets) ---------------------------------


def day_rows(conn: sqlite3.Connection, ctx: ViewContext) -> list[dict[str, Any]]:
    """``services.day_status`` for the displayed day, computed once per refresh."""
    key = ("day_status", ctx.day.isoformat())
    if key not in ctx.cache:
        from oncosecours.services.day_status import day_status

        ctx.cache[key] = day_status(conn, ctx.day)
    return ctx.cache[key]


def _step(row: dict[str, Any], name: str) -> dict[str, Any]:
    return (row.get("steps") or {}).get(name) or {}


def _who(step: dict[str, Any]) -> str | None:
    if not step.get("by"):
        return None
    at = step.get("at") or ""
    return f"{step['by']} {at[11:16]}".strip()


def _waiting(row: dict[str, Any]) -> str | None:
    parts = [row.get("blocking")] + list(row.get("flags") or [])
    text = " ; ".join(p for p in parts if p)
    return text or None


# --- Accueil ---------------------------------------------------------------------------------


def copy_fields(settings: Any, store: Any) -> dict[str, Any]:
    """Accueil's « Copie de secours » line: :func:`replica_status`'s French message and level.

    Never raises: a status that cannot be read is itself an alert."""
    from oncosecours.qualification.periodic import qualification_status
    from oncosecours.store.replica import replica_status

    qualification = {
        "qualification": qualification_status(settings, store, workbook=False)["message"]
    }
    try:
        status = replica_status(settings, store)
    except Exception as exc:  # unreadable settings, store folder gone...
        return {
            "copie_secours": f"ÉTAT DE LA COPIE DE SECOURS ILLISIBLE : {exc}",
            "niveau_copie": "alerte",
            **qualification,
        }
    return {"copie_secours": status["message"], "niveau_copie": status["niveau"], **qualification}


def accueil(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    backup = sheets.backup_day(conn)
    lines: dict[str, int] = {}
    cures: dict[str, set] = {}
    for row in day_rows(conn, ctx):
        lines[row["state"]] = lines.get(row["state"], 0) + 1
        cures.setdefault(row["state"], set()).add(row["cure_id"])
    rows = [
        {"etat": DAY_STATES_FR[s], "lignes": lines.get(s, 0), "cures": len(cures.get(s, ()))}
        for s in DAY_STATES
    ]
    from oncosecours.store.engines import engine_line
    from oncosecours.store.replica import main_path

    fields = {"date_sauvegarde": backup or "aucune sauvegarde chargée", "base": engine_line(conn)}

    store = main_path(conn)
    if store is not None:  # an in-memory store has no copy
        fields.update(copy_fields(ctx.settings, store))
    return SheetContent(fields=fields, rows=rows)


# --- Patients --------------------------------------------------------------------------------


def patients(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = []
    day = ctx.day.isoformat()
    for p in sheets.patients_by_name(conn):
        measures = {
            kind: sheets.latest_value(conn, p["id"], kind)
            for kind in ("weight", "height", "creatinine")
        }
        protocols = sheets.active_protocol_names(conn, p["id"])
        following = sheets.next_cure_date(conn, p["id"], day)
        rows.append(
            {
                "id": p["id"],
                "ipp": p["ipp"],
                "nom_naissance": p["birth_name"],
                "nom_usage": p["usual_name"],
                "prenom": p["first_name"],
                "date_naissance": p["birth_date"],
                "sexe": p["sex"],
                "service": p["ward"],
                "poids": measures["weight"],
                "taille": measures["height"],
                "creatinine": measures["creatinine"],
                "protocoles": " ; ".join(protocols),
                "prochaine_cure": following,
                "source": p["source"],
            }
        )
    return SheetContent(rows=rows)


# --- Validation ------------------------------------------------------------------------------


def _current_findings(conn: sqlite3.Connection, prescription_id: int, ctx: ViewContext):
    """The checks as the pharmacist will face them now (services.validation.findings_for)."""
    from oncosecours.services.validation import findings_for

    found = findings_for(conn, prescription_id, settings=ctx.settings, today=ctx.day)
    return json.dumps([f.to_dict() for f in found], ensure_ascii=False)


def _cancellation(cure: sqlite3.Row) -> str:
    """``cure annulée par DR1 le 02/03/2026 10:15 : motif``."""
    text = "cure annulée"
    if cure["cancelled_by_initials"]:
        text += f" par {cure['cancelled_by_initials']}"
    when = cure["cancelled_at"]
    if when:
        text += f" le {_fr_date(when[:10])} {when[11:16]}"
    if cure["cancel_reason"]:
        text += f" : {cure['cancel_reason']}"
    return text


def validation(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    """Prescriptions waiting for a pharmacist (as ``services.queries.pending_validations``: not
    those of a cancelled cure), then the decisions taken on the day (« annulée » when the cure
    was cancelled since)."""
    day = ctx.day.isoformat()
    rows = []
    for r in sheets.validation_rows(conn, day):
        decision = ""
        last = sheets.last_decision(conn, r["id"])
        if r["waiting"]:
            findings_json = _current_findings(conn, r["id"], ctx)
        else:
            findings_json = last["findings_json"] if last else r["findings_json"]
        if last is not None and not r["waiting"]:
            verdict = "validée" if last["decision"] == "validated" else "refusée"
            when = last["decided_at"]
            decision = f"{verdict} par {last['initials']} le {_fr_date(when[:10])} {when[11:16]}"
            if last["comment"]:
                decision += f" : {last['comment']}"
        cancelled = r["cure_state"] == "cancelled"
        if cancelled:
            decision = " — ".join(p for p in (decision, _cancellation(r)) if p)
        alerts, blocking = _findings_text(findings_json)
        rows.append(
            {
                "prescription": r["id"],
                "patient": _name(r),
                "ipp": r["ipp"],
                "protocole": r["protocol_name"],
                "cycle": r["cycle"],
                "date": r["planned_date"],
                "prescripteur": r["prescriber_name"]
                + (" (transcription)" if r["transcribed"] else ""),
                "etat": _cure_label("cancelled" if cancelled else r["state"]),
                "alertes": alerts,
                "bloquantes": blocking,
                "decision": decision,
            }
        )
    return SheetContent(rows=rows)


# --- Feu vert --------------------------------------------------------------------------------

_CURE_PRIORITY = ("planned", "prescribed", "refused", "validated", "withheld")


def feu_vert(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    """One row per cure of the day: where it stands with regard to the go-ahead."""
    by_cure: dict[int, list[dict[str, Any]]] = {}
    for row in day_rows(conn, ctx):
        by_cure.setdefault(row["cure_id"], []).append(row)
    rows = []
    for cure_id, lines in by_cure.items():
        states = [r["state"] for r in lines]
        state = next((s for s in _CURE_PRIORITY if s in states), None)
        if state is None:
            state = "cancelled" if all(s == "cancelled" for s in states) else "go_ahead"
        first = next((r for r in lines if r["state"] == state), lines[0])
        go = _step(first, "go_ahead")
        rows.append(
            {
                "cure": cure_id,
                "patient": first["patient_name"],
                "ipp": first["ipp"],
                "protocole": first["protocol"],
                "cycle": first["cycle"],
                "date": first["date"],
                "etat": DAY_STATES_FR.get(state, state),
                "motif": go.get("reason"),
                "par": _who(go),
                "bloque": first.get("blocking") if state != "go_ahead" else None,
            }
        )
    return SheetContent(rows=rows)


# --- Fabrication and after -------------------------------------------------------------------


def _preparation_rows(conn: sqlite3.Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    return sheets.preparations_by_id(conn, ids)


def _to_trace(conn: sqlite3.Connection, prep: dict[str, Any] | None) -> str | None:
    """What the preparer must record as lots, in the CLI's ``nature:produit`` form."""
    if prep is None or prep["state"] != "prepared":
        return None
    from oncosecours.services.preparation_plan import required_components
    from oncosecours.store.preparations import lots_of

    have = {(lot["kind"], lot["component"]) for lot in lots_of(conn, prep["id"])}
    needed = [f"{k}:{n}" for k, n in required_components(prep) if (k, n) not in have]
    return " ; ".join(needed) or None


def fabrication(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    """The day's lines that the pharmacy compounds, with their preparation if any."""
    day = [r for r in day_rows(conn, ctx) if r["needs_preparation"]]
    preps = _preparation_rows(conn, [r["preparation_id"] for r in day if r["preparation_id"]])
    rows = []
    for r in day:
        prep = preps.get(r["preparation_id"]) if r["preparation_id"] else None
        rows.append(
            {
                "ligne": r["line_id"],
                "preparation": r["preparation_id"],
                "ordonnancier": r["number"],
                "patient": r["patient_name"],
                "date": r["date"],
                "molecule": r["molecule"],
                "dose": fr_dose(r["dose"]),
                "unite": r["unit"],
                "etat": r["state_fr"],
                "a_tracer": _to_trace(conn, prep),
                "par": _step(r, "prepared").get("by"),
                "utiliser_avant": r["use_by"],
                "bloque": _waiting(r),
            }
        )
    return SheetContent(rows=rows)


def _prep_base(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "ligne": r["line_id"],
        "preparation": r["preparation_id"],
        "ordonnancier": r["number"],
        "patient": r["patient_name"],
        "ipp": r["ipp"],
        "molecule": r["molecule"],
        "dose": fr_dose(r["dose"]),
        "unite": r["unit"],
        "etat": r["state_fr"],
        "utiliser_avant": r["use_by"],
        "bloque": _waiting(r),
    }


def liberation(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    day = [
        r
        for r in day_rows(conn, ctx)
        if r["preparation_id"] and r["state"] in ("prepared", "controlled", "released")
    ]
    preps = _preparation_rows(conn, [r["preparation_id"] for r in day])
    rows = []
    for r in day:
        item = _prep_base(r)
        control = _step(r, "controlled")
        prep = preps.get(r["preparation_id"], {})
        measured = control.get("measured_weight_g")
        target = prep.get("target_weight_g")
        item.update(
            {
                "poids_cible": target,
                "par": _step(r, "prepared").get("by"),
                "poids_mesure": measured,
                "ecart": (measured - target) / target * 100 if measured and target else None,
                "controle_visuel": (
                    ("Oui" if control.get("visual_ok") else "Non") if control else None
                ),
                "double_controle": control.get("double_checker") if control else None,
            }
        )
        rows.append(item)
    return SheetContent(rows=rows)


def dispensation(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = []
    for r in day_rows(conn, ctx):
        if not r["preparation_id"] or r["state"] not in ("released", "dispensed"):
            continue
        item = _prep_base(r)
        given = _step(r, "dispensed")
        item.update(
            {
                "service": given.get("ward") or r.get("ward"),
                "recu_par": given.get("recipient"),
                "dispense_le": given.get("at"),
            }
        )
        rows.append(item)
    return SheetContent(rows=rows)


def administration(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    """Bags dispensed to the ward, supportive lines with their go-ahead, and what was given."""
    rows = []
    for r in day_rows(conn, ctx):
        ready = r["state"] == "dispensed" or (
            r["state"] == "go_ahead" and not r["needs_preparation"]
        )
        if not (ready or r["state"] == "administered"):
            continue
        item = _prep_base(r)
        done = _step(r, "administered")
        incidents = done.get("incidents") or []
        item.update(
            {
                "voie": r.get("route"),
                "debut": done.get("at"),
                "fin": done.get("ended_at"),
                "incident": ", ".join(str(i.get("label") or i.get("kind") or "") for i in incidents)
                or None,
            }
        )
        rows.append(item)
    return SheetContent(rows=rows)


# --- Notes, journal, settings ----------------------------------------------------------------


def notes(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = []
    for n in sheets.notes_with_patients(conn):
        rows.append(
            {
                "id": n["id"],
                "date": n["created_at"],
                "patient": _name(n),
                "ipp": n["ipp"],
                "prescription": n["prescription_id"],
                "auteur": n["author_initials"],
                "role": n["author_role"],
                "texte": n["text"],
                "corrige": n["corrects_note_id"],
            }
        )
    return SheetContent(rows=rows)


def _json_text(text: str | None) -> str | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        return " ; ".join(f"{k} = {v}" for k, v in data.items())
    return str(data)


def journal(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = [
        {
            "seq": e["seq"],
            "date": e["at"],
            "utilisateur": e["user_initials"],
            "role": e["role"],
            "action": e["action"].replace("_", " "),
            "objet": e["entity"],
            "identifiant": e["entity_id"],
            "avant": _json_text(e["before_json"]),
            "apres": _json_text(e["after_json"]),
        }
        for e in sheets.journal(conn, ctx.journal_rows)
    ]
    return SheetContent(rows=rows)


def parametres(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = []
    fields: dict[str, Any] = {
        "base": ctx.store_label,
        "fichier_parametres": ctx.settings_label or "paramètres par défaut",
    }
    if ctx.settings is not None:
        for section, values in ctx.settings.as_dict().items():
            for key, value in values.items():
                shown = ", ".join(map(str, value)) if isinstance(value, list) else value
                rows.append({"section": section, "cle": key, "valeur": str(shown)})
        fields["seuil_sauvegarde"] = ctx.settings.sauvegardes.seuil_anciennete_jours
    return SheetContent(fields=fields, rows=rows)


# --- Drop-down lists -------------------------------------------------------------------------


def protocol_choice(protocol_id: int, name: str) -> str:
    return f"{name} [{protocol_id}]"


def cure_choice(cure_id: int, patient: str, protocol: str, cycle: int, planned: str) -> str:
    return f"{cure_id} — {patient} — {protocol} C{cycle} — {_fr_date(planned)}"


def lists(conn: sqlite3.Connection, ctx: ViewContext) -> dict[str, list[str]]:
    protocols = [protocol_choice(r["protocol_id"], r["name"]) for r in sheets.protocol_names(conn)]
    cures = [
        cure_choice(r["id"], _name(r), r["protocol_name"], r["cycle"], r["planned_date"])
        for r in sheets.cures_to_prescribe(conn)
    ]
    wards = sorted(sheets.wards(conn))
    codes: list[str] = []
    if ctx.settings is not None:
        from oncosecours.services.prescription_draft import known_les_codes

        codes = list(known_les_codes(conn, ctx.settings))  # settings + backup, as prescribed
    return {
        "L_Protocoles": protocols,
        "L_Cures": cures,
        "L_Sexes": list(SEXES),
        "L_OuiNon": list(YES_NO),
        "L_Services": wards,
        "L_CodesLES": sorted(set(codes)),
        "L_FeuVert": list(FEU_VERT_CHOICES),
        "L_Liberation": list(LIBERATION_CHOICES),
        "L_Incidents": list(INCIDENT_CHOICES),
    }


VIEWS: dict[str, Callable[[sqlite3.Connection, ViewContext], SheetContent]] = {
    "Accueil": accueil,
    "Patients": patients,
    "Validation": validation,
    "Feu vert": feu_vert,
    "Fabrication": fabrication,
    "Libération": liberation,
    "Dispensation": dispensation,
    "Administration": administration,
    "Notes": notes,
    "Journal": journal,
    "Paramètres": parametres,
    "Reprise": lambda conn, ctx: _sortie_view("reprise", conn, ctx),
    "Rapprochement": lambda conn, ctx: _sortie_view("rapprochement", conn, ctx),
}


def _stock(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    from oncosecours.excel.stock_view import stock

    return stock(conn, ctx)


VIEWS["Stock"] = _stock
"""Sheets rebuilt from the store (the Prescription sheet is a form: written by its actions)."""


def _sortie_view(name: str, conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    from oncosecours.excel import sortie_views

    return getattr(sortie_views, name)(conn, ctx)


def compute(
    conn: sqlite3.Connection, names: Iterable[str], ctx: ViewContext
) -> dict[str, SheetContent]:
    return {name: VIEWS[name](conn, ctx) for name in names if name in VIEWS}
