"""What each sheet shows, read from the store: plain dicts keyed by the layout's column keys.

The builder (openpyxl) and the ribbon actions (xlwings) both write these, so a sheet built today
and a sheet refreshed by a click look the same. Read-only SQL; no pandas, no Excel here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from oncosecours.domain import workflow

STATE_ORDER_CURE = ("planned", "prescribed", "refused", "validated", "withheld", "go_ahead")
STATE_ORDER_PREP = ("prepared", "controlled", "released", "rejected", "dispensed", "administered")

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


@dataclass
class SheetContent:
    """Values of named form fields (only those given are written) and the table rows (None =
    leave the table as it is)."""

    fields: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] | None = None


def _exists(conn: sqlite3.Connection, table: str) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
    )


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


def _prep_label(state: str) -> str:
    return workflow.PREPARATION_STATES.get(state, state)


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


# --- Accueil ---------------------------------------------------------------------------------


def accueil(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    meta = conn.execute("SELECT backup_date FROM snapshot_meta WHERE id = 1").fetchone()
    backup = meta["backup_date"][:10] if meta else None
    day = ctx.day.isoformat()
    cures: dict[str, int] = {}
    for row in conn.execute(
        "SELECT c.id, c.state, c.prescription_id FROM cures c WHERE c.state != 'cancelled' AND ("
        " c.planned_date = ? OR EXISTS (SELECT 1 FROM prescription_lines pl"
        " WHERE pl.prescription_id = c.prescription_id AND pl.admin_date = ?))",
        (day, day),
    ):
        state = row["state"]
        if state in ("validated", "go_ahead", "withheld") and _exists(conn, "go_aheads"):
            decision = conn.execute(
                "SELECT decision FROM go_aheads WHERE cure_id = ? AND admin_date = ? "
                "ORDER BY id DESC LIMIT 1",
                (row["id"], day),
            ).fetchone()
            state = (
                "validated"
                if decision is None
                else {"given": "go_ahead", "withheld": "withheld"}[decision[0]]
            )
        cures[state] = cures.get(state, 0) + 1
    preps: dict[str, int] = {}
    if _exists(conn, "preparations"):
        for row in conn.execute(
            "SELECT state, count(*) FROM preparations WHERE admin_date = ? GROUP BY state", (day,)
        ):
            preps[row[0]] = row[1]
    rows = [
        {"etat": _cure_label(s), "cures": cures.get(s, 0), "preparations": None}
        for s in STATE_ORDER_CURE
    ]
    rows += [
        {"etat": _prep_label(s), "cures": None, "preparations": preps.get(s, 0)}
        for s in STATE_ORDER_PREP
    ]
    fields = {"date_sauvegarde": backup or "aucune sauvegarde chargée"}
    return SheetContent(fields=fields, rows=rows)


# --- Patients --------------------------------------------------------------------------------


def patients(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = []
    day = ctx.day.isoformat()
    for p in conn.execute("SELECT * FROM patients ORDER BY birth_name, first_name, id"):
        measures = {}
        for kind in ("weight", "height", "creatinine"):
            m = conn.execute(
                "SELECT value, measured_on FROM measurements WHERE patient_id = ? AND kind = ? "
                "ORDER BY measured_on DESC, id DESC LIMIT 1",
                (p["id"], kind),
            ).fetchone()
            measures[kind] = m["value"] if m else None
        protocols = [
            r[0]
            for r in conn.execute(
                "SELECT protocol_name FROM inclusions WHERE patient_id = ? AND state = 'active' "
                "ORDER BY start_date, id",
                (p["id"],),
            )
        ]
        following = conn.execute(
            "SELECT min(planned_date) FROM cures WHERE patient_id = ? AND planned_date >= ? "
            "AND state NOT IN ('cancelled', 'go_ahead')",
            (p["id"], day),
        ).fetchone()[0]
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


def validation(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    """Prescriptions waiting for a pharmacist, then the decisions taken on the day."""
    day = ctx.day.isoformat()
    rows = []
    query = (
        "SELECT pr.id, pr.state, pr.prescriber_name, pr.findings_json, pr.transcribed, c.cycle, "
        "c.planned_date, i.protocol_name, pa.ipp, pa.birth_name, pa.usual_name, pa.first_name, "
        "(SELECT v.decision || '|' || v.decided_at || '|' || u.initials || '|' || "
        " coalesce(v.findings_json, '[]') FROM validations v JOIN users u ON u.id = "
        " v.pharmacist_id WHERE v.prescription_id = pr.id ORDER BY v.id DESC LIMIT 1) AS last "
        "FROM prescriptions pr JOIN cures c ON c.id = pr.cure_id "
        "JOIN inclusions i ON i.id = c.inclusion_id JOIN patients pa ON pa.id = pr.patient_id "
        "WHERE pr.state = 'prescribed' OR EXISTS (SELECT 1 FROM validations v WHERE "
        "v.prescription_id = pr.id AND substr(v.decided_at, 1, 10) = ?) "
        "ORDER BY pr.state != 'prescribed', c.planned_date, pr.id"
    )
    for r in conn.execute(query, (day,)):
        decision = ""
        findings_json = r["findings_json"]
        if r["last"]:
            verdict, when, who, decided_findings = r["last"].split("|", 3)
            decision = (
                f"{'validée' if verdict == 'validated' else 'refusée'} par {who} le "
                f"{_fr_date(when[:10])} {when[11:16]}"
            )
            findings_json = decided_findings if r["state"] != "prescribed" else findings_json
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
                "etat": _cure_label(r["state"]),
                "alertes": alerts,
                "bloquantes": blocking,
                "decision": decision,
            }
        )
    return SheetContent(rows=rows)


# --- Feu vert --------------------------------------------------------------------------------


def feu_vert(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    """Validated cures with lines on the day, and their go-ahead decision for that day."""
    day = ctx.day.isoformat()
    rows = []
    has_go = _exists(conn, "go_aheads")
    for r in conn.execute(
        "SELECT DISTINCT c.id, c.cycle, c.planned_date, c.state, i.protocol_name, pa.ipp, "
        "pa.birth_name, pa.usual_name, pa.first_name, pr.state AS pr_state "
        "FROM cures c JOIN prescriptions pr ON pr.id = c.prescription_id "
        "JOIN prescription_lines pl ON pl.prescription_id = pr.id "
        "JOIN inclusions i ON i.id = c.inclusion_id JOIN patients pa ON pa.id = c.patient_id "
        "WHERE pl.admin_date = ? AND c.state != 'cancelled' "
        "ORDER BY pa.birth_name, pa.first_name, c.id",
        (day,),
    ):
        state, who, waiting, reason = r["state"], "", "", None
        if r["pr_state"] != "validated":
            waiting = "validation pharmaceutique"
            state = r["pr_state"]
        elif has_go:
            decision = conn.execute(
                "SELECT decision, reason, decided_by_initials, decided_at FROM go_aheads "
                "WHERE cure_id = ? AND admin_date = ? ORDER BY id DESC LIMIT 1",
                (r["id"], day),
            ).fetchone()
            if decision is None:
                state, waiting = "validated", "feu vert du médecin"
            else:
                state = "go_ahead" if decision["decision"] == "given" else "withheld"
                who = f"{decision['decided_by_initials']} {decision['decided_at'][11:16]}"
                reason = decision["reason"]
                if state == "withheld":
                    waiting = "feu vert (différé)"
        rows.append(
            {
                "cure": r["id"],
                "patient": _name(r),
                "ipp": r["ipp"],
                "protocole": r["protocol_name"],
                "cycle": r["cycle"],
                "date": r["planned_date"],
                "etat": _cure_label(state),
                "motif": reason,
                "par": who,
                "bloque": waiting,
            }
        )
    return SheetContent(rows=rows)


# --- Fabrication -----------------------------------------------------------------------------


def _go_ahead_given(conn: sqlite3.Connection, cure_id: int, day: str) -> str | None:
    if not _exists(conn, "go_aheads"):
        return None
    row = conn.execute(
        "SELECT decision FROM go_aheads WHERE cure_id = ? AND admin_date = ? "
        "ORDER BY id DESC LIMIT 1",
        (cure_id, day),
    ).fetchone()
    return row[0] if row else None


def fabrication(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    """Anticancer lines of the day's validated cures, with their preparation if any."""
    day = ctx.day.isoformat()
    has_preps = _exists(conn, "preparations")
    rows = []
    for r in conn.execute(
        "SELECT pl.id, pl.cure_id, pl.admin_date, pl.molecule_name, pl.dose, pl.unit, "
        "pr.state AS pr_state, pa.ipp, pa.birth_name, pa.usual_name, pa.first_name "
        "FROM prescription_lines pl JOIN prescriptions pr ON pr.id = pl.prescription_id "
        "JOIN cures c ON c.id = pl.cure_id JOIN patients pa ON pa.id = pr.patient_id "
        "WHERE pl.admin_date = ? AND pl.line_type = 1 AND pr.state = 'validated' "
        "AND c.prescription_id = pr.id AND c.state != 'cancelled' "
        "ORDER BY pa.birth_name, pa.first_name, pl.cure_id, pl.line_no",
        (day,),
    ):
        prep = None
        if has_preps:
            prep = conn.execute(
                "SELECT id, ord_number, state, prepared_by_initials, use_by FROM preparations "
                "WHERE prescription_line_id = ? ORDER BY (state IN ('cancelled', 'rejected')), "
                "id DESC LIMIT 1",
                (r["id"],),
            ).fetchone()
        decision = _go_ahead_given(conn, r["cure_id"], day)
        if prep is not None:
            state, waiting = _prep_label(prep["state"]), ""
        elif decision == "given":
            state, waiting = _cure_label("go_ahead"), "préparation"
        elif decision == "withheld":
            state, waiting = _cure_label("withheld"), "feu vert (différé)"
        else:
            state, waiting = _cure_label("validated"), "feu vert du médecin"
        rows.append(
            {
                "ligne": r["id"],
                "preparation": prep["id"] if prep else None,
                "ordonnancier": prep["ord_number"] if prep else None,
                "patient": _name(r),
                "date": r["admin_date"],
                "molecule": r["molecule_name"],
                "dose": r["dose"],
                "unite": r["unit"],
                "etat": state,
                "par": prep["prepared_by_initials"] if prep else None,
                "utiliser_avant": prep["use_by"] if prep else None,
                "bloque": waiting,
            }
        )
    return SheetContent(rows=rows)


