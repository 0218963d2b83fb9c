"""The day's view: every cure and line of a day, its state, who did each step and when, what blocks it.

:func:`day_status` is a pure read (no pandas, a handful of queries) used by ``oncosecours status``
and by the workbook's sheets. One dict per line of the day; a planned cure that is not prescribed
yet shows the lines of its protocol for that day.

States (``state``; French in ``state_fr``): planned, prescribed, refused, validated (waiting for
the go-ahead), withheld, go_ahead (to prepare, or to administer for a supportive line), prepared,
controlled, released, dispensed, administered, cancelled. ``blocking`` says in French what the
line waits for (None when administered or cancelled).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any

from oncosecours import clock
from oncosecours.domain.identity import parse_date
from oncosecours.domain.production import fr_datetime, needs_preparation
from oncosecours.domain.workflow import DAY_STATES_FR
from oncosecours.store import day_view
from oncosecours.store.circuit import inclusion_lines

STATES_FR = DAY_STATES_FR


def _patient_name(row: dict) -> str:
    usual = f" ({row['usual_name']})" if row.get("usual_name") else ""
    return f"{row['birth_name'].upper()}{usual} {row['first_name']}"


def day_status(
    conn: sqlite3.Connection, day: str | date, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every line of ``day`` with its state, steps and blocking reason (see module docstring)."""
    wanted = parse_date(day, "date")
    iso_day = wanted.isoformat()
    moment = now or clock.now()
    rows: list[dict[str, Any]] = []

    # 1. prescribed cures: the lines of their current prescription on that day
    lines = day_view.prescribed_lines(conn, iso_day)
    records = day_view.line_records(conn, iso_day, lines)
    validations, go_aheads = records["validations"], records["go_aheads"]
    preparations, administrations = records["preparations"], records["administrations"]
    controls, releases = records["controls"], records["releases"]
    dispensations, lot_counts = records["dispensations"], records["lot_counts"]
    for line in lines:
        rows.append(
            _line_row(
                line,
                validations.get(line["prescription_id"]),
                go_aheads.get(line["cure_id"]),
                preparations.get(line["id"], []),
                controls,
                releases,
                dispensations,
                lot_counts,
                administrations.get(line["id"]),
                moment,
            )
        )

    # 2. cures not prescribed yet: the protocol's lines falling on that day
    for cure in day_view.unprescribed_cures(
        conn, iso_day, (wanted - timedelta(days=400)).isoformat()
    ):
        n = (wanted - date.fromisoformat(cure["planned_date"])).days + 1
        for il in inclusion_lines(conn, cure["inclusion_id"]):
            if n not in json.loads(il["days_json"]):
                continue
            state = "cancelled" if cure["state"] == "cancelled" else "planned"
            rows.append(
                {
                    **_common(cure, cure["id"], n, iso_day),
                    "line_id": None,
                    "inclusion_line_id": il["id"],
                    "line_no": il["line_no"],
                    "molecule": il["molecule_name"],
                    "dose": il["dose"],
                    "unit": il["unit"],
                    "route": il["route"],
                    "line_type": il["line_type"],
                    "time_offset_min": il["time_offset_min"],
                    "needs_preparation": needs_preparation(
                        il["line_type"], il["route"], il["molecule_id"]
                    ),
                    "state": state,
                    "state_fr": STATES_FR[state],
                    "blocking": None if state == "cancelled" else "à prescrire",
                    "steps": _cure_cancel_step(
                        cure["cancelled_by_initials"], cure["cancelled_at"], cure["cancel_reason"]
                    )
                    if state == "cancelled"
                    else {},
                    "preparation_id": None,
                    "number": None,
                    "use_by": None,
                    "flags": [],
                }
            )
    rows.sort(
        key=lambda r: (
            r["patient_name"].lower(),
            r["birth_date"],
            r["cure_id"],
            r["time_offset_min"] if r["time_offset_min"] is not None else 0,
            r["line_no"],
        )
    )
    return rows


def _common(src: dict, cure_id: int, day_no: int, iso_day: str) -> dict[str, Any]:
    return {
        "date": iso_day,
        "cure_id": cure_id,
        "cycle": src["cycle"],
        "day": day_no,
        "protocol": src["protocol_name"],
        "patient_id": src["patient_id"] if "patient_id" in src else None,
        "ipp": src["ipp"],
        "patient_name": _patient_name(src),
        "birth_date": src["birth_date"],
        "ward": src["ward"],
    }


def _step(by: str | None, at: str | None, **extra) -> dict[str, Any]:
    return {"by": by, "at": at, **extra}


def _cure_cancel_step(by: str | None, at: str | None, reason: str | None) -> dict[str, Any]:
    """``{"cure_cancelled": step}`` when the cure was cancelled by the service (else empty)."""
    return {"cure_cancelled": _step(by, at, reason=reason)} if at else {}


