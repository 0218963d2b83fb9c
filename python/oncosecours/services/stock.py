"""Stock actions and view: leftovers on the shelf, vials counted, the day's needs and shortages.

* :func:`stock_view` (no write): leftovers available (with their use-by), those past it still
  on the shelf (to discard), vials counted per product, and per molecule what the day's
  planned preparations need against what is in stock, with the patients concerned when short.
* :func:`discard_leftover`: an audited action with its reason (expired, contaminated...).
* :func:`count_vials`: the inventory of one product (audited), decreased by each preparation.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num
from oncosecours.domain.leftovers import fr_moment
from oncosecours.domain.production import iso
from oncosecours.domain.units import base_unit, convert, normalise_unit, vial_unit
from oncosecours.services.core import Actor, action, required_reason
from oncosecours.services.go_ahead import now_or
from oncosecours.services.stock_plan import available_leftover, leftover_number
from oncosecours.store import stock as store

STOCK_ROLES = ("préparateur", "pharmacien")


def _leftover_row(row: dict[str, Any], at: datetime) -> dict[str, Any]:
    use_by = datetime.fromisoformat(row["use_by"])
    concentration = row["strength"] / row["vial_volume_ml"]
    return {
        "reliquat": f"R{row['id']}",
        "id": row["id"],
        "molecule": row["molecule_name"],
        "produit": row["product_name"],
        "lot": row["lot"],
        "peremption_lot": row["lot_expiry"],
        "unite": row["unit"],
        "concentration": concentration,
        "quantite_restante": row["amount_left"],
        "volume_restant_ml": row["amount_left"] / concentration,
        "ouvert_le": row["opened_at"],
        "a_utiliser_avant": row["use_by"],
        "motif_date_limite": row["use_by_reason"],
        "conservation": row["storage"],
        "perime": not at < use_by,
        "etat": row["state"],
    }


def _need(line: dict[str, Any]) -> tuple[float, str] | None:
    unit = normalise_unit(line["unit"])
    if unit is None:
        return None
    base = base_unit(unit)
    return convert(line["dose"], unit, base).converted, base


def stock_view(
    conn: sqlite3.Connection, day: str | date | None = None, *, now: datetime | None = None
) -> dict[str, Any]:
    """What the Stock sheet and ``oncosecours stock show`` print (see the module docstring)."""
    moment = now_or(now)
    day_text = (day or moment.date()).isoformat() if not isinstance(day, str) else day
    shelf = [_leftover_row(r, moment) for r in store.leftovers(conn)]
    counts = store.vial_counts(conn)
    vials = [
        {
            "produit": row["product_name"],
            "product_id": pid,
            "flacons": row["count"],
            "inventaire_du": row["counted_at"],
            "ecart": row["count"] < 0,
        }
        for pid, row in sorted(counts.items(), key=lambda kv: kv[1]["product_name"])
    ]
    from oncosecours.domain.production import needs_preparation

    needs: dict[int, dict[str, Any]] = {}
    for line in store.planned_lines(conn, day_text):
        if not needs_preparation(line["line_type"], line["route"], line["molecule_id"]):
            continue
        amount = _need(line)
        entry = needs.setdefault(
            line["molecule_id"],
            {
                "molecule": line["molecule_name"],
                "molecule_id": line["molecule_id"],
                "besoin": 0.0,
                "unite": amount[1] if amount else line["unit"],
                "patients": [],
                "non_convertibles": [],
            },
        )
        label = f"{line['birth_name'].upper()} {line['first_name']} ({fr_num(line['dose'], 3)} {line['unit']})"
        if amount is None or amount[1] != entry["unite"]:
            entry["non_convertibles"].append(label)
        else:
            entry["besoin"] += amount[0]
        entry["patients"].append(label)
    for molecule_id, entry in needs.items():
        unit = entry["unite"]
        usable = sum(
            item["quantite_restante"]
            for item in shelf
            if not item["perime"]
            and item["lot"]
            and item["unite"] == unit
            and store.leftover(conn, item["id"])["molecule_id"] == molecule_id
        )
        in_vials = 0.0
        counted = False
        for product in store.products_of(conn, molecule_id):
            row = counts.get(product["product_id"])
            if row is None:
                continue
            counted = True
            strength_unit, _ = vial_unit(
                product["name"], product["strength_mg"], product.get("unit"), unit
            )
            try:
                strength = convert(product["strength_mg"], strength_unit, unit).converted
            except OncoError:
                continue
            in_vials += max(row["count"], 0) * strength
        entry["reliquats"] = usable
        entry["flacons"] = in_vials if counted else None
        entry["inventaire"] = counted
        available = usable + in_vials
        entry["rupture"] = counted and entry["besoin"] > available + 1e-9
        entry["manque"] = max(0.0, entry["besoin"] - available) if counted else None
        if entry["rupture"]:
            entry["alerte"] = (
                f"RUPTURE {entry['molecule']} : besoin du jour {fr_num(entry['besoin'], 3)} {unit}, "
                f"en stock {fr_num(available, 3)} {unit} (reliquats {fr_num(usable, 3)}, flacons "
                f"{fr_num(in_vials, 3)}) : manque {fr_num(entry['manque'], 3)} {unit} ; patients "
                f"concernés : {', '.join(entry['patients'])}"
            )
        elif not counted:
            entry["alerte"] = (
                f"{entry['molecule']} : flacons non inventoriés (oncosecours stock inventaire)"
            )
        else:
            entry["alerte"] = None
    return {
        "date": day_text,
        "reliquats": [item for item in shelf if not item["perime"]],
        "reliquats_perimes": [item for item in shelf if item["perime"]],
        "flacons": vials,
        "besoins": sorted(needs.values(), key=lambda e: e["molecule"]),
        "ruptures": [e["alerte"] for e in needs.values() if e.get("rupture")],
    }


def discard_leftover(
    conn: sqlite3.Connection,
    actor: Actor,
    leftover: object,
    reason: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Discard a leftover (audited, reason mandatory); it stays in the stock's history."""
    reason = required_reason(reason, "du rejet du reliquat")
    number = leftover_number(leftover)
    with action(conn, actor, "jeter_reliquat", STOCK_ROLES, "jeter un reliquat") as act:
        moment = now_or(now)
        at = iso(moment)
        row = available_leftover(conn, number)
        store.discard_leftover(conn, number, at, actor.id, actor.initials, reason)
        store.insert_move(
            conn,
            {
                "leftover_id": number,
                "kind": "jeté",
                "amount": row["amount_left"],
                "comment": reason,
                "moved_by": actor.id,
                "moved_by_initials": actor.initials,
                "moved_at": at,
            },
        )
        act.record(
            "reliquat",
            number,
            {"état": "available", "quantité": row["amount_left"]},
            {
                "état": "discarded",
                "motif": reason,
                "produit": row["product_name"],
                "lot": row["lot"],
                "périmé": not moment < datetime.fromisoformat(row["use_by"]),
            },
        )
    return _leftover_row(store.leftover(conn, number), moment)


