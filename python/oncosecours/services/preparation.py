"""Preparation of a prescribed line: ordonnancier number, fiche de fabrication, lots, cancellation.

``prepare`` runs in ONE ``BEGIN IMMEDIATE`` transaction: it re-reads the line, its cure and the
day's go-ahead, computes the compounding plan (:func:`oncosecours.domain.compounding.plan_compounding`
from the snapshot's molecule and products), the use-by time, checks the lots when given, draws
the next ordonnancier number and inserts the preparation, its lots and the audit event. Whatever
refuses rolls everything back, number included: committed numbers have no gap.

What the documents read (fiche de fabrication, label, register) — :func:`preparation_sheet` and
:func:`ordonnancier_rows` return plain dicts; keys:

``preparations`` columns (see migration 0004) plus
  ``products``: list of vials ``{name, product_id, strength_mg, volume_ml, count,
  volume_to_draw_ml, concentration_mg_ml, ucd13}``; ``plan``: the CompoundingPlan as a dict
  (``added_weight_g`` for a differential weighing, ``leftover_created``...); ``findings``;
  ``lots``: ``[{kind, component, product_id, lot, expiry, quantity, opened_at, recorded_at}]``;
  ``state_fr``; ``patient_name`` (``NOM (usage) Prénom``); ``control`` / ``release`` /
  ``dispensation`` / ``administration``: the rows or None.

The gravimetric target is the NET weight of the finished bag's content (diluent + drug added):
weigh with the balance tared on an empty container of the same model.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from oncosecours.domain import workflow
from oncosecours.domain.display import fr_dose
from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num
from oncosecours.domain.identity import parse_date
from oncosecours.domain.production import (
    Lot,
    check_lots,
    component_key,
    compute_use_by,
    fr_datetime,
    is_intravenous,
    is_vinca_alkaloid,
    iso,
    leftover_limits,
    lot_quantity_problems,
    needs_preparation,
    parse_lot,
)
from oncosecours.services import stock_plan
from oncosecours.services.core import Actor, action, optional_text, required_reason
from oncosecours.services.go_ahead import day_decision, now_or
from oncosecours.store import ordonnancier
from oncosecours.store.circuit import json_list, patient_label, row_dict

PREPARE_ROLES = ("préparateur", "pharmacien")
CANCEL_ROLES = ("préparateur", "pharmacien")


# --- shared helpers (used by release, dispensing, administration) -------------------------------


def resolve_preparation(conn: sqlite3.Connection, ref: object) -> dict[str, Any]:
    """A preparation by id (int or ``"#12"``) or by ordonnancier number (``"2026-000123"``)."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        row = conn.execute("SELECT * FROM preparations WHERE id = ?", (ref,)).fetchone()
        shown = f"n° interne {ref}"
    else:
        text = str(ref or "").strip()
        if text.startswith("#") and text[1:].isdigit():
            row = conn.execute("SELECT * FROM preparations WHERE id = ?", (int(text[1:]),))
            row = row.fetchone()
        else:
            row = conn.execute("SELECT * FROM preparations WHERE ord_number = ?", (text,))
            row = row.fetchone()
        shown = f"« {text} »"
    if row is None:
        raise OncoError(
            f"Préparation inconnue : {shown}",
            field="préparation",
            rule="PREPARATION_INCONNUE",
            hint="Donner le numéro d'ordonnancier imprimé sur l'étiquette (ex. 2026-000123)",
        )
    return row_dict(row)


def describe(prep: dict[str, Any]) -> str:
    """``La préparation n° 2026-000123 (OXALIPLATINE 170 mg, MARTIN Jeanne)``."""
    return (
        f"La préparation n° {prep['ord_number']} ({prep['molecule_name']} "
        f"{fr_dose(prep['dose'])} {prep['unit']}, {prep['patient_birth_name']} "
        f"{prep['patient_first_name']})"
    )


def require_state(prep: dict[str, Any], target: str) -> None:
    workflow.require_transition("preparation", prep["state"], target, describe(prep))


def set_state(conn: sqlite3.Connection, prep: dict[str, Any], target: str, at: str) -> None:
    conn.execute(
        "UPDATE preparations SET state = ?, updated_at = ? WHERE id = ?", (target, at, prep["id"])
    )