def _line_row(
    line: dict,
    validation: dict | None,
    go_ahead: dict | None,
    preps: list[dict],
    controls: dict,
    releases: dict,
    dispensations: dict,
    lot_counts: dict,
    administration: dict | None,
    moment: datetime,
) -> dict[str, Any]:
    steps: dict[str, Any] = {
        "prescribed": _step(
            line["prescriber_name"], line["prescribed_at"], transcribed=bool(line["transcribed"])
        )
    }
    if validation:
        steps["validated"] = _step(
            validation["by_initials"],
            validation["decided_at"],
            decision=validation["decision"],
            comment=validation["comment"],
        )
    if go_ahead:
        steps["go_ahead"] = _step(
            go_ahead["decided_by_initials"],
            go_ahead["decided_at"],
            decision=go_ahead["decision"],
            reason=go_ahead["reason"],
            withdrawn=bool(go_ahead.get("withdraws_id")),
        )
    prepare = needs_preparation(line["line_type"], line["route"], line["molecule_id"])
    live = next((p for p in preps if p["state"] not in ("cancelled", "rejected")), None)
    dead = [p for p in preps if p["state"] in ("cancelled", "rejected")]
    prep = live or (preps[-1] if preps else None)
    flags: list[str] = []
    if prep:
        steps["prepared"] = _step(
            prep["prepared_by_initials"], prep["prepared_at"], number=prep["ord_number"]
        )
        control = controls.get(prep["id"])
        if control:
            steps["controlled"] = _step(
                control["controlled_by_initials"],
                control["controlled_at"],
                measured_weight_g=control["measured_weight_g"],
                in_tolerance=bool(control["in_tolerance"]),
                visual_ok=bool(control["visual_ok"]),
                double_checker=control["double_checker_initials"],
            )
            if not control["in_tolerance"]:
                flags.append("poids hors tolérance")
            if not control["visual_ok"]:
                flags.append("contrôle visuel non conforme")
            if not control["double_checker_initials"]:
                flags.append("sans double contrôle")
        release = releases.get(prep["id"])
        if release:
            steps["released"] = _step(
                release["pharmacist_initials"],
                release["decided_at"],
                decision=release["decision"],
                justification=release["justification"],
                comment=release["comment"],
            )
        dispensation = dispensations.get(prep["id"])
        if dispensation:
            steps["dispensed"] = _step(
                dispensation["dispensed_by_initials"],
                dispensation["dispensed_at"],
                ward=dispensation["ward"],
                recipient=dispensation["recipient"],
            )
        if prep["state"] == "cancelled":
            steps["cancelled"] = _step(
                prep["cancelled_by_initials"], prep["cancelled_at"], reason=prep["cancel_reason"]
            )
    if administration:
        steps["administered"] = _step(
            administration["administered_by_initials"],
            administration["started_at"],
            ended_at=administration["ended_at"],
            completed=bool(administration["completed"]),
            incidents=json.loads(administration["incidents_json"]),
        )
        if not administration["completed"]:
            flags.append("administration interrompue")
    state, blocking = _state(line, go_ahead, prepare, live, dead, lot_counts, administration)
    if line["cure_state"] == "cancelled":
        steps.update(
            _cure_cancel_step(
                line["cure_cancelled_by"], line["cure_cancelled_at"], line["cure_cancel_reason"]
            )
        )
    if state == "cancelled" and live and live["state"] in ("prepared", "controlled", "released"):
        blocking = f"cure annulée : poche n° {live['ord_number']} à annuler"
    elif state == "cancelled" and live and live["state"] == "dispensed":
        blocking = (
            f"cure annulée : poche n° {live['ord_number']} dispensée, à ne pas administrer "
            "(retour à la pharmacie)"
        )
    if live and state in ("prepared", "controlled", "released", "dispensed"):
        use_by = datetime.fromisoformat(live["use_by"])
        if moment > use_by:
            flags.append(f"date limite dépassée ({fr_datetime(use_by)})")
    return {
        **_common(line, line["cure_id"], line["day"], line["admin_date"]),
        "line_id": line["id"],
        "inclusion_line_id": line["inclusion_line_id"],
        "line_no": line["line_no"],
        "molecule": line["molecule_name"],
        "dose": line["dose"],
        "unit": line["unit"],
        "route": line["route"],
        "line_type": line["line_type"],
        "time_offset_min": line["time_offset_min"],
        "needs_preparation": prepare,
        "state": state,
        "state_fr": STATES_FR[state],
        "blocking": blocking,
        "steps": steps,
        "preparation_id": prep["id"] if prep else None,
        "number": prep["ord_number"] if prep else None,
        "use_by": live["use_by"] if live else None,
        "flags": flags,
    }


def _state(line, go_ahead, prepare, live, dead, lot_counts, administration):
    if line["cure_state"] == "cancelled":
        # what was given before the cure was cancelled stays administered
        return ("administered", None) if administration else ("cancelled", None)
    status = line["prescription_state"]
    if status == "prescribed":
        return "prescribed", "attend la validation pharmaceutique"
    if status == "refused":
        return "refused", "prescription refusée par le pharmacien : à represcrire"
    if administration:
        return "administered", None
    if go_ahead is None:
        return "validated", "attend le feu vert du prescripteur"
    if go_ahead["decision"] == "withheld":
        if go_ahead.get("withdraws_id"):
            return "withheld", (
                f"feu vert retiré par {go_ahead['decided_by_initials']} : {go_ahead['reason']} "
                "(à redonner le jour du traitement, ou cure à reporter)"
            )
        return "withheld", f"feu vert refusé : {go_ahead['reason']}"
    if not prepare:
        return "go_ahead", "à administrer"
    if live is None:
        redo = ""
        if dead:
            last = dead[-1]
            what = "annulée" if last["state"] == "cancelled" else "refusée à la libération"
            redo = f" (préparation n° {last['ord_number']} {what} : à refaire)"
        return "go_ahead", "à préparer" + redo
    if live["state"] == "prepared":
        if not lot_counts.get(live["id"]):
            return "prepared", "lots à saisir, puis contrôle"
        return "prepared", "attend le contrôle"
    if live["state"] == "controlled":
        return "controlled", "attend la libération pharmaceutique"
    if live["state"] == "released":
        return "released", "à dispenser au service"
    if live["state"] == "dispensed":
        return "dispensed", "à administrer"
    return "administered", None