# --- After the hood: release, dispensing, administration --------------------------------------


def _preparations(conn: sqlite3.Connection, states: Iterable[str], day: str, done: str):
    """Preparations waiting in ``states``, then those that reached ``done`` on the day."""
    if not _exists(conn, "preparations"):
        return []
    wanted = tuple(states)
    marks = ", ".join("?" * len(wanted))
    return conn.execute(
        f"SELECT * FROM preparations WHERE state IN ({marks}) "
        "OR (state = ? AND substr(coalesce(updated_at, prepared_at), 1, 10) = ?) "
        f"ORDER BY state NOT IN ({marks}), patient_birth_name, patient_first_name, id",
        (*wanted, done, day, *wanted),
    ).fetchall()


def _prep_base(p: sqlite3.Row) -> dict[str, Any]:
    return {
        "preparation": p["id"],
        "ordonnancier": p["ord_number"],
        "patient": _name(p, "patient_"),
        "molecule": p["molecule_name"],
        "dose": p["dose"],
        "unite": p["unit"],
        "etat": _prep_label(p["state"]),
        "utiliser_avant": p["use_by"],
    }


def liberation(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = []
    for p in _preparations(conn, ("prepared", "controlled"), ctx.day.isoformat(), "released"):
        item = _prep_base(p)
        control = conn.execute(
            "SELECT measured_weight_g, deviation_pct, visual_ok, double_checker_initials "
            "FROM preparation_controls WHERE preparation_id = ?",
            (p["id"],),
        ).fetchone()
        item.update(
            {
                "poids_cible": p["target_weight_g"],
                "par": p["prepared_by_initials"],
                "poids_mesure": control["measured_weight_g"] if control else None,
                "ecart": control["deviation_pct"] if control else None,
                "controle_visuel": ("Oui" if control["visual_ok"] else "Non") if control else None,
                "double_controle": (
                    ("Oui" if control["double_checker_initials"] else "Non") if control else None
                ),
            }
        )
        rows.append(item)
    return SheetContent(rows=rows)


def dispensation(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = []
    for p in _preparations(conn, ("released",), ctx.day.isoformat(), "dispensed"):
        item = _prep_base(p)
        given = conn.execute(
            "SELECT ward, recipient, dispensed_at FROM dispensations WHERE preparation_id = ?",
            (p["id"],),
        ).fetchone()
        item.update(
            {
                "service": given["ward"] if given else p["patient_ward"],
                "recu_par": given["recipient"] if given else None,
                "dispense_le": given["dispensed_at"] if given else None,
            }
        )
        rows.append(item)
    return SheetContent(rows=rows)


def administration(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = []
    for p in _preparations(conn, ("dispensed",), ctx.day.isoformat(), "administered"):
        item = _prep_base(p)
        done = conn.execute(
            "SELECT started_at, ended_at, incidents_json, comment FROM administrations "
            "WHERE preparation_id = ?",
            (p["id"],),
        ).fetchone()
        incidents = json.loads(done["incidents_json"]) if done else []
        item.update(
            {
                "voie": p["route"],
                "duree": p["duration_min"],
                "debut": done["started_at"] if done else None,
                "fin": done["ended_at"] if done else None,
                "incident": ", ".join(i.get("label") or i.get("kind", "") for i in incidents)
                or None,
                "commentaire": done["comment"] if done else None,
            }
        )
        rows.append(item)
    return SheetContent(rows=rows)


# --- Notes, journal, settings ----------------------------------------------------------------


def notes(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    rows = []
    for n in conn.execute(
        "SELECT n.*, p.ipp, p.birth_name, p.usual_name, p.first_name FROM notes n "
        "JOIN patients p ON p.id = n.patient_id ORDER BY n.id DESC"
    ):
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
        for e in conn.execute(
            "SELECT * FROM audit_event ORDER BY seq DESC LIMIT ?", (ctx.journal_rows,)
        )
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
    protocols = [
        protocol_choice(r["protocol_id"], r["name"])
        for r in conn.execute("SELECT protocol_id, name FROM ref_protocols ORDER BY name")
    ]
    cures = [
        cure_choice(r["id"], _name(r), r["protocol_name"], r["cycle"], r["planned_date"])
        for r in conn.execute(
            "SELECT c.id, c.cycle, c.planned_date, i.protocol_name, p.birth_name, p.usual_name, "
            "p.first_name FROM cures c JOIN inclusions i ON i.id = c.inclusion_id "
            "JOIN patients p ON p.id = c.patient_id WHERE c.state IN ('planned', 'refused') "
            "ORDER BY c.planned_date, p.birth_name, c.id"
        )
    ]
    wards = sorted(
        {r[0] for r in conn.execute("SELECT DISTINCT ward FROM patients WHERE ward IS NOT NULL")}
    )
    codes: list[str] = []
    if ctx.settings is not None:
        codes = list(ctx.settings.codes_les.codes)
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
}
"""Sheets rebuilt from the store (the Prescription sheet is a form: written by its actions)."""


def compute(
    conn: sqlite3.Connection, names: Iterable[str], ctx: ViewContext
) -> dict[str, SheetContent]:
    return {name: VIEWS[name](conn, ctx) for name in names if name in VIEWS}
