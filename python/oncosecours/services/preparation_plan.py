"""The compounding plan of a prescribed line, computed from the snapshot without writing anything.

:func:`line_context` reads a line with its prescription, cure, patient and inclusion;
:func:`compute_plan` turns it into what the fiche de fabrication needs (vials, volumes, diluent,
container, findings) through :func:`oncosecours.domain.compounding.plan_compounding`;
:func:`preview` is the pre-fiche of a line (no number). :func:`required_components` and
:func:`required_vials` say what the lots of a planned or recorded preparation must cover.

The gravimetric target is the NET weight of the finished bag's content (diluent + drug added):
weigh with the balance tared on an empty container of the same model.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from oncosecours.domain.display import fr_dose
from oncosecours.domain.errors import OncoError
from oncosecours.services.go_ahead import now_or
from oncosecours.store.circuit import (
    compoundable_products,
    cure_by_id,
    inclusion_by_id,
    json_list,
    patient_by_id,
    patient_label,
    prescription_by_id,
    prescription_line,
)
from oncosecours.store.circuit import molecule as molecule_by_id

MG_UNITS = {"mg"}


def settings_or_loaded(settings):
    """The settings given, else the hospital's (loaded on demand: not every caller needs them)."""
    if settings is None:
        from oncosecours.settings import load_settings

        settings = load_settings()
    return settings


def line_context(conn: sqlite3.Connection, line_id: int) -> dict[str, Any]:
    line = prescription_line(conn, line_id)
    if line is None:
        raise OncoError(
            f"Ligne de prescription inconnue : n° {line_id}",
            field="ligne",
            rule="LIGNE_INCONNUE",
            hint="Les lignes du jour sont listées par « oncosecours status --date AAAA-MM-JJ »",
        )
    prescription = prescription_by_id(conn, line["prescription_id"])
    cure = cure_by_id(conn, line["cure_id"])
    patient = patient_by_id(conn, cure["patient_id"])
    inclusion = inclusion_by_id(conn, cure["inclusion_id"])
    what = (
        f"La ligne n° {line_id} ({line['molecule_name']} {fr_dose(line['dose'])} {line['unit']}, "
        f"J{line['day']} du {date.fromisoformat(line['admin_date']):%d/%m/%Y}) de "
        f"{patient_label(patient)}"
    )
    return {
        "line": line,
        "prescription": prescription,
        "cure": cure,
        "patient": patient,
        "inclusion": inclusion,
        "what": what,
    }


def _molecule_and_products(conn: sqlite3.Connection, line: dict) -> tuple[dict, list[dict]]:
    molecule = molecule_by_id(conn, line["molecule_id"])
    if molecule is None:
        raise OncoError(
            f"Molécule {line['molecule_name']} (n° {line['molecule_id']}) absente du référentiel "
            "chargé : la préparation ne peut pas être calculée",
            rule="REFERENTIEL_MOLECULE",
            hint="Recharger la sauvegarde Chimio (oncosecours refresh)",
        )
    products = compoundable_products(conn, line["molecule_id"])
    if not products:
        raise OncoError(
            f"Aucun flacon de {line['molecule_name']} (dosage et volume connus) dans le "
            "référentiel chargé : la préparation ne peut pas être calculée",
            rule="REFERENTIEL_PRODUIT",
        )
    return molecule, products


def _choose(value: str | None, allowed: list[str], default: str | None, what: str):
    """The line's value, else the only/first allowed one; returns (value, note or None)."""
    if value:
        return value, None
    if allowed:
        chosen = allowed[0]
        note = (
            f"{what} non précisé sur la ligne : {chosen} (premier autorisé pour la molécule"
            + (f", autres : {', '.join(allowed[1:])}" if len(allowed) > 1 else "")
            + ")"
        )
        return chosen, note
    if default:
        return default, f"{what} non précisé sur la ligne ni pour la molécule : {default}"
    return None, None


