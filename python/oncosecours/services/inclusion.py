"""Inclusion of a patient in a protocol of the snapshot, planned cures, postponements."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from oncosecours import clock
from oncosecours.domain import schedule
from oncosecours.domain.errors import OncoError
from oncosecours.domain.identity import fold, parse_date
from oncosecours.services.core import Actor, action, required_reason, squeeze
from oncosecours.store import audit, prescriptions, reference
from oncosecours.store.circuit import (
    cure_by_id,
    inclusion_by_id,
    inclusion_lines,
    molecule,
    patient_label,
    product,
    resolve_patient,
    snapshot_meta,
)

INCLUDE_ROLES = ("prescripteur",)
POSTPONE_ROLES = ("prescripteur",)
_FIXED_STATES = {"go_ahead", "cancelled"}


def find_protocol(conn: sqlite3.Connection, protocol: object) -> dict[str, Any]:
    """A snapshot protocol by number, or by name (folded; a unique partial match is accepted)."""
    text = str(protocol or "").strip()
    if not reference.has_protocols(conn):
        raise OncoError(
            "Aucun protocole chargé : la sauvegarde Chimio n'a pas été importée",
            field="protocole",
            rule="PROTOCOLE_INCONNU",
            hint="Lancer « oncosecours refresh » sur le dossier des sauvegardes",
        )
    if text.isdigit():
        found = reference.protocol_by_id(conn, int(text))
        if found:
            return found
    wanted = fold(text)
    rows = reference.all_protocols(conn)
    exact = [r for r in rows if fold(r["name"]) == wanted]
    if len(exact) == 1:
        return exact[0]
    partial = [r for r in rows if wanted and wanted in fold(r["name"])] if not exact else exact
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        names = "; ".join(f"{r['protocol_id']} « {r['name']} »" for r in partial[:10])
        raise OncoError(
            f"Protocole ambigu : « {text} » désigne plusieurs protocoles ({names})",
            field="protocole",
            rule="PROTOCOLE_AMBIGU",
            hint="Donner le numéro du protocole",
        )
    raise OncoError(
        f"Protocole inconnu : « {text} »",
        field="protocole",
        rule="PROTOCOLE_INCONNU",
        hint="Liste des protocoles : « oncosecours include protocols »",
    )


def _line_name(conn: sqlite3.Connection, line: dict[str, Any]) -> str:
    if line.get("molecule_id") is not None:
        found = molecule(conn, line["molecule_id"])
        if found:
            return found["name"]
    if line.get("product_id") is not None:
        found = product(conn, line["product_id"])
        if found:
            return found["name"]
    comment = squeeze(line.get("comment"))
    suffix = f" — {comment[:40]}" if comment else ""
    return f"Produit {line.get('product_id') or '?'}{suffix}"


def _line_days(line: dict[str, Any]) -> list[int]:
    try:
        days = json.loads(line.get("days_json") or "[]")
    except ValueError:
        days = []
    if days:
        return schedule.check_days(days)
    return schedule.days_from_mask(line.get("day_mask") or "")


def protocol_lines(conn: sqlite3.Connection, protocol_id: int) -> list[dict[str, Any]]:
    """The protocol's lines, with their name and days, in protocol order."""
    lines = []
    for line in reference.protocol_lines(conn, protocol_id):
        line["name"] = _line_name(conn, line)
        line["days"] = _line_days(line)
        lines.append(line)
    return lines


