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
from oncosecours.store.circuit import cure_by_id, patient_by_id, patient_label, row_dict

GO_AHEAD_ROLES = ("prescripteur",)
DECISION_STATE = {"given": "go_ahead", "withheld": "withheld"}


def now_or(now: datetime | None) -> datetime:
    """The time of an action: ``now`` (tests, replays) or this computer's clock, with its zone."""
    return aware(now) if now is not None else clock.now()


def day_decision(conn: sqlite3.Connection, cure_id: int, admin_date: str) -> dict | None:
    """The go-ahead row in force for a cure on a day (the latest), or None."""
    return row_dict(
        conn.execute(
            "SELECT * FROM go_aheads WHERE cure_id = ? AND admin_date = ? ORDER BY id DESC LIMIT 1",
            (cure_id, admin_date),
        ).fetchone()
    )


def day_state(decision: dict | None) -> str:
    """Per-day cure state: 'validated' (no decision yet), 'go_ahead' or 'withheld'."""
    return "validated" if decision is None else DECISION_STATE[decision["decision"]]


def _cure_days(conn: sqlite3.Connection, prescription_id: int) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT admin_date FROM prescription_lines WHERE prescription_id = ? "
            "ORDER BY admin_date",
            (prescription_id,),
        )
    ]


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
        prescription = row_dict(
            conn.execute(
                "SELECT * FROM prescriptions WHERE id = ?", (cure["prescription_id"],)
            ).fetchone()
        )
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
        cur = conn.execute(
            "INSERT INTO go_aheads (cure_id, prescription_id, admin_date, decision, reason, "
            "decided_by, decided_by_initials, decided_by_name, decided_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cure_id,
                prescription["id"],
                wanted,
                decision,
                reason,
                actor.id,
                actor.initials,
                actor.name,
                at,
            ),
        )
        go_ahead_id = int(cur.lastrowid)
        cure_state = cure["state"]
        # a cure with a go-ahead on one day keeps it when another day is withheld
        if cure_state != "go_ahead" and workflow.allowed("cure", cure_state, target):
            conn.execute(
                "UPDATE cures SET state = ?, updated_at = ? WHERE id = ?", (target, at, cure_id)
            )
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
        bags = conn.execute(
            "SELECT ord_number, state FROM preparations WHERE cure_id = ? AND admin_date = ? "
            "AND state NOT IN ('cancelled', 'rejected') ORDER BY ord_seq",
            (cure_id, wanted),
        ).fetchall()
        if bags:
            listed = ", ".join(f"n° {b[0]} {workflow.label('preparation', b[1])}" for b in bags)
            raise OncoError(
                f"{what} : le feu vert ne peut pas être retiré, {len(bags)} poche(s) existe(nt) "
                f"déjà pour ce jour ({listed}). Annuler d'abord les préparations (pharmacie), "
                "puis retirer le feu vert",
                rule="FEU_VERT_POCHES",
                hint="oncosecours prepare cancel --prep NUMERO --reason MOTIF",
            )
        given = conn.execute(
            "SELECT count(*) FROM administrations a JOIN prescription_lines pl ON pl.id = "
            "a.prescription_line_id WHERE a.cure_id = ? AND pl.admin_date = ?",
            (cure_id, wanted),
        ).fetchone()[0]
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
        cur = conn.execute(
            "INSERT INTO go_aheads (cure_id, prescription_id, admin_date, decision, reason, "
            "decided_by, decided_by_initials, decided_by_name, decided_at, withdraws_id) "
            "VALUES (?, ?, ?, 'withheld', ?, ?, ?, ?, ?, ?)",
            (
                cure_id,
                current["prescription_id"],
                wanted,
                reason,
                actor.id,
                actor.initials,
                actor.name,
                at,
                current["id"],
            ),
        )
        go_ahead_id = int(cur.lastrowid)
        if new_state != cure_state:
            conn.execute(
                "UPDATE cures SET state = ?, updated_at = ? WHERE id = ?",
                (new_state, at, cure_id),
            )
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
    rows = conn.execute(
        "SELECT DISTINCT c.id AS cure_id, c.cycle, c.state, p.id AS patient_id "
        "FROM cures c JOIN prescriptions pr ON pr.id = c.prescription_id "
        "JOIN prescription_lines pl ON pl.prescription_id = pr.id "
        "JOIN patients p ON p.id = c.patient_id "
        "WHERE pr.state = 'validated' AND c.state != 'cancelled' AND pl.admin_date = ? "
        "ORDER BY p.birth_name, p.first_name, c.id",
        (wanted,),
    )
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
