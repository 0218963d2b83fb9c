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
from oncosecours.store import audit
from oncosecours.store.circuit import (
    cure_by_id,
    inclusion_by_id,
    patient_label,
    resolve_patient,
    row_dict,
    snapshot_meta,
)

INCLUDE_ROLES = ("prescripteur",)
POSTPONE_ROLES = ("prescripteur",)
_FIXED_STATES = {"go_ahead", "cancelled"}


def find_protocol(conn: sqlite3.Connection, protocol: object) -> dict[str, Any]:
    """A snapshot protocol by number, or by name (folded; a unique partial match is accepted)."""
    text = str(protocol or "").strip()
    if not conn.execute("SELECT 1 FROM ref_protocols LIMIT 1").fetchone():
        raise OncoError(
            "Aucun protocole chargé : la sauvegarde Chimio n'a pas été importée",
            field="protocole",
            rule="PROTOCOLE_INCONNU",
            hint="Lancer « oncosecours refresh » sur le dossier des sauvegardes",
        )
    if text.isdigit():
        row = conn.execute("SELECT * FROM ref_protocols WHERE protocol_id = ?", (int(text),))
        found = row_dict(row.fetchone())
        if found:
            return found
    wanted = fold(text)
    rows = [dict(r) for r in conn.execute("SELECT * FROM ref_protocols ORDER BY name")]
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
        row = conn.execute(
            "SELECT name FROM ref_molecules WHERE molecule_id = ?", (line["molecule_id"],)
        ).fetchone()
        if row:
            return row[0]
    if line.get("product_id") is not None:
        row = conn.execute(
            "SELECT name FROM ref_products WHERE product_id = ?", (line["product_id"],)
        ).fetchone()
        if row:
            return row[0]
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
    for row in conn.execute(
        "SELECT * FROM ref_protocol_lines WHERE protocol_id = ? "
        "ORDER BY coalesce(time_offset_min, 0), line_id",
        (protocol_id,),
    ):
        line = dict(row)
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
        twin = conn.execute(
            "SELECT id FROM inclusions WHERE patient_id = ? AND protocol_id = ? AND "
            "start_date = ? AND state = 'active'",
            (person["id"], proto["protocol_id"], start.isoformat()),
        ).fetchone()
        if twin:
            raise OncoError(
                f"{patient_label(person)} est déjà inclus(e) dans « {proto['name']} » à partir du "
                f"{start.isoformat()} (inclusion n° {twin[0]}) : action déjà faite (double clic ?)",
                rule="DEJA_FAIT",
            )
        meta = snapshot_meta(conn)
        cur = conn.execute(
            "INSERT INTO inclusions (patient_id, protocol_id, protocol_name, cycle_days, "
            "start_date, cycles, max_cycles, snapshot_backup_date, created_at, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                person["id"],
                proto["protocol_id"],
                proto["name"],
                proto["cycle_days"],
                start.isoformat(),
                total,
                proto["max_cycles"] or None,
                meta["backup_date"] if meta else None,
                audit.now_iso(),
                actor.id,
            ),
        )
        inclusion_id = int(cur.lastrowid)
        for number, line in enumerate(lines, start=1):
            conn.execute(
                "INSERT INTO inclusion_lines (inclusion_id, line_no, ref_line_id, molecule_id, "
                "molecule_name, product_id, line_type, dose, unit, route, duration_min, comment, "
                "days_json, time_offset_min, max_dose, volume_ml) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    inclusion_id,
                    number,
                    line["line_id"],
                    line["molecule_id"],
                    line["name"],
                    line["product_id"],
                    line["line_type"],
                    line["dose"],
                    line["unit"],
                    line["route"],
                    line["duration_min"],
                    line["comment"],
                    json.dumps(line["days"]),
                    line["time_offset_min"],
                    line["max_dose"] or None,
                    line["volume_ml"] or None,
                ),
            )
        dates = schedule.plan_cures(start, proto["cycle_days"], total - first_cycle + 1)
        cures = []
        for offset, j1 in enumerate(dates):
            cycle = first_cycle + offset
            cur = conn.execute(
                "INSERT INTO cures (inclusion_id, patient_id, cycle, planned_date, initial_date, "
                "state) VALUES (?, ?, ?, ?, ?, 'planned')",
                (inclusion_id, person["id"], cycle, j1.isoformat(), j1.isoformat()),
            )
            cures.append({"id": int(cur.lastrowid), "cycle": cycle, "date": j1.isoformat()})
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
    inclusion["cures"] = [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM cures WHERE inclusion_id = ? ORDER BY cycle", (inclusion_id,)
        )
    ]
    inclusion["lines"] = [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM inclusion_lines WHERE inclusion_id = ? ORDER BY line_no",
            (inclusion_id,),
        )
    ]
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
        rows = [
            dict(r)
            for r in conn.execute(
                "SELECT * FROM cures WHERE inclusion_id = ? AND state != 'cancelled' "
                "ORDER BY cycle",
                (cure["inclusion_id"],),
            )
        ]
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
            conn.execute(
                "UPDATE cures SET planned_date = ?, updated_at = ?, postpone_reason = "
                "CASE WHEN id = ? THEN ? ELSE postpone_reason END WHERE id = ?",
                (shift.after.isoformat(), now, cure_id, reason, row["id"]),
            )
            conn.execute(
                "UPDATE prescription_lines SET admin_date = date(admin_date, ?) WHERE cure_id = ?",
                (f"+{delta} days", row["id"]),
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
