"""The go-ahead ("feu vert", "OK chimio"): on the day, a prescriber confirms the patient can be treated.

A cure (one cycle) may have several days (J1, J8...): the decision is taken per (cure, day) and
kept in ``go_aheads``; the latest row for that day is in force. Per day the states follow the cure
machine of :mod:`oncosecours.domain.workflow`: ``validated -> go_ahead | withheld``,
``withheld -> go_ahead``, and ``go_ahead -> withheld`` only through :func:`withdraw_go_ahead`
(a 'withheld' row pointing to the withdrawn one, while no bag of that day is alive and nothing
was administered that day); anything else (a second go-ahead...) is refused.
The cure's own ``state`` moves to ``go_ahead``/``withheld`` when the workflow allows it.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from oncosecours import clock
from oncosecours.domain import workflow
from oncosecours.domain.errors import OncoError
from oncosecours.domain.identity import parse_date
from oncosecours.domain.production import aware, iso
from oncosecours.services.core import Actor, action, optional_text, squeeze
from oncosecours.services.patients import refuse_deceased
from oncosecours.store import prescriptions
from oncosecours.store.circuit import cure_by_id, patient_by_id, patient_label

GO_AHEAD_ROLES = ("prescripteur",)
DECISION_STATE = {"given": "go_ahead", "withheld": "withheld"}


def now_or(now: datetime | None) -> datetime:
    """The time of an action: ``now`` (tests, replays) or this computer's clock, with its zone."""
    return aware(now) if now is not None else clock.now()


def day_decision(conn: sqlite3.Connection, cure_id: int, admin_date: str) -> dict | None:
    """The go-ahead row in force for a cure on a day (the latest), or None."""
    return prescriptions.day_go_ahead(conn, cure_id, admin_date)


def day_state(decision: dict | None) -> str:
    """Per-day cure state: 'validated' (no decision yet), 'go_ahead' or 'withheld'."""
    return "validated" if decision is None else DECISION_STATE[decision["decision"]]


def _cure_days(conn: sqlite3.Connection, prescription_id: int) -> list[str]:
    return prescriptions.admin_dates(conn, prescription_id)


def _fr_date(iso_date: str) -> str:
    return date.fromisoformat(iso_date).strftime("%d/%m/%Y")