def count_vials(
    conn: sqlite3.Connection,
    actor: Actor,
    product: object,
    count: int,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record the inventory of one product (number of vials on the shelf)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0 or count > 100000:
        raise OncoError(f"Nombre de flacons impossible : {count!r}", field="nombre")
    with action(conn, actor, "inventaire_flacons", STOCK_ROLES, "inventorier les flacons") as act:
        at = iso(now_or(now))
        ref = store.product(conn, product)
        if ref is None:
            raise OncoError(
                f"Produit « {product} » absent du référentiel chargé",
                field="produit",
                rule="PRODUIT_INCONNU",
            )
        before = store.vial_counts(conn).get(ref["product_id"])
        store.set_vial_count(conn, ref, count, at, actor.id)
        act.record(
            "flacons",
            ref["product_id"],
            {"flacons": before["count"]} if before else None,
            {"produit": ref["name"], "flacons": count},
        )
    return {"produit": ref["name"], "product_id": ref["product_id"], "flacons": count}


def leftover_text(item: dict[str, Any]) -> str:
    """One line of the stock listing (CLI)."""
    lot = item["lot"] or "LOT NON TRACÉ"
    return (
        f"{item['reliquat']} {item['produit']} lot {lot} : {fr_num(item['quantite_restante'], 3)} "
        f"{item['unite']} ({fr_num(item['volume_restant_ml'], 2)} mL à "
        f"{fr_num(item['concentration'], 3)} {item['unite']}/mL), ouvert le "
        f"{fr_moment(datetime.fromisoformat(item['ouvert_le']))}, à utiliser avant le "
        f"{fr_moment(datetime.fromisoformat(item['a_utiliser_avant']))}"
    )
