"""Plan de soins: a care-plan record -> the fields of the template.

A "care-plan record": {"patient": row of `patients`, "prescription": row, "cure": row,
  "protocol_name": str, "lines": rows of `prescription_lines` of that day (all types),
  "preparations": {prescription_line_id: row of `preparations`}, "protocol": row of
  `ref_protocols` or None (monitoring, remarks), "inclusion_lines": {id: row} (volumes),
  "t0": "HH:MM" or ""}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from oncosecours.documents.context.formatting import (
    category,
    clock,
    date,
    datetime,
    duration,
    lines,
    num,
    offset,
    parse_t0,
    rate,
    unit,
)
from oncosecours.documents.context.records import _g, common, patient_fields
from oncosecours.domain.display import care_amount


def care_plan(
    record: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    backup_date: Any = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Context of a plan de soins (``champs.toml`` [modeles.plan_de_soins])."""
    patient_row = record["patient"]
    prescription = record.get("prescription") or {}
    cure = record.get("cure") or {}
    lines_ = sorted(
        record.get("lines") or [],
        key=lambda r: (
            r.get("time_offset_min") if r.get("time_offset_min") is not None else 0,
            r.get("line_no") or 0,
        ),
    )
    preparations = record.get("preparations") or {}
    incl = record.get("inclusion_lines") or {}
    t0 = parse_t0(record.get("t0"))
    administrations = []
    for index, line in enumerate(lines_, start=1):
        prep = preparations.get(line.get("id")) or {}
        cancelled = prep.get("state") == "cancelled"
        if cancelled:
            prep = {}
        volume = (
            prep.get("final_volume_ml")
            or line.get("diluent_volume_ml")
            or _g(incl.get(line.get("inclusion_line_id")), "volume_ml")
        )
        duration_min = line.get("duration_min")
        name = str(line.get("molecule_name") or "")
        line_type = line.get("line_type")
        administrations.append(
            {
                "ordre": str(index),
                "decalage": offset(line.get("time_offset_min")),
                "heure": clock(t0, line.get("time_offset_min") or 0),
                "categorie": category(line_type, name),
                "produit": name.upper() if int(line_type or 1) == 1 else name,
                "dose": care_amount(
                    line.get("dose"), unit(line.get("unit")), name, int(line_type or 1) == 1
                ),
                "voie": str(line.get("route") or ""),
                "duree": duration(duration_min),
                "debit": rate(volume, duration_min),
                "diluant": str(prep.get("diluent") or line.get("diluent") or ""),
                "volume": f"{num(volume)} mL" if volume else "",
                "commentaire": str(line.get("comment") or ""),
                "ordonnancier": str(prep.get("ord_number") or ""),
                "peremption": datetime(prep.get("use_by")),
            }
        )
    patient = patient_fields(patient_row)
    patient.update(
        {
            "poids_kg": num(prescription.get("weight_kg"), 1),
            "taille_cm": num(prescription.get("height_cm"), 1),
            "surface_m2": num(prescription.get("bsa_m2"), 2),
        }
    )
    protocol = record.get("protocol") or {}
    day = lines_[0].get("day") if lines_ else record.get("day")
    admin_date = lines_[0].get("admin_date") if lines_ else record.get("date")
    ctx = common(settings, "plan_de_soins", backup_date=backup_date, now=now)
    ctx.update(
        {
            "patient": patient,
            "prescripteur": {"nom": str(prescription.get("prescriber_name") or "")},
            "cure": {
                "protocole": str(record.get("protocol_name") or ""),
                "cycle": str(cure.get("cycle") or ""),
                "jour": f"J{day}" if day is not None else "",
                "date": date(admin_date),
            },
            "t0": t0,
            "administrations": administrations,
            "surveillance": lines(protocol.get("monitoring")),
            "remarques": lines(protocol.get("remarks")),
        }
    )
    return ctx
