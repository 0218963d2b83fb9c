"""Prescription of a planned cure (or transcription of a paper one): preview, prescribe, transcribe.

The draft (every line computed by the dose engine, the checks' findings) comes from
:func:`oncosecours.services.prescription_draft.compute_draft`; saving it writes the new measures,
the prescription, one row per (protocol line x day of its day mask) and the audit event in one
transaction.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from oncosecours import clock
from oncosecours.domain import workflow
from oncosecours.domain.errors import OncoError
from oncosecours.domain.identity import parse_date
from oncosecours.services.core import Actor, action, squeeze
from oncosecours.services.patients import _insert_measure
from oncosecours.services.prescription_draft import compute_draft
from oncosecours.services.validation import _load_settings
from oncosecours.store import audit, prescriptions
from oncosecours.store.circuit import (
    cure_by_id,
)

PRESCRIBE_ROLES = ("prescripteur",)
TRANSCRIBE_ROLES = ("prescripteur", "pharmacien", "préparateur")

_OPTION_NAMES = (
    "weight_kg",
    "height_cm",
    "creatinine_umol_l",
    "creatinine_date",
    "reductions",
    "les_codes",
    "diluents",
    "containers",
    "doses",
)


def preview_prescription(
    conn: sqlite3.Connection,
    cure_id: int,
    *,
    settings=None,
    today: date | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Compute the prescription of a cure without writing anything (what ``prescribe`` would save)."""
    unknown = set(options) - set(_OPTION_NAMES)
    if unknown:
        raise TypeError(f"unknown options: {sorted(unknown)}")
    cure = cure_by_id(conn, cure_id)
    return compute_draft(
        conn, cure, settings=_load_settings(settings), on_date=today or clock.today(), **options
    )


def _save(act, cure_id: int, settings, on_date: date, paper: dict | None, options) -> dict:
    conn = act.conn
    actor = act.actor
    cure = cure_by_id(conn, cure_id)
    workflow.require_transition("cure", cure["state"], "prescribed", f"La cure n° {cure_id}")
    transcriber = f"{actor.name} ({actor.initials})" if paper else None
    draft = compute_draft(
        conn,
        cure,
        settings=settings,
        on_date=on_date,
        transcribed=bool(paper),
        transcriber=transcriber,
        **options,
    )
    for kind, value, when in draft["new_measures"]:
        _insert_measure(act, cure["patient_id"], kind, value, when)
    head = draft["head"]
    now = audit.now_iso()
    prescription_id = prescriptions.insert_prescription(
        conn,
        {
            "cure_id": cure_id,
            "patient_id": cure["patient_id"],
            "prescriber_id": None if paper else actor.id,
            "prescriber_name": paper["prescriber_name"] if paper else actor.name,
            "transcribed": int(bool(paper)),
            "transcriber_id": actor.id if paper else None,
            "paper_date": paper["paper_date"] if paper else None,
            "prescribed_at": now,
            **{
                key: head[key]
                for key in (
                    "on_date",
                    "weight_kg",
                    "height_cm",
                    "creatinine_umol_l",
                    "creatinine_date",
                    "age_years",
                    "sex",
                    "bsa_m2",
                    "bsa_formula",
                    "gfr_ml_min",
                    "renal_formula",
                    "rules_json",
                    "snapshot_backup_date",
                )
            },
            "findings_json": json.dumps(draft["findings"], ensure_ascii=False),
            "state": "prescribed",
            "comment": paper.get("comment") if paper else None,
        },
    )
    for line in draft["lines"]:
        prescriptions.insert_line(
            conn, {"prescription_id": prescription_id, "cure_id": cure_id, **line}
        )
    prescriptions.attach_prescription(conn, cure_id, prescription_id, now)
    act.record(
        "prescription",
        prescription_id,
        {"cure": cure_id, "état_cure": cure["state"]},
        {
            "cure": cure_id,
            "cycle": cure["cycle"],
            "protocole": draft["inclusion"]["protocol_name"],
            "patient_id": cure["patient_id"],
            "retranscrite": bool(paper),
            "prescripteur": paper["prescriber_name"] if paper else actor.name,
            "date_papier": paper["paper_date"] if paper else None,
            "poids_kg": head["weight_kg"],
            "taille_cm": head["height_cm"],
            "créatinine": head["creatinine_umol_l"],
            "surface_m2": head["bsa_m2"],
            "lignes": [
                {
                    "ligne": line["line_no"],
                    "jour": line["day"],
                    "molécule": line["molecule_name"],
                    "dose": line["dose"],
                    "calculée": line["computed_dose"],
                    "unité": line["unit"],
                    "réduction_pct": line["reduction_pct"],
                    "code_les": line["les_code"],
                }
                for line in draft["lines"]
            ],
            "alertes": [f["regle"] for f in draft["findings"]],
        },
    )
    draft["prescription_id"] = prescription_id
    return draft


def prescribe(
    conn: sqlite3.Connection,
    actor: Actor,
    cure_id: int,
    *,
    settings=None,
    today: date | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Prescribe a planned (or refused) cure; returns the draft with ``prescription_id``.

    Options: ``weight_kg``, ``height_cm`` (default: latest recorded), ``creatinine_umol_l``,
    ``creatinine_date``, ``reductions`` ``{key: (pct, reason)}``, ``les_codes`` ``{key: code}``,
    ``diluents``, ``containers`` ``{key: name}``, ``doses`` ``{key: mg}``; a key is ``*`` (all
    anticancer lines), a line number or a molecule name. A reduction of 0 cancels a carried one.
    """
    unknown = set(options) - set(_OPTION_NAMES)
    if unknown:
        raise TypeError(f"unknown options: {sorted(unknown)}")
    settings = _load_settings(settings)
    with action(conn, actor, "prescrire", PRESCRIBE_ROLES, "prescrire une cure") as act:
        return _save(act, cure_id, settings, today or clock.today(), None, options)


def transcribe_prescription(
    conn: sqlite3.Connection,
    actor: Actor,
    cure_id: int,
    *,
    prescriber_name: str,
    paper_date: str | date,
    comment: str | None = None,
    settings=None,
    today: date | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Transcribe a signed paper prescription: same computation, doses as written (``doses``),
    marked as transcribed with the transcriber; the physician is named as on the paper."""
    unknown = set(options) - set(_OPTION_NAMES)
    if unknown:
        raise TypeError(f"unknown options: {sorted(unknown)}")
    name = squeeze(prescriber_name)
    if not name:
        raise OncoError(
            "Le nom du prescripteur de l'ordonnance papier est obligatoire", field="prescripteur"
        )
    day = today or clock.today()
    written = parse_date(paper_date, "date de l'ordonnance")
    if written > day:
        raise OncoError(
            f"Date d'ordonnance dans le futur : {written.isoformat()}", field="date de l'ordonnance"
        )
    paper = {"prescriber_name": name, "paper_date": written.isoformat(), "comment": comment}
    settings = _load_settings(settings)
    with action(
        conn, actor, "retranscrire_prescription", TRANSCRIBE_ROLES, "retranscrire une prescription"
    ) as act:
        return _save(act, cure_id, settings, day, paper, options)