def include_patient(
    conn: sqlite3.Connection,
    actor: Actor,
    patient: object,
    protocol: object,
    start_date: str | date,
    *,
    cycles: int | None = None,
    first_cycle: int = 1,
    today: date | None = None,
) -> dict[str, Any]:
    """Include a patient in a protocol; plans one cure per cycle from ``first_cycle``.

    ``start_date`` is J1 of ``first_cycle`` (``first_cycle`` > 1 continues a treatment begun in
    Chimio). ``cycles`` is the total number of cycles (protocol default, bounded by its maximum).
    Returns the inclusion with its cures.
    """
    start = parse_date(start_date, "date de début")
    day = today or clock.today()
    if abs((start - day).days) > 366:
        raise OncoError(
            f"Date de début invraisemblable : {start.isoformat()} (plus d'un an d'écart)",
            field="date de début",
        )
    if first_cycle < 1:
        raise OncoError(f"Premier cycle impossible : {first_cycle}", field="premier cycle")
    with action(conn, actor, "inclure_patient", INCLUDE_ROLES, "inclure un patient") as act:
        person = resolve_patient(conn, patient)
        from oncosecours.services.patients import refuse_deceased

        refuse_deceased(conn, person, "inclusion dans un protocole")
        proto = find_protocol(conn, protocol)
        total = schedule.choose_cycles(cycles, proto["default_cycles"], proto["max_cycles"])
        if first_cycle > total:
            raise OncoError(
                f"Premier cycle {first_cycle} au-delà du nombre de cycles ({total})",
                field="premier cycle",
            )
        lines = protocol_lines(conn, proto["protocol_id"])
        if not lines:
            raise OncoError(
                f"Le protocole « {proto['name']} » n'a aucune ligne dans la sauvegarde",
                field="protocole",
                rule="PROTOCOLE_VIDE",
            )
        twin = prescriptions.active_twin(
            conn, person["id"], proto["protocol_id"], start.isoformat()
        )
        if twin is not None:
            raise OncoError(
                f"{patient_label(person)} est déjà inclus(e) dans « {proto['name']} » à partir du "
                f"{start.isoformat()} (inclusion n° {twin}) : action déjà faite (double clic ?)",
                rule="DEJA_FAIT",
            )
        meta = snapshot_meta(conn)
        inclusion_id = prescriptions.insert_inclusion(
            conn,
            {
                "patient_id": person["id"],
                "protocol_id": proto["protocol_id"],
                "protocol_name": proto["name"],
                "cycle_days": proto["cycle_days"],
                "start_date": start.isoformat(),
                "cycles": total,
                "max_cycles": proto["max_cycles"] or None,
                "snapshot_backup_date": meta["backup_date"] if meta else None,
                "created_at": audit.now_iso(),
                "created_by": actor.id,
            },
        )
        for number, line in enumerate(lines, start=1):
            prescriptions.insert_inclusion_line(
                conn,
                {
                    "inclusion_id": inclusion_id,
                    "line_no": number,
                    "ref_line_id": line["line_id"],
                    "molecule_id": line["molecule_id"],
                    "molecule_name": line["name"],
                    "product_id": line["product_id"],
                    "line_type": line["line_type"],
                    "dose": line["dose"],
                    "unit": line["unit"],
                    "route": line["route"],
                    "duration_min": line["duration_min"],
                    "comment": line["comment"],
                    "days_json": json.dumps(line["days"]),
                    "time_offset_min": line["time_offset_min"],
                    "max_dose": line["max_dose"] or None,
                    "volume_ml": line["volume_ml"] or None,
                },
            )
        dates = schedule.plan_cures(start, proto["cycle_days"], total - first_cycle + 1)
        cures = []
        for offset, j1 in enumerate(dates):
            cycle = first_cycle + offset
            cure_id = prescriptions.insert_cure(
                conn,
                {
                    "inclusion_id": inclusion_id,
                    "patient_id": person["id"],
                    "cycle": cycle,
                    "planned_date": j1.isoformat(),
                    "initial_date": j1.isoformat(),
                    "state": "planned",
                },
            )
            cures.append({"id": cure_id, "cycle": cycle, "date": j1.isoformat()})
        act.record(
            "inclusion",
            inclusion_id,
            None,
            {
                "patient_id": person["id"],
                "protocole": proto["name"],
                "protocol_id": proto["protocol_id"],
                "début": start.isoformat(),
                "cycles": total,
                "premier_cycle": first_cycle,
                "lignes": len(lines),
                "cures": cures,
            },
        )
    return inclusion_detail(conn, inclusion_id)


def inclusion_detail(conn: sqlite3.Connection, inclusion_id: int) -> dict[str, Any]:
    inclusion = inclusion_by_id(conn, inclusion_id)
    inclusion["cures"] = prescriptions.cures_of_inclusion(conn, inclusion_id)
    inclusion["lines"] = inclusion_lines(conn, inclusion_id)
    days = sorted({d for line in inclusion["lines"] for d in json.loads(line["days_json"])})
    for cure in inclusion["cures"]:
        j1 = date.fromisoformat(cure["planned_date"])
        cure["days"] = [
            {"jour": day, "date": when.isoformat()}
            for day, when in schedule.administration_dates(j1, days)
        ]
    return inclusion


def postpone_cure(
    conn: sqlite3.Connection,
    actor: Actor,
    cure_id: int,
    new_date: str | date,
    reason: str,
) -> dict[str, Any]:
    """Move a cure to a later J1 (with a reason); later cures of the inclusion follow."""
    target = parse_date(new_date, "nouvelle date")
    reason = required_reason(reason, "du report")
    with action(conn, actor, "reporter_cure", POSTPONE_ROLES, "reporter une cure") as act:
        cure = cure_by_id(conn, cure_id)
        if cure["state"] in _FIXED_STATES:
            from oncosecours.domain.workflow import label

            raise OncoError(
                f"La cure n° {cure_id} est « {label('cure', cure['state'])} » : "
                "sa date ne peut plus changer",
                rule="REPORT",
            )
        rows = prescriptions.cures_of_inclusion(conn, cure["inclusion_id"], with_cancelled=False)
        shifts = schedule.postpone(
            [(r["cycle"], date.fromisoformat(r["planned_date"])) for r in rows],
            cure["cycle"],
            target,
            [r["cycle"] for r in rows if r["state"] not in _FIXED_STATES],
        )
        by_cycle = {r["cycle"]: r for r in rows}
        now = audit.now_iso()
        moved = []
        for shift in shifts:
            row = by_cycle[shift.cycle]
            delta = (shift.after - shift.before).days
            prescriptions.move_cure(
                conn,
                row["id"],
                shift.after.isoformat(),
                delta,
                now,
                reason=reason if row["id"] == cure_id else None,
            )
            moved.append(
                {
                    "cure": row["id"],
                    "cycle": shift.cycle,
                    "avant": shift.before.isoformat(),
                    "après": shift.after.isoformat(),
                }
            )
        act.record(
            "cure",
            cure_id,
            {"date": cure["planned_date"]},
            {"date": target.isoformat(), "motif": reason, "cures_décalées": moved},
        )
    return {"cure_id": cure_id, "reason": reason, "moved": moved}