def require_live_cure(conn: sqlite3.Connection, prep: dict[str, Any]) -> None:
    """Refuse (rule CURE_ANNULEE) to move a bag of a cancelled cure forward."""
    state = conn.execute("SELECT state FROM cures WHERE id = ?", (prep["cure_id"],)).fetchone()[0]
    if state == "cancelled":
        raise OncoError(
            f"{describe(prep)} : la cure a été annulée, la poche doit être annulée",
            rule="CURE_ANNULEE",
            hint="oncosecours prepare cancel --prep " + prep["ord_number"],
        )


def lots_of(conn: sqlite3.Connection, preparation_id: int) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT kind, component, product_id, lot, expiry, quantity, opened_at, recorded_at "
            "FROM preparation_lots WHERE preparation_id = ? ORDER BY id",
            (preparation_id,),
        )
    ]


def required_components(prep: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, name) pairs the preparation's lots must cover: each vial product, the diluent."""
    needed = [("flacon", p["name"]) for p in json.loads(prep["products_json"])]
    plan = json.loads(prep["plan_json"] or "{}")
    needed += [
        ("flacon", u["product"]) for u in plan.get("leftover_used", []) if not u.get("stock_id")
    ]
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
        if not used.get("stock_id"):  # a stock leftover keeps the lot it was traced with
            vials[used["product"]] = vials.get(used["product"], 0) + 1
    return vials


def live_preparation(conn: sqlite3.Connection, line_id: int) -> dict[str, Any] | None:
    """The preparation of a line that is neither cancelled nor rejected, if any."""
    return row_dict(
        conn.execute(
            "SELECT * FROM preparations WHERE prescription_line_id = ? "
            "AND state NOT IN ('cancelled', 'rejected')",
            (line_id,),
        ).fetchone()
    )


# --- the plan ---------------------------------------------------------------------------------


def _settings(settings):
    if settings is None:
        from oncosecours.settings import load_settings

        settings = load_settings()
    return settings


