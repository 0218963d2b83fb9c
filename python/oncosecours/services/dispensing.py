"""Dispensing: a released bag is handed to the ward (time, ward, who received it)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.domain.production import fr_datetime, iso, parse_datetime, to_minute
from oncosecours.services.core import Actor, action, optional_text, squeeze
from oncosecours.services.go_ahead import now_or
from oncosecours.services.patients import refuse_deceased
from oncosecours.services.preparation import describe, require_live_cure, require_state, set_state
from oncosecours.store import preparations as store
from oncosecours.store.circuit import patient_by_id
from oncosecours.store.preparations import resolve_preparation

DISPENSE_ROLES = ("pharmacien", "préparateur")


def dispense(
    conn: sqlite3.Connection,
    actor: Actor,
    preparation: object,
    *,
    recipient: str,
    ward: str | None = None,
    at: str | datetime | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record the hand-over of a released bag. ``ward`` defaults to the patient's ward; ``at``
    (default: now) may not be in the future nor before the release."""
    recipient = squeeze(recipient)
    if not recipient:
        raise OncoError("Qui a reçu la préparation ? (nom obligatoire)", field="destinataire")
    comment = optional_text(comment)
    with action(conn, actor, "dispenser", DISPENSE_ROLES, "dispenser une préparation") as act:
        moment = now_or(now)
        prep = resolve_preparation(conn, preparation)
        require_state(prep, "dispensed")
        require_live_cure(conn, prep)
        refuse_deceased(conn, patient_by_id(conn, prep["patient_id"]), "dispensation")
        handed = parse_datetime(at, "heure", day=moment.date(), tz=moment.tzinfo) if at else moment
        ward_name = squeeze(ward or prep["patient_ward"])
        if not ward_name:
            raise OncoError("Le service destinataire est obligatoire", field="service")
        if handed > moment:
            raise OncoError(
                f"Heure de dispensation dans le futur : {fr_datetime(handed)} "
                f"(il est {fr_datetime(moment)})",
                field="heure",
                rule="DISPENSATION_HORAIRE",
            )
        released_at = datetime.fromisoformat(store.release_of(conn, prep["id"])["decided_at"])
        if handed < to_minute(released_at):
            raise OncoError(
                f"Heure de dispensation ({fr_datetime(handed)}) antérieure à la libération "
                f"({fr_datetime(released_at)})",
                field="heure",
                rule="DISPENSATION_HORAIRE",
            )
        use_by = datetime.fromisoformat(prep["use_by"])
        if handed > use_by:
            raise OncoError(
                f"{describe(prep)} a dépassé sa date limite d'utilisation "
                f"({fr_datetime(use_by)}) : elle ne peut pas être dispensée",
                rule="POCHE_PERIMEE",
            )
        recorded = iso(moment)
        store.insert_dispensation(
            conn,
            {
                "preparation_id": prep["id"],
                "dispensed_at": iso(handed),
                "ward": ward_name,
                "recipient": recipient,
                "comment": comment,
                "dispensed_by": actor.id,
                "dispensed_by_initials": actor.initials,
                "recorded_at": recorded,
            },
        )
        set_state(conn, prep, "dispensed", recorded)
        act.record(
            "préparation",
            prep["id"],
            {"état": prep["state"]},
            {
                "état": "dispensed",
                "numéro": prep["ord_number"],
                "heure": iso(handed),
                "service": ward_name,
                "destinataire": recipient,
            },
        )
    return {
        "preparation_id": prep["id"],
        "number": prep["ord_number"],
        "dispensed_at": iso(handed),
        "ward": ward_name,
        "recipient": recipient,
        "dispensed_by": actor.initials,
    }
