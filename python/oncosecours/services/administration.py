"""Administration of a prescribed line by a nurse: start, end, access, incidents.

A line the pharmacy compounds is administered from its dispensed bag (found by line, or by the
ordonnancier number on the label); it cannot start before the dispensing, and a start after the
bag's use-by time needs a written justification. Supportive lines (premedication, hydration,
rinses) are administered once the day's go-ahead is given. One administration per line, final.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.domain.production import (
    check_administration,
    iso,
    needs_preparation,
    parse_datetime,
    parse_incident,
)
from oncosecours.services.core import Actor, action, optional_text
from oncosecours.services.go_ahead import day_decision, now_or
from oncosecours.services.patients import refuse_deceased
from oncosecours.services.preparation import describe, live_preparation, require_state, set_state
from oncosecours.services.preparation_plan import line_context
from oncosecours.store import preparations as store
from oncosecours.store.preparations import resolve_preparation

ADMINISTER_ROLES = ("infirmier",)


def administer(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    started_at: str | datetime,
    ended_at: str | datetime,
    line_id: int | None = None,
    preparation: object = None,
    incidents=(),
    access: str | None = None,
    justification: str | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record the administration of a line (``line_id``) or of a bag (``preparation``: id or
    ordonnancier number). ``incidents``: ``[{kind: arret|extravasation|reaction, comment}]`` or
    ``"nature:commentaire"`` strings; an ``arret`` marks the administration incomplete."""
    if (line_id is None) == (preparation is None):
        raise OncoError(
            "Désigner soit la ligne, soit la poche (numéro d'ordonnancier)", field="ligne"
        )
    parsed = [parse_incident(raw, i) for i, raw in enumerate(incidents or [])]
    justification = optional_text(justification)
    comment = optional_text(comment)
    access = optional_text(access)
    with action(
        conn, actor, "administrer", ADMINISTER_ROLES, "enregistrer une administration"
    ) as act:
        moment = now_or(now)
        prep = None
        if preparation is not None:
            prep = resolve_preparation(conn, preparation)
            line_id = prep["prescription_line_id"]
        ctx = line_context(conn, line_id)
        line, cure, what = ctx["line"], ctx["cure"], ctx["what"]
        day = datetime.fromisoformat(line["admin_date"]).date()
        start = parse_datetime(started_at, "début", day=day, tz=moment.tzinfo)
        end = parse_datetime(ended_at, "fin", day=day, tz=moment.tzinfo)
        done = store.administration_of_line(conn, line["id"])
        if done is not None:
            raise OncoError(
                f"{what} est déjà administrée (par {done['administered_by_initials']}, début "
                f"{done['started_at']}) : action déjà faite (double clic ?)",
                rule="TRANSITION",
            )
        if cure["state"] == "cancelled":
            raise OncoError(f"{what} : la cure est annulée", rule="CURE_ANNULEE")
        if ctx["prescription"]["state"] != "validated" or (
            cure["prescription_id"] != ctx["prescription"]["id"]
        ):
            raise OncoError(
                f"{what} : prescription non validée ou remplacée", rule="PRESCRIPTION_NON_VALIDEE"
            )
        refuse_deceased(conn, ctx["patient"], "administration")
        dispensed_at = use_by = None
        if needs_preparation(line["line_type"], line["route"], line["molecule_id"]):
            if prep is None:
                prep = live_preparation(conn, line["id"])
            if prep is None:
                raise OncoError(
                    f"{what} n'a pas de poche préparée : rien à administrer",
                    rule="ADMINISTRATION_SANS_POCHE",
                )
            if prep["state"] in ("cancelled", "rejected"):
                raise OncoError(
                    f"{describe(prep)} est annulée ou refusée : elle ne s'administre pas",
                    rule="TRANSITION",
                )
            if prep["state"] != "dispensed":
                raise OncoError(
                    f"{describe(prep)} n'est pas dispensée au service : administration impossible",
                    rule="ADMINISTRATION_AVANT_DISPENSATION",
                )
            require_state(prep, "administered")
            dispensed_at = datetime.fromisoformat(
                store.dispensation_of(conn, prep["id"])["dispensed_at"]
            )
            use_by = datetime.fromisoformat(prep["use_by"])
        else:
            decision = day_decision(conn, cure["id"], line["admin_date"])
            if decision is None or decision["decision"] != "given":
                raise OncoError(
                    f"{what} : pas d'administration sans feu vert du prescripteur",
                    rule="FEU_VERT_ABSENT",
                )
            prep = None
        check = check_administration(
            start,
            end,
            moment,
            dispensed_at=dispensed_at,
            use_by=use_by,
            justification=justification,
        )
        completed = not any(i.kind == "arret" for i in parsed)
        recorded = iso(moment)
        incidents_json = json.dumps([i.as_dict() for i in parsed], ensure_ascii=False)
        administration_id = store.insert_administration(
            conn,
            {
                "prescription_line_id": line["id"],
                "preparation_id": prep["id"] if prep else None,
                "cure_id": cure["id"],
                "patient_id": cure["patient_id"],
                "started_at": iso(start),
                "ended_at": iso(end),
                "access": access,
                "completed": int(completed),
                "incidents_json": incidents_json,
                "late_justification": justification if check.late else None,
                "comment": comment,
                "administered_by": actor.id,
                "administered_by_initials": actor.initials,
                "administered_by_name": actor.name,
                "recorded_at": recorded,
            },
        )
        if prep is not None:
            set_state(conn, prep, "administered", recorded)
        act.record(
            "administration",
            administration_id,
            {"état_poche": prep["state"]} if prep else None,
            {
                "ligne": line["id"],
                "poche": prep["ord_number"] if prep else None,
                "début": iso(start),
                "fin": iso(end),
                "complète": completed,
                "incidents": [i.as_dict() for i in parsed],
                "après_date_limite": check.late,
                "justification": justification if check.late else None,
            },
        )
    return {
        "id": administration_id,
        "line_id": line["id"],
        "preparation_id": prep["id"] if prep else None,
        "number": prep["ord_number"] if prep else None,
        "started_at": iso(start),
        "ended_at": iso(end),
        "completed": completed,
        "incidents": [i.as_dict() for i in parsed],
        "late": check.late,
        "notes": check.notes,
        "administered_by": actor.initials,
    }