def line_context(conn: sqlite3.Connection, line_id: int) -> dict[str, Any]:
    line = row_dict(
        conn.execute("SELECT * FROM prescription_lines WHERE id = ?", (line_id,)).fetchone()
    )
    if line is None:
        raise OncoError(
            f"Ligne de prescription inconnue : n° {line_id}",
            field="ligne",
            rule="LIGNE_INCONNUE",
            hint="Les lignes du jour sont listées par « oncosecours status --date AAAA-MM-JJ »",
        )
    prescription = row_dict(
        conn.execute(
            "SELECT * FROM prescriptions WHERE id = ?", (line["prescription_id"],)
        ).fetchone()
    )
    cure = row_dict(conn.execute("SELECT * FROM cures WHERE id = ?", (line["cure_id"],)).fetchone())
    patient = row_dict(
        conn.execute("SELECT * FROM patients WHERE id = ?", (cure["patient_id"],)).fetchone()
    )
    inclusion = row_dict(
        conn.execute("SELECT * FROM inclusions WHERE id = ?", (cure["inclusion_id"],)).fetchone()
    )
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
    molecule = row_dict(
        conn.execute(
            "SELECT * FROM ref_molecules WHERE molecule_id = ?", (line["molecule_id"],)
        ).fetchone()
    )
    if molecule is None:
        raise OncoError(
            f"Molécule {line['molecule_name']} (n° {line['molecule_id']}) absente du référentiel "
            "chargé : la préparation ne peut pas être calculée",
            rule="REFERENTIEL_MOLECULE",
            hint="Recharger la sauvegarde Chimio (oncosecours refresh)",
        )
    products = [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM ref_products WHERE molecule_id = ? AND inactive = 0 "
            "AND strength_mg > 0 AND coalesce(reconst_volume_ml, volume_ml) > 0 "
            "ORDER BY strength_mg DESC, product_id",
            (line["molecule_id"],),
        )
    ]
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
    settings=None,
    stock_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the fiche de fabrication needs for one line, from the snapshot (no write).

    ``stock_options`` (services.stock_plan.plan_inputs / finish_plan): ``product``
    (substitution), ``leftovers`` (chosen), ``use_leftovers``, ``tare_g`` (weighed)."""
    from oncosecours.domain.compounding import (
        MoleculeCompounding,
        VialProduct,
        plan_compounding,
    )

    settings, options = _settings(settings), dict(stock_options or {})
    molecule, products = _molecule_and_products(conn, line)
    inputs = stock_plan.plan_inputs(
        conn,
        line,
        molecule,
        products,
        at,
        settings=settings,
        product=options.get("product"),
        leftover_refs=options.get("leftovers"),
        use_leftovers=options.get("use_leftovers", True),
    )
    notes: list[str] = list(inputs.notes)
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
    for p in inputs.products:
        vial_products[p["name"]] = (
            VialProduct(p["name"], p["amount"], p["volume"], inputs.unit),
            p,
        )
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
        inputs.dose,
        [vp for vp, _ in vial_products.values()],
        spec,
        diluent=chosen_diluent,
        bag_sizes_ml=settings.stock.volumes_poches_ml,
        bag_volume_ml=bag_volume_ml if bag_volume_ml is not None else line["diluent_volume_ml"],
        leftovers=stock_plan.compounding_leftovers(inputs),
        now=at,
        tolerance_pct=tolerance_pct,
        unit=inputs.unit,
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
    finished = stock_plan.finish_plan(
        plan,
        inputs,
        settings,
        chosen_container,
        tolerance_pct,
        options.get("tare_g"),
        (spec.concentration_min_mg_ml, spec.concentration_max_mg_ml),
    )
    plan = finished["plan"]
    notes += finished["notes"]
    plan_dict = stock_plan.plan_extras(_plan_dict(plan), inputs, finished)
    plan_dict["notes"] = notes
    return {
        "inputs": inputs,
        "weights": finished["weights"],
        "bags": finished["bags"],
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


# --- prepare -------------------------------------------------------------------------------------


def _check_line(conn: sqlite3.Connection, ctx: dict[str, Any], moment: datetime) -> dict:
    line, cure, prescription, what = ctx["line"], ctx["cure"], ctx["prescription"], ctx["what"]
    if cure["state"] == "cancelled":
        raise OncoError(f"{what} : la cure est annulée", rule="CURE_ANNULEE")
    if cure["prescription_id"] != prescription["id"]:
        raise OncoError(
            f"{what} appartient à une ancienne prescription de la cure (remplacée par la "
            f"prescription n° {cure['prescription_id']})",
            rule="PRESCRIPTION_REMPLACEE",
        )
    if prescription["state"] != "validated":
        raise OncoError(
            f"{what} : prescription non validée par le pharmacien (état : {prescription['state']})",
            rule="PRESCRIPTION_NON_VALIDEE",
        )
    if not needs_preparation(line["line_type"], line["route"], line["molecule_id"]):
        raise OncoError(
            f"{what} n'est pas préparée par la pharmacie (ligne de support, rinçage ou voie orale)",
            rule="LIGNE_NON_PREPAREE",
        )
    if is_vinca_alkaloid(line["molecule_name"]) and not is_intravenous(line["route"]):
        route = (line["route"] or "").strip()
        raise OncoError(
            f"{what} : vinca-alcaloïde par "
            + (f"voie « {route} »" if route else "une voie non renseignée")
            + " : préparation refusée, un vinca-alcaloïde ne se prépare que pour la voie "
            "intraveineuse (mini-poche, jamais de seringue ; mortel par une autre voie)",
            rule="VINCA_VOIE_NON_IV",
            hint="Faire corriger la prescription (voie IV) : aucune justification ne lève cette règle",
        )
    from oncosecours.services.patients import refuse_deceased

    refuse_deceased(conn, ctx["patient"], "préparation")
    decision = day_decision(conn, cure["id"], line["admin_date"])
    if decision is None or decision["decision"] != "given":
        detail = (
            "aucun feu vert donné"
            if decision is None
            else f"feu vert refusé par {decision['decided_by_initials']} : {decision['reason']}"
        )
        raise OncoError(
            f"{what} : pas de préparation sans feu vert du prescripteur ({detail})",
            rule="FEU_VERT_ABSENT",
        )
    if line["admin_date"] != moment.date().isoformat():
        raise OncoError(
            f"{what} est prévue le {date.fromisoformat(line['admin_date']):%d/%m/%Y}, pas "
            f"aujourd'hui ({moment:%d/%m/%Y})",
            rule="PREPARATION_JOUR",
        )
    existing = live_preparation(conn, line["id"])
    if existing is not None:
        raise OncoError(
            f"{what} est déjà préparée sous le n° {existing['ord_number']} "
            f"({workflow.label('preparation', existing['state'])}, par "
            f"{existing['prepared_by_initials']} le "
            f"{fr_datetime(datetime.fromisoformat(existing['prepared_at']))})",
            rule="PREPARATION_DOUBLE",
        )
    return decision


def _parse_lots(lots) -> list[Lot]:
    return [parse_lot(raw, i) for i, raw in enumerate(lots or [])]


def _insert_lots(
    conn: sqlite3.Connection, preparation_id: int, lots: list[Lot], actor: Actor, at: str
) -> None:
    for lot in lots:
        conn.execute(
            "INSERT INTO preparation_lots (preparation_id, kind, component, product_id, lot, "
            "expiry, quantity, opened_at, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                preparation_id,
                lot.kind,
                lot.component,
                lot.product_id,
                lot.lot,
                lot.expiry.isoformat(),
                lot.quantity,
                iso(lot.opened_at) if lot.opened_at else None,
                actor.id,
                at,
            ),
        )


def preparation_identity(ctx: dict[str, Any], decision: dict[str, Any], number) -> dict[str, Any]:
    """The columns of a preparation that copy its line, patient, prescription and number (the
    rest is the compounding; shared with services.banded)."""
    line, prescription, cure, patient = (
        ctx["line"],
        ctx["prescription"],
        ctx["cure"],
        ctx["patient"],
    )
    return {
        "ord_scope": number.scope,
        "ord_seq": number.seq,
        "ord_year": number.year,
        "ord_number": number.number,
        "prescription_line_id": line["id"],
        "prescription_id": prescription["id"],
        "cure_id": cure["id"],
        "patient_id": patient["id"],
        "go_ahead_id": decision["id"],
        "patient_ipp": patient["ipp"],
        "patient_birth_name": patient["birth_name"],
        "patient_usual_name": patient["usual_name"],
        "patient_first_name": patient["first_name"],
        "patient_birth_date": patient["birth_date"],
        "patient_sex": patient["sex"],
        "patient_ward": patient["ward"],
        "patient_weight_kg": prescription["weight_kg"],
        "patient_height_cm": prescription["height_cm"],
        "patient_bsa_m2": prescription["bsa_m2"],
        "prescriber_name": prescription["prescriber_name"],
        "prescribed_at": prescription["prescribed_at"],
        "protocol_name": ctx["inclusion"]["protocol_name"],
        "cycle": cure["cycle"],
        "day": line["day"],
        "admin_date": line["admin_date"],
        "line_no": line["line_no"],
        "molecule_id": line["molecule_id"],
        "molecule_name": line["molecule_name"],
        "dose": line["dose"],
        "unit": line["unit"],
        "route": line["route"],
        "duration_min": line["duration_min"],
        "les_code": line["les_code"],
    }


def insert_preparation(conn: sqlite3.Connection, values: dict[str, Any]) -> int:
    cur = conn.execute(
        f"INSERT INTO preparations ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    return int(cur.lastrowid)


def prepare(
    conn: sqlite3.Connection,
    actor: Actor,
    line_id: int,
    *,
    lots=None,
    diluent: str | None = None,
    bag_volume_ml: float | None = None,
    container: str | None = None,
    stability_h: float | None = None,
    stability_justification: str | None = None,
    settings=None,
    now: datetime | None = None,
    product: object = None,
    leftovers: list[object] | None = None,
    use_leftovers: bool = True,
    tare_g: float | None = None,
) -> dict[str, Any]:
    """Prepare one line: ordonnancier number, fiche data, use-by, lots (optional here).

    Stock (services.stock_plan): ``product`` another presentation of the same molecule
    (substitution, traced); ``leftovers`` the stock leftovers chosen (else proposed unless
    ``use_leftovers`` is False); ``tare_g`` the container weighed (else the settings' tare).

    ``lots``: mappings or :class:`~oncosecours.domain.production.Lot` (vials and diluent); may be
    given later with :func:`record_lots`, but before control. Each product's lot quantities must
    add up to the vials the plan opens (a single lot without quantity takes that number). ``stability_h`` overrides a missing
    or different stability after dilution (``stability_justification`` mandatory).
    ``diluent``/``bag_volume_ml``/``container`` override the line's. Returns the fiche dict.
    """
    settings = _settings(settings)
    production = settings.production
    parsed_lots = _parse_lots(lots)
    justification = optional_text(stability_justification)
    if stability_h is not None and not justification:
        raise OncoError(
            "Une stabilité saisie à la main doit être justifiée (source, ex. RCP, Stabilis)",
            field="justification",
            rule="STABILITE",
        )
    with action(conn, actor, "préparer", PREPARE_ROLES, "préparer une poche") as act:
        moment = now_or(now)
        at = iso(moment)
        ctx = line_context(conn, line_id)
        decision = _check_line(conn, ctx, moment)
        line = ctx["line"]
        computed = compute_plan(
            conn,
            line,
            at=moment,
            tolerance_pct=production.tolerance_gravimetrique_pct,
            diluent=diluent,
            bag_volume_ml=bag_volume_ml,
            container=container,
            settings=settings,
            stock_options={
                "product": product,
                "leftovers": leftovers,
                "use_leftovers": use_leftovers,
                "tare_g": tare_g,
            },
        )
        plan, molecule = computed["plan"], computed["molecule"]
        weights = computed["weights"]
        blocking = [f for f in plan.findings if f.blocking]
        if blocking:
            raise OncoError(
                f"{ctx['what']} : préparation impossible telle que calculée : "
                + " ; ".join(f.message for f in blocking),
                rule=",".join(dict.fromkeys(f.rule for f in blocking)),
                hint="Changer le volume de la poche ou le diluant, ou revoir la prescription",
            )
        stability = stability_h if stability_h is not None else molecule["stability_diluted_h"]
        use_by = compute_use_by(
            moment,
            stability,
            [
                (f"reliquat {u.label}", u.expires_at)
                for u in plan.leftover_used
                if u.expires_at is not None
            ]
            + leftover_limits(parsed_lots, molecule["stability_reconst_h"], molecule["name"]),
            molecule=molecule["name"],
        )
        prep_view = {
            "products_json": json.dumps(computed["products"]),
            "plan_json": json.dumps(computed["plan_dict"]),
            "diluent": computed["diluent"],
        }
        if parsed_lots:
            parsed_lots = check_lots(
                parsed_lots,
                required_components(prep_view),
                moment,
                use_by.at,
                required_vials(prep_view),
            )
        number = ordonnancier.allocate(
            conn, moment, production.format_ordonnancier, production.remise_a_zero_annuelle
        )
        values = preparation_identity(ctx, decision, number)
        values |= {
            "products_json": prep_view["products_json"],
            "drug_volume_ml": plan.draw_volume_ml,
            "diluent": plan.diluent,
            "diluent_volume_ml": plan.bag_volume_ml,
            "container": computed["container"],
            "final_volume_ml": plan.final_volume_ml,
            "final_conc_mg_ml": plan.final_concentration_mg_ml,
            "light_protect": int(bool(molecule["light_protect"])),
            "filter_um": molecule["filter_um"],
            "storage": molecule["storage"],
            "density": plan.drug_density_g_ml,
            "stability_h": stability,
            "stability_source": "saisie" if stability_h is not None else "référentiel",
            "stability_justification": justification,
            "target_weight_g": weights.gross_g,
            "weight_min_g": weights.min_g,
            "weight_max_g": weights.max_g,
            "tolerance_pct": production.tolerance_gravimetrique_pct,
            "tare_g": weights.tare_g,
            "tare_source": weights.tare_source,
            "net_weight_g": weights.net_g,
            "bags_json": json.dumps(computed["bags"]),
            "plan_json": prep_view["plan_json"],
            "findings_json": json.dumps(
                [f.to_dict() for f in plan.findings]
                + [
                    {"regle": "NOTE", "gravite": "information", "message": n, "valeurs": {}}
                    for n in computed["notes"]
                ],
                ensure_ascii=False,
            ),
            "snapshot_backup_date": _backup_date(conn),
            "prepared_by": actor.id,
            "prepared_by_initials": actor.initials,
            "prepared_by_name": actor.name,
            "prepared_at": at,
            "use_by": iso(use_by.at),
            "use_by_reason": use_by.reason,
        }
        preparation_id = insert_preparation(conn, values)
        _insert_lots(conn, preparation_id, parsed_lots, actor, at)
        stock = stock_plan.apply_to_stock(
            conn, act, preparation_id, computed, parsed_lots, moment, settings
        )
        act.record(
            "préparation",
            preparation_id,
            None,
            {
                "numéro": number.number,
                "ligne": line["id"],
                "molécule": line["molecule_name"],
                "dose": line["dose"],
                "unité": line["unit"],
                "flacons": computed["products"],
                "diluant": plan.diluent,
                "volume_final_ml": plan.final_volume_ml,
                "date_limite": iso(use_by.at),
                "lots": [lot.as_dict() for lot in parsed_lots],
                "poids_cible_g": weights.gross_g,
                "tare_g": weights.tare_g,
                "poches": len(computed["bags"]) or 1,
                "substitution": computed["inputs"].substitution,
                "stock": stock,
            },
        )
    return preparation_sheet(conn, preparation_id)


def _backup_date(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT backup_date FROM snapshot_meta WHERE id = 1").fetchone()
    return row[0] if row else None


def record_lots(
    conn: sqlite3.Connection,
    actor: Actor,
    preparation: object,
    lots,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record (or replace, before control) the lots of a preparation; they are checked against
    the use-by time, which an opened leftover vial may shorten, and against the vials the plan
    opens (rule LOT_QUANTITE: a product's lots add up to its vials; a single lot typed without
    quantity takes that number, see :func:`required_vials`)."""
    parsed = _parse_lots(lots)
    with action(
        conn, actor, "saisir_lots", PREPARE_ROLES, "saisir les lots d'une préparation"
    ) as act:
        moment = now_or(now)
        prep = resolve_preparation(conn, preparation)
        if prep["state"] != "prepared":
            raise OncoError(
                f"{describe(prep)} est « {workflow.label('preparation', prep['state'])} » : "
                "entrée validée de l'ordonnancier, ses lots ne se modifient plus",
                rule="ORDONNANCIER_VALIDE",
            )
        molecule = row_dict(
            conn.execute(
                "SELECT stability_reconst_h FROM ref_molecules WHERE molecule_id = ?",
                (prep["molecule_id"],),
            ).fetchone()
        )
        reconst_h = molecule["stability_reconst_h"] if molecule else None
        prepared_at = datetime.fromisoformat(prep["prepared_at"])
        components = leftover_limits(parsed, reconst_h, prep["molecule_name"])
        current_use_by = datetime.fromisoformat(prep["use_by"])
        use_by = compute_use_by(
            prepared_at,
            prep["stability_h"],
            [("date limite déjà calculée", current_use_by)] + components,
            molecule=prep["molecule_name"],
        )
        if use_by.at == current_use_by:
            use_by = type(use_by)(current_use_by, prep["use_by_reason"])
        parsed = check_lots(
            parsed, required_components(prep), prepared_at, use_by.at, required_vials(prep)
        )
        before = lots_of(conn, prep["id"])
        at = iso(moment)
        conn.execute("DELETE FROM preparation_lots WHERE preparation_id = ?", (prep["id"],))
        _insert_lots(conn, prep["id"], parsed, actor, at)
        stock_plan.trace_leftover_lots(conn, prep["id"], parsed)
        if use_by.at != current_use_by:
            conn.execute(
                "UPDATE preparations SET use_by = ?, use_by_reason = ?, updated_at = ? "
                "WHERE id = ?",
                (iso(use_by.at), use_by.reason, at, prep["id"]),
            )
        act.record(
            "préparation",
            prep["id"],
            {"lots": before, "date_limite": prep["use_by"]},
            {"lots": [lot.as_dict() for lot in parsed], "date_limite": iso(use_by.at)},
        )
    return preparation_sheet(conn, prep["id"])


def cancel_preparation(
    conn: sqlite3.Connection,
    actor: Actor,
    preparation: object,
    reason: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Cancel a preparation (broken bag, patient not treated...): it keeps its number, marked
    cancelled; the line may then be prepared again under a new number. A released bag may only
    be cancelled by a pharmacist."""
    reason = required_reason(reason, "de l'annulation")
    with action(conn, actor, "annuler_préparation", CANCEL_ROLES, "annuler une préparation") as act:
        at = iso(now_or(now))
        prep = resolve_preparation(conn, preparation)
        require_state(prep, "cancelled")
        if prep["state"] == "released" and actor.role != "pharmacien":
            raise OncoError(
                f"{describe(prep)} est libérée : seul un pharmacien peut l'annuler",
                rule="ROLE",
            )
        conn.execute(
            "UPDATE preparations SET state = 'cancelled', cancelled_at = ?, cancelled_by = ?, "
            "cancelled_by_initials = ?, cancel_reason = ?, updated_at = ? WHERE id = ?",
            (at, actor.id, actor.initials, reason, at, prep["id"]),
        )
        act.record(
            "préparation",
            prep["id"],
            {"état": prep["state"]},
            {"état": "cancelled", "motif": reason, "numéro": prep["ord_number"]},
        )
    return preparation_sheet(conn, prep["id"])


# --- reads for the documents ------------------------------------------------------------------


def _one(conn: sqlite3.Connection, sql: str, key: int) -> dict | None:
    return row_dict(conn.execute(sql, (key,)).fetchone())


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
    sheet["reliquat_cree"] = stock_plan.leftover_created_text(conn, prep["id"])
    sheet["control"] = _one(
        conn, "SELECT * FROM preparation_controls WHERE preparation_id = ?", prep["id"]
    )
    sheet["release"] = _one(
        conn, "SELECT * FROM preparation_releases WHERE preparation_id = ?", prep["id"]
    )
    sheet["dispensation"] = _one(
        conn, "SELECT * FROM dispensations WHERE preparation_id = ?", prep["id"]
    )
    administration = _one(
        conn, "SELECT * FROM administrations WHERE preparation_id = ?", prep["id"]
    )
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


ORDER_BY = {
    "date": "p.id",
    "patient": "p.patient_birth_name COLLATE NOCASE, p.patient_first_name COLLATE NOCASE, "
    "p.patient_birth_date, p.id",
    "drug": "p.molecule_name COLLATE NOCASE, p.id",
}


def ordonnancier_rows(
    conn: sqlite3.Connection,
    date_from: str | date,
    date_to: str | date,
    order_by: str = "date",
) -> list[dict[str, Any]]:
    """The register between two dates (of preparation, inclusive), sorted by date (number order),
    patient or drug. Cancelled entries are kept, marked ``cancelled``."""
    if order_by not in ORDER_BY:
        raise OncoError(f"Tri inconnu : {order_by!r} (attendu date, patient ou drug)", field="tri")
    start = parse_date(date_from, "du").isoformat()
    end = parse_date(date_to, "au").isoformat()
    if end < start:
        raise OncoError(f"Période vide : du {start} au {end}", field="au")
    rows = conn.execute(
        "SELECT p.*, r.pharmacist_initials AS released_by, r.decided_at AS released_at, "
        "r.decision AS release_decision, c.controlled_by_initials AS controlled_by, "
        "c.measured_weight_g, c.in_tolerance "
        "FROM preparations p "
        "LEFT JOIN preparation_releases r ON r.preparation_id = p.id "
        "LEFT JOIN preparation_controls c ON c.preparation_id = p.id "
        "WHERE p.prepared_at >= ? AND p.prepared_at < ? "
        f"ORDER BY {ORDER_BY[order_by]}",
        (start, (parse_date(end, "au") + timedelta(days=1)).isoformat()),
    ).fetchall()
    lots_by_prep: dict[int, list[dict]] = {}
    if rows:
        ids = [r["id"] for r in rows]
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            for lot in conn.execute(
                "SELECT preparation_id, kind, component, lot, expiry, quantity "
                f"FROM preparation_lots WHERE preparation_id IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY id",
                chunk,
            ):
                lots_by_prep.setdefault(lot["preparation_id"], []).append(dict(lot))
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


def preview(
    conn: sqlite3.Connection,
    line_id: int,
    *,
    settings=None,
    now: datetime | None = None,
    stock_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The plan of a line before preparation (pre-fiche, no number, nothing written)."""
    settings = _settings(settings)
    moment = now_or(now)
    ctx = line_context(conn, line_id)
    computed = compute_plan(
        conn,
        ctx["line"],
        at=moment,
        tolerance_pct=settings.production.tolerance_gravimetrique_pct,
        settings=settings,
        stock_options=stock_options,
    )
    weights = computed["weights"]
    return {
        "weights": weights.as_dict(),
        "bags": computed["bags"],
        "line": ctx["line"],
        "patient": patient_label(ctx["patient"]),
        "products": computed["products"],
        "plan": computed["plan_dict"],
        "diluent": computed["diluent"],
        "container": computed["container"],
        "notes": computed["notes"],
    }
