"""What the stock brings to a preparation's plan: the dose unit and its conversion, the vials
(substitution included), the leftovers proposed, the tare and the bags; and what a preparation
does to the stock once recorded (leftovers used and created, vials taken).

Called by the preparation services inside their transaction; no write here except in
:func:`apply_to_stock`. All SQL is in :mod:`oncosecours.store.stock`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num
from oncosecours.domain.leftovers import (
    StockLeftover,
    fr_moment,
    leftover_use_by,
    propose_leftovers,
    why_not_usable,
)
from oncosecours.domain.production import component_key, iso
from oncosecours.domain.units import base_unit, convert, preparation_unit, vial_unit
from oncosecours.store import stock as store


@dataclass
class PlanInputs:
    """Everything compute_plan needs from the stock side (amounts in ``unit``)."""

    dose_unit: str
    unit: str
    dose: float
    conversion: str | None
    products: list[dict[str, Any]]  # ref rows + "amount" (strength in unit) + "volume"
    leftovers: list[tuple[StockLeftover, float]]  # (leftover, amount to take)
    notes: list[str] = field(default_factory=list)
    substitution: dict[str, Any] | None = None


def _stock_leftover(row: dict[str, Any]) -> StockLeftover:
    return StockLeftover(
        id=row["id"],
        molecule_id=row["molecule_id"],
        molecule=row["molecule_name"],
        product_id=row["product_id"],
        product=row["product_name"],
        lot=row["lot"],
        lot_expiry=date.fromisoformat(row["lot_expiry"]) if row["lot_expiry"] else None,
        unit=row["unit"],
        strength=row["strength"],
        vial_volume_ml=row["vial_volume_ml"],
        amount_left=row["amount_left"],
        opened_at=datetime.fromisoformat(row["opened_at"]),
        use_by=datetime.fromisoformat(row["use_by"]),
    )


def leftover_number(text: object) -> int:
    raw = str(text).strip().upper().lstrip("R#")
    if not raw.isdigit():
        raise OncoError(f"Reliquat illisible : « {text} » (attendu R12 ou 12)", field="reliquat")
    return int(raw)


def available_leftover(conn: sqlite3.Connection, number: int) -> dict[str, Any]:
    """The stock row of leftover R<number>, refused (RELIQUAT) when unknown, discarded or used up."""
    row = store.leftover(conn, number)
    if row is None:
        raise OncoError(f"Reliquat R{number} inconnu", field="reliquat", rule="RELIQUAT")
    if row["state"] != "available":
        raise OncoError(
            f"Reliquat R{number} déjà {'jeté' if row['state'] == 'discarded' else 'épuisé'}",
            field="reliquat",
            rule="RELIQUAT",
        )
    return row


def plan_inputs(
    conn: sqlite3.Connection,
    line: dict[str, Any],
    molecule: dict[str, Any],
    products: list[dict[str, Any]],
    at: datetime,
    *,
    settings,
    product: object = None,
    leftover_refs: list[object] | None = None,
    use_leftovers: bool = True,
) -> PlanInputs:
    """Unit, vials and leftovers of one line's plan (refusals are OncoError, nothing written).

    ``product``: a presentation to prepare with (substitution: another vial size or brand of
    the SAME molecule, traced; another molecule refused, rule SUBSTITUTION_MOLECULE).
    ``leftover_refs``: leftovers the preparer chose (refused when not usable); else the stock
    proposes them (least waste, then earliest use-by) unless ``use_leftovers`` is False.
    """
    name = line["molecule_name"]
    code = store.protocol_unit_code(conn, line["inclusion_line_id"])
    dose_unit = preparation_unit(line["unit"], code, name)
    unit = base_unit(dose_unit)
    conversion = convert(line["dose"], dose_unit, unit)
    notes: list[str] = []
    if not conversion.identity:
        notes.append(f"Conversion de la dose : {conversion.text()}")
    substitution = None
    if product not in (None, ""):
        chosen = store.product(conn, product)
        if chosen is None:
            raise OncoError(
                f"Produit « {product} » absent du référentiel chargé",
                field="produit",
                rule="SUBSTITUTION_INCONNUE",
            )
        if chosen["molecule_id"] != line["molecule_id"]:
            other = store.molecule(conn, chosen["molecule_id"]) if chosen["molecule_id"] else None
            raise OncoError(
                f"Substitution refusée : « {chosen['name']} » est "
                + (f"du {other['name']}" if other else "d'une autre molécule")
                + f", la ligne prescrit {name} (seule une autre présentation de la même "
                "molécule est permise)",
                field="produit",
                rule="SUBSTITUTION_MOLECULE",
            )
        if not chosen["strength_mg"] or not (chosen["reconst_volume_ml"] or chosen["volume_ml"]):
            raise OncoError(
                f"Produit « {chosen['name']} » sans dosage ou volume dans le référentiel",
                field="produit",
                rule="REFERENTIEL_PRODUIT",
            )
        usual = [p["name"] for p in products]
        substitution = {
            "product_id": chosen["product_id"],
            "name": chosen["name"],
            "usual": usual,
        }
        notes.append(
            f"Substitution : préparé avec « {chosen['name']} » (présentations habituelles : "
            f"{', '.join(usual) or 'aucune'})"
        )
        products = [chosen]
    vials = []
    for ref in products:
        volume = ref["reconst_volume_ml"] or ref["volume_ml"]
        strength_unit, note = vial_unit(ref["name"], ref["strength_mg"], ref.get("unit"), dose_unit)
        if note:
            notes.append(note.capitalize())
        try:
            amount = convert(ref["strength_mg"], strength_unit, unit, what="dosage").converted
        except OncoError as error:
            raise OncoError(
                f"{name} : dose en {dose_unit}, flacon « {ref['name']} » dosé en {strength_unit} : "
                "conversion impossible",
                field="unité",
                rule="UNITE_INCOMPATIBLE",
            ) from error
        if strength_unit != unit:
            notes.append(
                f"Flacon « {ref['name']} » : {convert(ref['strength_mg'], strength_unit, unit).text()}"
            )
        vials.append({**ref, "amount": amount, "volume": volume, "strength_unit": strength_unit})
    leftovers = _leftovers(
        conn,
        line,
        molecule,
        conversion.converted,
        unit,
        at,
        settings,
        leftover_refs,
        use_leftovers,
        notes,
    )
    for leftover, take in leftovers:
        notes.append(
            f"Reliquat {leftover.label} utilisé : {fr_num(take, 3)} {unit} "
            f"({fr_num(take / leftover.concentration, 2)} mL) de « {leftover.product} », lot "
            f"{leftover.lot}, ouvert le {fr_moment(leftover.opened_at)}, à utiliser avant le "
            f"{fr_moment(leftover.use_by)}"
        )
    return PlanInputs(
        dose_unit,
        unit,
        conversion.converted,
        conversion.text(),
        vials,
        leftovers,
        notes,
        substitution,
    )


def _leftovers(conn, line, molecule, need, unit, at, settings, refs, use_leftovers, notes):
    if not settings.stock.reliquats_en_stock:
        if refs:
            raise OncoError(
                "Reliquats non gérés en stock (paramètre [stock] reliquats_en_stock = false)",
                field="reliquat",
                rule="RELIQUAT",
            )
        return []
    rows = store.leftovers(conn, molecule_id=line["molecule_id"])
    shelf = [_stock_leftover(r) for r in rows if r["unit"] == unit]
    if refs:
        chosen: list[tuple[StockLeftover, float]] = []
        remaining = need
        for ref in refs:
            number = leftover_number(ref)
            row = available_leftover(conn, number)
            item = _stock_leftover(row)
            reason = why_not_usable(item, line["molecule_id"], at)
            if reason is None and item.unit != unit:
                reason = f"reliquat en {item.unit}, la préparation est calculée en {unit}"
            if reason is not None:
                rule = "RELIQUAT_PERIME" if reason.startswith("périmé") else "RELIQUAT"
                raise OncoError(
                    f"Reliquat R{number} ({item.product}, {fr_num(item.amount_left, 3)} "
                    f"{item.unit}) refusé : {reason}",
                    field="reliquat",
                    rule=rule,
                )
            if remaining <= 1e-9:
                raise OncoError(
                    f"Reliquat R{number} inutile : la dose est déjà couverte", field="reliquat"
                )
            take = min(item.amount_left, remaining)
            remaining -= take
            chosen.append((item, take))
        return chosen
    if not use_leftovers:
        return []
    proposal = propose_leftovers(shelf, need, line["molecule_id"], at)
    for item, reason in proposal.refused:
        notes.append(
            f"Reliquat {item.label} ({fr_num(item.amount_left, 3)} {item.unit} de "
            f"« {item.product} ») non utilisé : {reason}"
        )
    return [(pick.leftover, pick.take) for pick in proposal.picks]


def leftover_stability_h(molecule: dict[str, Any], settings) -> float | None:
    """Hours an opened vial of the molecule is kept: the settings' value, else the backup's
    stability after reconstitution when the backup allows leftovers (RELIQUAT)."""
    table = {k.strip().upper(): v for k, v in settings.stock.stabilite_reliquats_h.items()}
    if molecule["name"].strip().upper() in table:
        return float(table[molecule["name"].strip().upper()])
    if molecule.get("leftover_reuse") and molecule.get("stability_reconst_h"):
        return float(molecule["stability_reconst_h"])
    return None


def _single_lot(lots, product_name: str):
    found = {
        (lot.lot, lot.expiry)
        for lot in lots
        if lot.kind == "flacon" and component_key(lot.component) == component_key(product_name)
    }
    return next(iter(found)) if len(found) == 1 else None


def apply_to_stock(
    conn: sqlite3.Connection,
    act,
    preparation_id: int,
    computed: dict[str, Any],
    lots,
    at: datetime,
    settings,
) -> dict[str, Any]:
    """After the preparation row is inserted: leftovers used are decreased (moves journal),
    the partly drawn vial becomes a leftover when the molecule keeps them, counted vials are
    taken. Returns what changed (for the audit event)."""
    actor, moment = act.actor, iso(at)
    inputs: PlanInputs = computed["inputs"]
    plan, molecule = computed["plan"], computed["molecule"]
    used = []
    for leftover, take in inputs.leftovers:
        left = leftover.amount_left - take
        store.use_leftover(
            conn, leftover.id, max(left, 0.0), "used" if left <= 1e-9 else "available"
        )
        store.insert_move(
            conn,
            {
                "leftover_id": leftover.id,
                "kind": "utilisé",
                "amount": take,
                "preparation_id": preparation_id,
                "moved_by": actor.id,
                "moved_by_initials": actor.initials,
                "moved_at": moment,
            },
        )
        used.append({"reliquat": leftover.label, "quantite": take, "reste": max(left, 0.0)})
    created = None
    made = plan.leftover_created
    hours = leftover_stability_h(molecule, settings)
    if made is not None and settings.stock.reliquats_en_stock and hours:
        ref = next(p for p in inputs.products if p["name"] == made.product)
        traced = _single_lot(lots or [], made.product)
        use_by, reason = leftover_use_by(at, hours, traced[1] if traced else None, molecule["name"])
        leftover_id = store.insert_leftover(
            conn,
            {
                "molecule_id": molecule["molecule_id"],
                "molecule_name": molecule["name"],
                "product_id": ref["product_id"],
                "product_name": ref["name"],
                "unit": inputs.unit,
                "strength": ref["amount"],
                "vial_volume_ml": ref["volume"],
                "lot": traced[0] if traced else None,
                "lot_expiry": traced[1].isoformat() if traced else None,
                "amount_initial": made.mg,
                "amount_left": made.mg,
                "opened_at": moment,
                "use_by": iso(use_by),
                "use_by_reason": reason,
                "storage": molecule.get("storage"),
                "source_preparation_id": preparation_id,
                "created_by": actor.id,
                "created_at": moment,
            },
        )
        store.insert_move(
            conn,
            {
                "leftover_id": leftover_id,
                "kind": "créé",
                "amount": made.mg,
                "preparation_id": preparation_id,
                "moved_by": actor.id,
                "moved_by_initials": actor.initials,
                "moved_at": moment,
            },
        )
        created = {"reliquat": f"R{leftover_id}", "quantite": made.mg, "date_limite": iso(use_by)}
    taken = []
    for vial in computed["products"]:
        if store.take_vials(conn, vial["product_id"], vial["count"], moment, actor.id):
            taken.append({"produit": vial["name"], "flacons": vial["count"]})
    return {"reliquats_utilises": used, "reliquat_cree": created, "flacons_sortis": taken}


def trace_leftover_lots(conn: sqlite3.Connection, preparation_id: int, lots) -> None:
    """Lots typed after preparation: a leftover created without a lot gets its vial's lot."""
    for row in store.leftovers_created_by(conn, preparation_id):
        if row["lot"] is None:
            traced = _single_lot(lots, row["product_name"])
            if traced:
                store.set_leftover_lot(conn, row["id"], traced[0], traced[1].isoformat())
                use_by, reason = leftover_use_by(
                    datetime.fromisoformat(row["opened_at"]),
                    (
                        datetime.fromisoformat(row["use_by"])
                        - datetime.fromisoformat(row["opened_at"])
                    ).total_seconds()
                    / 3600,
                    traced[1],
                    row["molecule_name"],
                )
                store.shorten_leftover_use_by(conn, row["id"], iso(use_by), reason)