def compute_plan(
    conn: sqlite3.Connection,
    line: dict[str, Any],
    *,
    at: datetime,
    tolerance_pct: float,
    diluent: str | None = None,
    bag_volume_ml: float | None = None,
    container: str | None = None,
) -> dict[str, Any]:
    """What the fiche de fabrication needs for one line, from the snapshot (no write)."""
    from oncosecours.domain.compounding import (
        MoleculeCompounding,
        VialProduct,
        plan_compounding,
    )

    if (line["unit"] or "").strip().lower() not in MG_UNITS:
        raise OncoError(
            f"Dose de {line['molecule_name']} en {line['unit']} : seule une dose en mg peut "
            "être calculée pour la préparation",
            rule="UNITE_PREPARATION",
            field="unité",
        )
    molecule, products = _molecule_and_products(conn, line)
    notes: list[str] = []
    diluents = json_list(molecule["diluents_json"])
    containers = json_list(molecule["containers_json"])
    chosen_diluent, note = _choose(diluent or line["diluent"], diluents, None, "Diluant")
    if note:
        notes.append(note)
    if chosen_diluent is None:
        raise OncoError(
            f"Diluant de {line['molecule_name']} inconnu (ni sur la ligne ni dans le référentiel)",
            rule="DILUANT_INCONNU",
            field="diluant",
            hint="Préciser le diluant (--diluant)",
        )
    chosen_container, note = _choose(container or line["container"], containers, None, "Contenant")
    if note:
        notes.append(note)
    vial_products = {}
    for p in products:
        volume = p["reconst_volume_ml"] or p["volume_ml"]
        vial_products[p["name"]] = (VialProduct(p["name"], p["strength_mg"], volume), p)
    leftover_h = molecule["stability_reconst_h"] if molecule["leftover_reuse"] else None
    spec = MoleculeCompounding(
        name=molecule["name"],
        concentration_min_mg_ml=molecule["conc_min_mg_ml"],
        concentration_max_mg_ml=molecule["conc_max_mg_ml"],
        density_g_ml=molecule["density"] or 1.0,
        diluents=tuple(diluents),
        leftover_stability_hours=leftover_h,
    )
    plan = plan_compounding(
        line["dose"],
        [vp for vp, _ in vial_products.values()],
        spec,
        diluent=chosen_diluent,
        bag_volume_ml=bag_volume_ml if bag_volume_ml is not None else line["diluent_volume_ml"],
        now=at,
        tolerance_pct=tolerance_pct,
    )
    vials = []
    for use in plan.vials:
        _, ref = vial_products[use.product]
        vials.append(
            {
                "name": use.product,
                "product_id": ref["product_id"],
                "ucd13": ref["ucd13"],
                "strength_mg": use.strength_mg,
                "volume_ml": use.volume_ml,
                "count": use.count,
                "volume_to_draw_ml": use.volume_to_draw_ml,
                "concentration_mg_ml": use.strength_mg / use.volume_ml,
            }
        )
    plan_dict = _plan_dict(plan)
    plan_dict["notes"] = notes
    return {
        "molecule": molecule,
        "plan": plan,
        "plan_dict": plan_dict,
        "products": vials,
        "diluent": chosen_diluent,
        "container": chosen_container,
        "notes": notes,
    }


def _plan_dict(plan) -> dict[str, Any]:
    data = asdict(plan)
    data["findings"] = [f.to_dict() for f in plan.findings]
    data["vial_count"] = plan.vial_count
    data["waste_mg"] = plan.waste_mg
    return json.loads(json.dumps(data, default=str))


def required_components(prep: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, name) pairs the preparation's lots must cover: each vial product, the diluent."""
    needed = [("flacon", p["name"]) for p in json.loads(prep["products_json"])]
    plan = json.loads(prep["plan_json"] or "{}")
    needed += [("flacon", u["product"]) for u in plan.get("leftover_used", [])]
    if prep["diluent"]:
        needed.append(("diluant", prep["diluent"]))
    return list(dict.fromkeys(needed))


def required_vials(prep: dict[str, Any]) -> dict[str, int]:
    """Vials the plan opens, per product: the new vials (``products_json`` counts) plus one per
    leftover vial it draws from (``plan_json`` ``leftover_used``). The lots of a product must
    add up to this number (see :func:`oncosecours.domain.production.check_lots`)."""
    vials: dict[str, int] = {}
    for product in json.loads(prep["products_json"]):
        vials[product["name"]] = vials.get(product["name"], 0) + int(product["count"])
    plan = json.loads(prep["plan_json"] or "{}")
    for used in plan.get("leftover_used", []):
        vials[used["product"]] = vials.get(used["product"], 0) + 1
    return vials


def preview(
    conn: sqlite3.Connection, line_id: int, *, settings=None, now: datetime | None = None
) -> dict[str, Any]:
    """The plan of a line before preparation (pre-fiche, no number, nothing written)."""
    settings = settings_or_loaded(settings)
    moment = now_or(now)
    ctx = line_context(conn, line_id)
    computed = compute_plan(
        conn, ctx["line"], at=moment, tolerance_pct=settings.production.tolerance_gravimetrique_pct
    )
    return {
        "line": ctx["line"],
        "patient": patient_label(ctx["patient"]),
        "products": computed["products"],
        "plan": computed["plan_dict"],
        "diluent": computed["diluent"],
        "container": computed["container"],
        "notes": computed["notes"],
    }