def _decide(
    conn: sqlite3.Connection,
    actor: Actor,
    cure_id: int,
    day: str | date | None,
    decision: str,
    reason: str | None,
    now: datetime | None,
) -> dict[str, Any]:
    moment = now_or(now)
    target_day = parse_date(day, "date") if day else moment.date()
    reason = optional_text(reason)
    if decision == "withheld" and not reason:
        raise OncoError(
            "Le motif du refus de feu vert est obligatoire", field="motif", rule="FEU_VERT_MOTIF"
        )
    name, verb = (
        ("donner_feu_vert", "donner le feu vert")
        if decision == "given"
        else ("refuser_feu_vert", "refuser le feu vert")
    )
    with action(conn, actor, name, GO_AHEAD_ROLES, verb) as act:
        cure = cure_by_id(conn, cure_id)
        patient = patient_by_id(conn, cure["patient_id"])
        what = f"La cure n° {cure_id} (cycle {cure['cycle']}) de {patient_label(patient)}"
        if cure["state"] in ("cancelled", "planned", "prescribed", "refused"):
            raise OncoError(
                f"{what} est « {workflow.label('cure', cure['state'])} » : le feu vert ne se "
                "donne que pour une cure validée par le pharmacien",
                rule="FEU_VERT_CURE_NON_VALIDEE",
            )
        prescription = prescriptions.prescription_or_none(conn, cure["prescription_id"])
        if prescription is None or prescription["state"] != "validated":
            state = prescription["state"] if prescription else "absente"
            raise OncoError(
                f"{what} : prescription {state}, le feu vert ne se donne que pour une cure "
                "validée par le pharmacien",
                rule="FEU_VERT_CURE_NON_VALIDEE",
            )
        if decision == "given":  # withholding stays possible: it blocks
            refuse_deceased(conn, patient, "feu vert")
        days = _cure_days(conn, prescription["id"])
        wanted = target_day.isoformat()
        if wanted not in days:
            raise OncoError(
                f"{what} n'a aucune ligne le {target_day:%d/%m/%Y} (jours de la cure : "
                f"{', '.join(_fr_date(d) for d in days) or 'aucun'})",
                field="date",
                rule="FEU_VERT_JOUR",
            )
        if target_day != moment.date():
            raise OncoError(
                f"Le feu vert se donne le jour même : cure du {target_day:%d/%m/%Y}, "
                f"nous sommes le {moment:%d/%m/%Y}",
                field="date",
                rule="FEU_VERT_JOUR",
            )
        current = day_decision(conn, cure_id, wanted)
        target = DECISION_STATE[decision]
        if decision == "withheld" and day_state(current) == "go_ahead":
            raise OncoError(
                f"{what}, jour du {target_day:%d/%m/%Y}, a déjà le feu vert (donné par "
                f"{current['decided_by_initials']}) : il ne se refuse plus, il se retire",
                rule="TRANSITION",
                hint=f"oncosecours goahead withdraw --cure {cure_id} --date {wanted} "
                "--reason MOTIF",
            )
        workflow.require_transition(
            "cure", day_state(current), target, f"{what}, jour du {target_day:%d/%m/%Y},"
        )
        at = iso(moment)
        go_ahead_id = prescriptions.insert_go_ahead(
            conn,
            {
                "cure_id": cure_id,
                "prescription_id": prescription["id"],
                "admin_date": wanted,
                "decision": decision,
                "reason": reason,
                "decided_by": actor.id,
                "decided_by_initials": actor.initials,
                "decided_by_name": actor.name,
                "decided_at": at,
            },
        )
        cure_state = cure["state"]
        # a cure with a go-ahead on one day keeps it when another day is withheld
        if cure_state != "go_ahead" and workflow.allowed("cure", cure_state, target):
            prescriptions.set_cure_state(conn, cure_id, target, at)
            cure_state = target
        result = {
            "id": go_ahead_id,
            "cure_id": cure_id,
            "prescription_id": prescription["id"],
            "date": wanted,
            "decision": decision,
            "decision_fr": workflow.label("cure", target),
            "reason": reason,
            "decided_by": actor.initials,
            "decided_at": at,
            "cure_state": cure_state,
        }
        act.record(
            "feu_vert",
            go_ahead_id,
            {"cure": cure_id, "date": wanted, "état_jour": day_state(current)},
            {
                "cure": cure_id,
                "date": wanted,
                "décision": decision,
                "motif": reason,
                "état_cure": cure_state,
            },
        )
    return result