# --- the plan's stock-related parts -------------------------------------------------------------


def compounding_leftovers(inputs: PlanInputs):
    """The chosen stock leftovers as the dose engine's Leftover objects (exact amounts)."""
    from oncosecours.domain.compounding import Leftover, VialProduct

    return [
        Leftover(
            VialProduct(item.product, item.strength, item.vial_volume_ml, inputs.unit),
            take,
            item.use_by,
            item.label,
        )
        for item, take in inputs.leftovers
    ]


def finish_plan(plan, inputs: PlanInputs, settings, container, tolerance_pct, tare_g, conc_range):
    """Several bags when one is over the maximum volume or concentration, then the tare and
    the gross target. Returns {"plan", "notes", "weights", "bags"}."""
    from dataclasses import replace

    from oncosecours.domain.bags import split_dose
    from oncosecours.domain.tare import Tare, container_tare, gross_target, typed_tare

    notes: list[str] = []
    bags: list[dict[str, Any]] = []
    max_volume = float(settings.stock.volume_max_poche_ml)
    over = [
        f
        for f in plan.findings
        if f.rule == "CONCENTRATION_HORS_PLAGE"
        and f.values.get("max_mg_ml") is not None
        and f.values["concentration_mg_ml"] > f.values["max_mg_ml"]
    ]
    if plan.diluent and (over or plan.final_volume_ml > max_volume + 1e-9):
        conc_min, conc_max = conc_range
        parts = split_dose(
            plan.dose_mg,
            plan.draw_volume_ml,
            unit=inputs.unit,
            molecule=plan.molecule,
            bag_sizes_ml=settings.stock.volumes_poches_ml,
            max_bag_volume_ml=max_volume,
            conc_min=conc_min,
            conc_max=conc_max,
            drug_density=plan.drug_density_g_ml,
            diluent_density=plan.diluent_density_g_ml or 1.0,
        )
        if len(parts) > 1:
            first = parts[0]
            net = sum(part.net_weight_g for part in parts)
            plan = replace(
                plan,
                bag_volume_ml=first.bag_volume_ml,
                final_volume_ml=sum(part.final_volume_ml for part in parts),
                final_concentration_mg_ml=first.concentration,
                target_weight_g=net,
                findings=tuple(f for f in plan.findings if f not in over),
            )
            bags = [part.as_dict() for part in parts]
            notes.append(
                f"Dose répartie en {len(parts)} poches égales de {fr_num(first.dose, 3)} "
                f"{inputs.unit} ({fr_num(first.draw_volume_ml, 2)} mL dans "
                f"{fr_num(first.bag_volume_ml)} mL, {fr_num(first.concentration, 3)} "
                f"{inputs.unit}/mL) : une poche au plus de {fr_num(max_volume)} mL"
                + (f" et {fr_num(conc_max, 3)} {inputs.unit}/mL" if conc_max else "")
            )
    count = max(len(bags), 1)
    if tare_g is not None:
        tare = typed_tare(tare_g)
    else:
        tare = container_tare(container, plan.bag_volume_ml, settings.stock.tares_contenants_g)
    if count > 1 and tare.grams:
        tare = Tare(tare.grams * count, f"{count} × {tare.source}")
    weights = gross_target(plan.target_weight_g, tare, tolerance_pct)
    return {"plan": plan, "notes": notes, "weights": weights, "bags": bags}


