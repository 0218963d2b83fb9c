"""The preparation actions: prepare a line, record its lots, cancel a preparation.

``prepare`` runs in ONE ``BEGIN IMMEDIATE`` transaction: it re-reads the line, its cure and the
day's go-ahead, computes the compounding plan (:mod:`oncosecours.services.preparation_plan`), the
use-by time, checks the lots when given, draws the next ordonnancier number and inserts the
preparation, its lots and the audit event. Whatever refuses rolls everything back, number
included: committed numbers have no gap.

Each action returns the fiche dict of :func:`oncosecours.services.preparation_queries.preparation_sheet`.
The guards shared by the later steps of the circuit (release, dispensing, administration) are
here too: :func:`describe`, :func:`require_state`, :func:`set_state`, :func:`require_live_cure`.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from typing import Any

from oncosecours.domain import workflow
from oncosecours.domain.display import fr_dose
from oncosecours.domain.errors import OncoError
from oncosecours.domain.production import (
    Lot,
    check_lots,
    compute_use_by,
    fr_datetime,
    is_intravenous,
    is_vinca_alkaloid,
    iso,
    leftover_limits,
    needs_preparation,
    parse_lot,
)
from oncosecours.services.core import Action, Actor, action, optional_text, required_reason
from oncosecours.services.go_ahead import day_decision, now_or
from oncosecours.services.preparation_plan import (
    compute_plan,
    line_context,
    required_components,
    required_vials,
    settings_or_loaded,
)
from oncosecours.services.preparation_queries import (
    ordonnancier_rows,  # noqa: F401  (read by documents/context.py through this module)
    preparation_sheet,
)
from oncosecours.store import ordonnancier
from oncosecours.store import preparations as store
from oncosecours.store.circuit import cure_by_id, snapshot_meta
from oncosecours.store.circuit import molecule as molecule_by_id
from oncosecours.store.preparations import lots_of, resolve_preparation
from oncosecours.store.rows import Signed

PREPARE_ROLES = ("préparateur", "pharmacien")
CANCEL_ROLES = ("préparateur", "pharmacien")


# --- shared guards (used by release, dispensing, administration) --------------------------------


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
    store.set_state(conn, prep["id"], target, at)


def require_live_cure(conn: sqlite3.Connection, prep: dict[str, Any]) -> None:
    """Refuse (rule CURE_ANNULEE) to move a bag of a cancelled cure forward."""
    if cure_by_id(conn, prep["cure_id"])["state"] == "cancelled":
        raise OncoError(
            f"{describe(prep)} : la cure a été annulée, la poche doit être annulée",
            rule="CURE_ANNULEE",
            hint="oncosecours prepare cancel --prep " + prep["ord_number"],
        )


def live_preparation(conn: sqlite3.Connection, line_id: int) -> dict[str, Any] | None:
    """The preparation of a line that is neither cancelled nor rejected, if any."""
    return store.live_for_line(conn, line_id)


def cancel_bag(act: Action, prep: dict[str, Any], reason: str, at: str) -> None:
    """Mark one bag cancelled (it keeps its number) and append its audit event, inside the open
    action: the one way a preparation is cancelled, alone or with its cure."""
    actor = act.actor
    store.mark_cancelled(act.conn, prep["id"], Signed(actor.id, actor.initials, reason, at))
    act.record(
        "préparation",
        prep["id"],
        {"état": prep["state"]},
        {"état": "cancelled", "motif": reason, "numéro": prep["ord_number"]},
    )


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
    store.insert_lots(
        conn,
        (
            {
                "preparation_id": preparation_id,
                "kind": lot.kind,
                "component": lot.component,
                "product_id": lot.product_id,
                "lot": lot.lot,
                "expiry": lot.expiry.isoformat(),
                "quantity": lot.quantity,
                "opened_at": iso(lot.opened_at) if lot.opened_at else None,
                "recorded_by": actor.id,
                "recorded_at": at,
            }
            for lot in lots
        ),
    )


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
) -> dict[str, Any]:
    """Prepare one line: ordonnancier number, fiche data, use-by, lots (optional here).

    ``lots``: mappings or :class:`~oncosecours.domain.production.Lot` (vials and diluent); may be
    given later with :func:`record_lots`, but before control. Each product's lot quantities must
    add up to the vials the plan opens (a single lot without quantity takes that number). ``stability_h`` overrides a missing
    or different stability after dilution (``stability_justification`` mandatory).
    ``diluent``/``bag_volume_ml``/``container`` override the line's. Returns the fiche dict.
    """
    settings = settings_or_loaded(settings)
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
        line, prescription, cure, patient = (
            ctx["line"],
            ctx["prescription"],
            ctx["cure"],
            ctx["patient"],
        )
        computed = compute_plan(
            conn,
            line,
            at=moment,
            tolerance_pct=production.tolerance_gravimetrique_pct,
            diluent=diluent,
            bag_volume_ml=bag_volume_ml,
            container=container,
        )
        plan, molecule = computed["plan"], computed["molecule"]
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
        values = {
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
            "target_weight_g": plan.target_weight_g,
            "weight_min_g": plan.weight_min_g,
            "weight_max_g": plan.weight_max_g,
            "tolerance_pct": production.tolerance_gravimetrique_pct,
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
        preparation_id = store.insert(conn, values)
        _insert_lots(conn, preparation_id, parsed_lots, actor, at)
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
            },
        )
    return preparation_sheet(conn, preparation_id)


def _backup_date(conn: sqlite3.Connection) -> str | None:
    meta = snapshot_meta(conn)
    return meta["backup_date"] if meta else None


# --- lots and cancellation -------------------------------------------------------------------


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
        molecule = molecule_by_id(conn, prep["molecule_id"])
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
        store.delete_lots(conn, prep["id"])
        _insert_lots(conn, prep["id"], parsed, actor, at)
        if use_by.at != current_use_by:
            store.set_use_by(conn, prep["id"], iso(use_by.at), use_by.reason, at)
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
        cancel_bag(act, prep, reason, at)
    return preparation_sheet(conn, prep["id"])
