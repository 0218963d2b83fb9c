"""Cancelling a cure, stopping an inclusion: one transaction, a reason, the bags taken care of.

A cure is cancelled from any state but ``cancelled`` (planned, prescribed, refused, validated,
withheld, go_ahead: :mod:`oncosecours.domain.workflow`), by a prescriber or a pharmacist, with a
reason. In the same transaction, its bags (preparations) are handled as
:func:`oncosecours.services.preparation.cancel_preparation` would:

* prepared or controlled bags are cancelled (they keep their ordonnancier number, marked
  cancelled, reason ``cure annulée : <motif>``);
* a released bag is cancelled only when a pharmacist cancels the cure; when a prescriber does,
  it is listed "to cancel by a pharmacist" (it can go no further: dispensing and administration
  refuse a bag of a cancelled cure, and the day's view says it is to cancel);
* a dispensed bag cannot be cancelled (the register keeps it dispensed): it is flagged for return
  to the pharmacy (listed in the result and the audit event; the day's view says "à ne pas
  administrer, retour à la pharmacie"; administration refuses it).

What was administered stays administered and still counts in the validation checks (cumulative
doses, protocol maximum, interval since the previous cure). A cure whose every line was
administered has nothing left to cancel: refused (``CURE_ADMINISTREE``).

Stopping an inclusion cancels each of its remaining cures (the same way, reason
``arrêt du protocole : <motif>``), keeps the cures already fully administered, and marks the
inclusion stopped (no further prescription). Audit: one event per entity changed (each bag, each
cure, the inclusion), all in the one transaction.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from oncosecours.domain import workflow
from oncosecours.domain.errors import OncoError
from oncosecours.domain.production import iso
from oncosecours.services.core import Action, Actor, action, required_reason
from oncosecours.services.go_ahead import now_or
from oncosecours.services.preparation import cancel_bag
from oncosecours.store import preparations, prescriptions
from oncosecours.store.circuit import cure_by_id, inclusion_by_id, patient_by_id, patient_label
from oncosecours.store.rows import Signed

CANCEL_ROLES = ("prescripteur", "pharmacien")
STOP_ROLES = ("prescripteur", "pharmacien")
_LIVE_BAGS = ("prepared", "controlled", "released", "dispensed")


def _administered(conn: sqlite3.Connection, cure: dict[str, Any]) -> tuple[int, int]:
    """(lines of the current prescription, lines of it administered)."""
    if cure["prescription_id"] is None:
        return 0, 0
    return prescriptions.administered_count(conn, cure["prescription_id"])


def _fully_administered(conn: sqlite3.Connection, cure: dict[str, Any]) -> bool:
    lines, given = _administered(conn, cure)
    return lines > 0 and given == lines


def _cancel_cure(act: Action, cure: dict[str, Any], reason: str, at: str) -> dict[str, Any]:
    """Cancel one cure and its bags inside the open action (see the module docstring)."""
    conn, actor = act.conn, act.actor
    patient = patient_by_id(conn, cure["patient_id"])
    what = f"La cure n° {cure['id']} (cycle {cure['cycle']}) de {patient_label(patient)}"
    if cure["state"] != "cancelled" and _fully_administered(conn, cure):
        raise OncoError(
            f"{what} est entièrement administrée : rien à annuler", rule="CURE_ADMINISTREE"
        )
    workflow.require_transition("cure", cure["state"], "cancelled", what)
    lines, given = _administered(conn, cure)
    bag_reason = f"cure annulée : {reason}"
    cancelled, left, to_return = [], [], []
    for bag in preparations.of_cure(conn, cure["id"], _LIVE_BAGS):
        item = {"id": bag["id"], "number": bag["ord_number"], "state": bag["state"]}
        if bag["state"] == "dispensed":
            to_return.append(item)
            continue
        if bag["state"] == "released" and actor.role != "pharmacien":
            left.append(item)
            continue
        cancel_bag(act, bag, bag_reason, at)
        cancelled.append(item)
    prescriptions.mark_cure_cancelled(
        conn, cure["id"], Signed(actor.id, actor.initials, reason, at)
    )
    act.record(
        "cure",
        cure["id"],
        {"état": cure["state"]},
        {
            "état": "cancelled",
            "motif": reason,
            "poches_annulées": [b["number"] for b in cancelled],
            "poches_libérées_à_annuler_par_un_pharmacien": [b["number"] for b in left],
            "poches_dispensées_à_retourner": [b["number"] for b in to_return],
            "lignes_administrées": given,
        },
    )
    return {
        "cure_id": cure["id"],
        "cycle": cure["cycle"],
        "patient": patient_label(patient),
        "previous_state": cure["state"],
        "state": "cancelled",
        "reason": reason,
        "cancelled_by": actor.initials,
        "cancelled_at": at,
        "cancelled_bags": cancelled,
        "released_bags_left": left,
        "bags_to_return": to_return,
        "lines": lines,
        "administered_lines": given,
    }


def cancel_cure(
    conn: sqlite3.Connection,
    actor: Actor,
    cure_id: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Cancel a cure with a reason (prescriber or pharmacist); its bags are handled in the same
    transaction (see the module docstring). Returns what was done, bag by bag."""
    reason = required_reason(reason, "de l'annulation")
    with action(conn, actor, "annuler_cure", CANCEL_ROLES, "annuler une cure") as act:
        at = iso(now_or(now))
        cure = cure_by_id(conn, cure_id)
        return _cancel_cure(act, cure, reason, at)


def stop_inclusion(
    conn: sqlite3.Connection,
    actor: Actor,
    inclusion_id: int,
    reason: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Stop an inclusion with a reason: every remaining cure is cancelled (as
    :func:`cancel_cure`), fully administered cures are kept, the inclusion is marked stopped."""
    reason = required_reason(reason, "de l'arrêt")
    with action(conn, actor, "arrêter_inclusion", STOP_ROLES, "arrêter une inclusion") as act:
        at = iso(now_or(now))
        inclusion = inclusion_by_id(conn, inclusion_id)
        if inclusion["state"] != "active":
            raise OncoError(
                f"L'inclusion n° {inclusion_id} ({inclusion['protocol_name']}) est déjà "
                "arrêtée : action déjà faite (double clic ?)",
                rule="TRANSITION",
            )
        cures = [
            cure_by_id(conn, i) for i in prescriptions.cure_ids_of_inclusion(conn, inclusion_id)
        ]
        cancelled, kept = [], []
        cure_reason = f"arrêt du protocole : {reason}"
        for cure in cures:
            if cure["state"] == "cancelled":
                continue
            if _fully_administered(conn, cure):
                kept.append({"cure_id": cure["id"], "cycle": cure["cycle"], "state": cure["state"]})
                continue
            cancelled.append(_cancel_cure(act, cure, cure_reason, at))
        prescriptions.mark_inclusion_stopped(
            conn, inclusion_id, Signed(actor.id, actor.initials, reason, at)
        )
        act.record(
            "inclusion",
            inclusion_id,
            {"état": "active"},
            {
                "état": "stopped",
                "motif": reason,
                "cures_annulées": [c["cure_id"] for c in cancelled],
                "cures_administrées_conservées": [c["cure_id"] for c in kept],
            },
        )
    return {
        "inclusion_id": inclusion_id,
        "protocol": inclusion["protocol_name"],
        "state": "stopped",
        "reason": reason,
        "stopped_by": actor.initials,
        "stopped_at": at,
        "cancelled_cures": cancelled,
        "kept_cures": kept,
    }