def plan_extras(plan_dict: dict[str, Any], inputs: PlanInputs, finished: dict) -> dict[str, Any]:
    """The plan as recorded: stock leftovers used with their lot and id, bags, tare, unit."""
    by_label = {item.label: item for item, _ in inputs.leftovers}
    used = []
    for entry in plan_dict.get("leftover_used") or []:
        label, product, amount, volume, expires = entry
        item = by_label.get(label)
        used.append(
            {
                "label": label,
                "product": product,
                "mg": amount,
                "volume_ml": volume,
                "expires_at": expires,
                "stock_id": item.id if item else None,
                "lot": item.lot if item else None,
                "opened_at": iso(item.opened_at) if item else None,
            }
        )
    plan_dict["leftover_used"] = used
    plan_dict["poches"] = finished["bags"]
    plan_dict["tare"] = finished["weights"].as_dict()
    plan_dict["dose_unit"] = inputs.dose_unit
    plan_dict["conversion"] = inputs.conversion
    plan_dict["substitution"] = inputs.substitution
    return plan_dict


def leftover_created_text(conn: sqlite3.Connection, preparation_id: int) -> str:
    """The fiche's line about the leftover this preparation put in stock (empty if none)."""
    rows = store.leftovers_created_by(conn, preparation_id)
    return " ; ".join(
        f"R{row['id']} — {fr_num(row['amount_initial'], 3)} {row['unit']} "
        f"({fr_num(row['amount_initial'] * row['vial_volume_ml'] / row['strength'], 2)} mL) "
        f"de « {row['product_name']} »"
        + (f", lot {row['lot']}" if row["lot"] else ", lot à tracer")
        + f", à utiliser avant le {fr_moment(datetime.fromisoformat(row['use_by']))}"
        for row in rows
    )
