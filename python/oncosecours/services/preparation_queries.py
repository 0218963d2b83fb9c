"""What the documents read of a preparation (fiche de fabrication, label, register): plain dicts.

:func:`preparation_sheet` returns the ``preparations`` columns (see migration 0004) plus
  ``products``: list of vials ``{name, product_id, strength_mg, volume_ml, count,
  volume_to_draw_ml, concentration_mg_ml, ucd13}``; ``plan``: the CompoundingPlan as a dict
  (``added_weight_g`` for a differential weighing, ``leftover_created``...); ``findings``;
  ``lots``: ``[{kind, component, product_id, lot, expiry, quantity, opened_at, recorded_at}]``;
  ``state_fr``; ``patient_name`` (``NOM (usage) Prénom``); ``control`` / ``release`` /
  ``dispensation`` / ``administration``: the rows or None.
:func:`ordonnancier_rows` returns the register of a period, one dict per entry.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from typing import Any

from oncosecours.domain import workflow
from oncosecours.domain.display import fr_dose
from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num
from oncosecours.domain.identity import parse_date
from oncosecours.domain.production import component_key, lot_quantity_problems
from oncosecours.services.preparation_plan import required_components, required_vials
from oncosecours.store import preparations as store
from oncosecours.store.preparations import lots_of, resolve_preparation


def patient_name(prep: dict[str, Any]) -> str:
    usual = f" ({prep['patient_usual_name']})" if prep.get("patient_usual_name") else ""
    return f"{prep['patient_birth_name'].upper()}{usual} {prep['patient_first_name']}"


def preparation_sheet(conn: sqlite3.Connection, preparation: object) -> dict[str, Any]:
    """Everything the fiche de fabrication, the label and the batch record print (one dict)."""
    prep = resolve_preparation(conn, preparation)
    sheet = dict(prep)
    sheet["products"] = json.loads(prep["products_json"])
    sheet["plan"] = json.loads(prep["plan_json"] or "{}")
    sheet["findings"] = json.loads(prep["findings_json"] or "[]")
    sheet["lots"] = lots_of(conn, prep["id"])
    sheet["lots_complete"] = _lots_complete(sheet)
    sheet["state_fr"] = workflow.label("preparation", prep["state"])
    sheet["patient_name"] = patient_name(prep)
    sheet["light_protect"] = bool(prep["light_protect"])
    from oncosecours.services.stock_plan import leftover_created_text

    sheet["reliquat_cree"] = leftover_created_text(conn, prep["id"])
    sheet["control"] = store.control_of(conn, prep["id"])
    sheet["release"] = store.release_of(conn, prep["id"])
    sheet["dispensation"] = store.dispensation_of(conn, prep["id"])
    administration = store.administration_of(conn, prep["id"])
    if administration:
        administration["incidents"] = json.loads(administration["incidents_json"])
    sheet["administration"] = administration
    return sheet


def _lots_complete(sheet: dict[str, Any]) -> bool:
    """Every vial product and the diluent have a lot, and each product's quantities add up to
    the vials opened (a register written before that rule may not)."""
    have = {(lot["kind"], component_key(lot["component"])) for lot in sheet["lots"]}
    if not all((k, component_key(n)) in have for k, n in required_components(sheet)):
        return False
    vial_lots = [
        (lot["component"], lot["lot"], lot["quantity"])
        for lot in sheet["lots"]
        if lot["kind"] == "flacon"
    ]
    return not lot_quantity_problems(vial_lots, required_vials(sheet))


def ordonnancier_rows(
    conn: sqlite3.Connection,
    date_from: str | date,
    date_to: str | date,
    order_by: str = "date",
) -> list[dict[str, Any]]:
    """The register between two dates (of preparation, inclusive), sorted by date (number order),
    patient or drug. Cancelled entries are kept, marked ``cancelled``."""
    if order_by not in store.REGISTER_ORDER:
        raise OncoError(
            f"Tri inconnu : « {order_by} » (attendu date, patient ou drug)", field="tri"
        )
    start = parse_date(date_from, "du").isoformat()
    end = parse_date(date_to, "au").isoformat()
    if end < start:
        raise OncoError(f"Période vide : du {start} au {end}", field="au")
    rows = store.register(conn, start, end, order_by)
    lots_by_prep = store.lots_by_preparation(conn, [r["id"] for r in rows])
    out = []
    for row in rows:
        entry = dict(row)
        products = json.loads(row["products_json"])
        entry["products"] = products
        entry["lots"] = lots_by_prep.get(row["id"], [])
        entry["patient_name"] = patient_name(entry)
        entry["state_fr"] = workflow.label("preparation", row["state"])
        entry["composition"] = _composition(entry)
        entry["lots_text"] = ", ".join(
            f"{lot['component']} lot {lot['lot']} (exp. {lot['expiry']})" for lot in entry["lots"]
        )
        entry["cancelled"] = row["state"] == "cancelled"
        out.append(entry)
    return out


def _composition(entry: dict[str, Any]) -> str:
    vials = " + ".join(
        f"{p['count']} × {p['name']} ({fr_num(p['volume_to_draw_ml'], 2)} mL)"
        for p in entry["products"]
    )
    text = f"{entry['molecule_name']} {fr_dose(entry['dose'])} {entry['unit']}"
    if vials:
        text += f" : {vials}"
    if entry["diluent"]:
        text += f" dans {entry['diluent']} {fr_num(entry['diluent_volume_ml'] or 0)} mL"
    if entry["final_volume_ml"]:
        text += f", volume final {fr_num(entry['final_volume_ml'], 1)} mL"
    return text