def give_go_ahead(
    conn: sqlite3.Connection,
    actor: Actor,
    cure_id: int,
    day: str | date | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A prescriber gives the go-ahead for a validated cure on its day (default: today)."""
    return _decide(conn, actor, cure_id, day, "given", None, now)


def withhold_go_ahead(
    conn: sqlite3.Connection,
    actor: Actor,
    cure_id: int,
    reason: str,
    day: str | date | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A prescriber withholds the go-ahead (reason mandatory); it may be given later that day."""
    return _decide(conn, actor, cure_id, day, "withheld", reason, now)


def withdraw_go_ahead(
    conn: sqlite3.Connection,
    actor: Actor,
    cure_id: int,
    reason: str,
    day: str | date | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A prescriber withdraws the go-ahead given for a day (default: today), with a reason.

    Refused while a bag of that day is alive (anything but cancelled or rejected at release: the
    preparations are cancelled first) or a line of that day was administered. The day goes back
    to 'withheld' (a new go-ahead may be given later); the cure goes back to 'withheld' unless
    another of its days keeps a go-ahead in force.
    """
    moment = now_or(now)
    reason = squeeze(reason)
    if not reason:
        raise OncoError(
            "Le motif du retrait du feu vert est obligatoire", field="motif", rule="FEU_VERT_MOTIF"
        )
    with action(conn, actor, "retirer_feu_vert", GO_AHEAD_ROLES, "retirer le feu vert") as act:
        target_day = parse_date(day, "date") if day else moment.date()
        wanted = target_day.isoformat()
        cure = cure_by_id(conn, cure_id)
        patient = patient_by_id(conn, cure["patient_id"])
        what = (
            f"La cure n° {cure_id} (cycle {cure['cycle']}) de {patient_label(patient)}, "
            f"jour du {target_day:%d/%m/%Y}"
        )
        if cure["state"] == "cancelled":
            raise OncoError(
                f"{what} : cure annulée, il n'y a plus de feu vert à retirer", rule="TRANSITION"
            )
        days = _cure_days(conn, cure["prescription_id"]) if cure["prescription_id"] else []
        if wanted not in days:
            raise OncoError(
                f"{what} : la cure n'a aucune ligne ce jour (jours de la cure : "
                f"{', '.join(_fr_date(d) for d in days) or 'aucun'})",
                field="date",
                rule="FEU_VERT_JOUR",
            )
        current = day_decision(conn, cure_id, wanted)
        if day_state(current) != "go_ahead":
            shown = "aucune décision" if current is None else workflow.label("cure", "withheld")
            raise OncoError(
                f"{what} : pas de feu vert en vigueur ({shown}), rien à retirer",
                field="date",
                rule="TRANSITION",
            )
        bags = prescriptions.live_bags_of_day(conn, cure_id, wanted)
        if bags:
            listed = ", ".join(
                f"n° {b['ord_number']} {workflow.label('preparation', b['state'])}" for b in bags
            )
            raise OncoError(
                f"{what} : le feu vert ne peut pas être retiré, {len(bags)} poche(s) existe(nt) "
                f"déjà pour ce jour ({listed}). Annuler d'abord les préparations (pharmacie), "
                "puis retirer le feu vert",
                rule="FEU_VERT_POCHES",
                hint="oncosecours prepare cancel --prep NUMERO --reason MOTIF",
            )
        given = prescriptions.administered_on_day(conn, cure_id, wanted)
        if given:
            raise OncoError(
                f"{what} : {given} ligne(s) déjà administrée(s) ce jour, le feu vert ne peut "
                "plus être retiré",
                rule="FEU_VERT_POCHES",
            )
        others = [
            d
            for d in _cure_days(conn, current["prescription_id"])
            if d != wanted and day_state(day_decision(conn, cure_id, d)) == "go_ahead"
        ]
        cure_state = cure["state"]
        new_state = "go_ahead" if others else "withheld"
        if new_state != cure_state:
            workflow.require_transition("cure", cure_state, new_state, f"La cure n° {cure_id}")
        at = iso(moment)
        go_ahead_id = prescriptions.insert_go_ahead(
            conn,
            {
                "cure_id": cure_id,
                "prescription_id": current["prescription_id"],
                "admin_date": wanted,
                "decision": "withheld",
                "reason": reason,
                "decided_by": actor.id,
                "decided_by_initials": actor.initials,
                "decided_by_name": actor.name,
                "decided_at": at,
                "withdraws_id": current["id"],
            },
        )
        if new_state != cure_state:
            prescriptions.set_cure_state(conn, cure_id, new_state, at)
        act.record(
            "feu_vert",
            go_ahead_id,
            {
                "cure": cure_id,
                "date": wanted,
                "état_jour": "go_ahead",
                "feu_vert": current["id"],
                "état_cure": cure_state,
            },
            {
                "cure": cure_id,
                "date": wanted,
                "décision": "withheld",
                "retrait_de": current["id"],
                "motif": reason,
                "état_cure": new_state,
            },
        )
    return {
        "id": go_ahead_id,
        "cure_id": cure_id,
        "prescription_id": current["prescription_id"],
        "date": wanted,
        "decision": "withheld",
        "decision_fr": "feu vert retiré",
        "withdraws_id": current["id"],
        "reason": reason,
        "decided_by": actor.initials,
        "decided_at": at,
        "cure_state": new_state,
    }


def waiting_cures(conn: sqlite3.Connection, day: str | date) -> list[dict[str, Any]]:
    """Validated cures with lines on ``day`` and no go-ahead given yet (withheld ones included)."""
    wanted = parse_date(day, "date").isoformat()
    rows = prescriptions.awaiting_go_ahead(conn, wanted)
    out = []
    for row in rows:
        decision = day_decision(conn, row["cure_id"], wanted)
        if day_state(decision) != "go_ahead":
            out.append(
                {
                    "cure_id": row["cure_id"],
                    "cycle": row["cycle"],
                    "patient": patient_label(patient_by_id(conn, row["patient_id"])),
                    "state": day_state(decision),
                    "reason": decision["reason"] if decision else None,
                    "withdrawn": bool(decision and decision.get("withdraws_id")),
                }
            )
    return out
