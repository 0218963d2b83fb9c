"""Dose-banded batches: bags prepared ahead for a dose band, assigned to a patient later.

As in the NHS dose-banding practice, a unit prepares in advance ``n`` identical bags of a
standard dose (e.g. paclitaxel 300 mg), traced as one batch (vials for the whole batch, lots,
use-by, gravimetric target of one bag). When a patient's line is prescribed at exactly that
dose (after banding), :func:`assign_bag` gives one bag of the batch to that line: this is when
the bag enters the ordonnancier, with its OWN number drawn at that moment (so the register stays
gapless and chronological) and the patient's identity; the bag then goes through control,
release and dispensing like any preparation. A line at another dose, of another molecule, or a
batch past its use-by is refused, and nothing is written.
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import datetime
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num
from oncosecours.domain.production import check_lots, compute_use_by, fr_datetime, iso
from oncosecours.domain.units import convert, normalise_unit, preparation_unit
from oncosecours.services.core import Actor, action
from oncosecours.services.go_ahead import now_or
from oncosecours.store import stock as store

BATCH_ROLES = ("préparateur", "pharmacien")
MAX_BAGS = 50


def _settings(settings):
    if settings is None:
        from oncosecours.settings import load_settings

        settings = load_settings()
    return settings


def make_batch(
    conn: sqlite3.Connection,
    actor: Actor,
    molecule_id: int,
    band_dose: float,
    unit: str,
    bags: int,
    *,
    lots,
    diluent: str | None = None,
    bag_volume_ml: float | None = None,
    container: str | None = None,
    settings=None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Prepare ``bags`` bags of ``band_dose`` ``unit`` of a molecule (lots mandatory)."""
    from oncosecours.domain.compounding import MoleculeCompounding, VialProduct, plan_compounding
    from oncosecours.domain.production import parse_lot
    from oncosecours.domain.tare import container_tare, gross_target
    from oncosecours.domain.units import base_unit, vial_unit
    from oncosecours.store.circuit import json_list

    settings = _settings(settings)
    if isinstance(bags, bool) or not isinstance(bags, int) or not 1 <= bags <= MAX_BAGS:
        raise OncoError(f"Nombre de poches impossible : {bags!r} (1 à {MAX_BAGS})", field="poches")
    if isinstance(band_dose, bool) or not isinstance(band_dose, (int, float)) or not band_dose > 0:
        raise OncoError(f"Dose de la bande impossible : {band_dose!r}", field="dose")
    parsed = [parse_lot(raw, i) for i, raw in enumerate(lots or [])]
    with action(conn, actor, "préparer_lot_standardisé", BATCH_ROLES, "préparer un lot") as act:
        moment = now_or(now)
        molecule = store.molecule(conn, molecule_id)
        if molecule is None:
            raise OncoError(f"Molécule n° {molecule_id} absente du référentiel", field="molécule")
        dose_unit = preparation_unit(unit, None, molecule["name"])
        plan_unit = base_unit(dose_unit)
        dose = convert(band_dose, dose_unit, plan_unit).converted
        products = []
        for ref in store.products_of(conn, molecule_id):
            strength_unit, _ = vial_unit(
                ref["name"], ref["strength_mg"], ref.get("unit"), dose_unit
            )
            amount = convert(ref["strength_mg"], strength_unit, plan_unit).converted
            volume = ref["reconst_volume_ml"] or ref["volume_ml"]
            products.append((VialProduct(ref["name"], amount, volume, plan_unit), ref))
        if not products:
            raise OncoError(
                f"Aucun flacon de {molecule['name']} dans le référentiel", field="flacons"
            )
        concentrations = {round(vp.concentration_mg_ml, 9) for vp, _ in products}
        if len(concentrations) > 1:
            raise OncoError(
                f"{molecule['name']} : présentations de concentrations différentes, un lot "
                "standardisé ne se prépare qu'avec une seule concentration",
                rule="BANDE_CONCENTRATION",
            )
        diluents = json_list(molecule["diluents_json"])
        chosen_diluent = diluent or (diluents[0] if diluents else None)
        spec = MoleculeCompounding(
            name=molecule["name"],
            concentration_min_mg_ml=molecule["conc_min_mg_ml"],
            concentration_max_mg_ml=molecule["conc_max_mg_ml"],
            density_g_ml=molecule["density"] or 1.0,
            diluents=tuple(diluents),
        )
        vials = [vp for vp, _ in products]
        one = plan_compounding(
            dose,
            vials,
            spec,
            diluent=chosen_diluent,
            bag_sizes_ml=settings.stock.volumes_poches_ml,
            bag_volume_ml=bag_volume_ml,
            now=moment,
            tolerance_pct=settings.production.tolerance_gravimetrique_pct,
            unit=plan_unit,
        )
        blocking = [f for f in one.findings if f.blocking]
        if blocking:
            raise OncoError(
                "Lot standardisé impossible : " + " ; ".join(f.message for f in blocking),
                rule=",".join(f.rule for f in blocking),
            )
        whole = plan_compounding(dose * bags, vials, spec, diluent=None, now=moment, unit=plan_unit)
        by_name = {vp.name: ref for vp, ref in products}
        vial_rows = [
            {
                "name": use.product,
                "product_id": by_name[use.product]["product_id"],
                "strength_mg": use.strength_mg,
                "volume_ml": use.volume_ml,
                "count": use.count,
                "volume_to_draw_ml": use.volume_to_draw_ml,
                "concentration_mg_ml": use.strength_mg / use.volume_ml,
            }
            for use in whole.vials
        ]
        use_by = compute_use_by(moment, molecule["stability_diluted_h"], molecule=molecule["name"])
        required = [("flacon", v["name"]) for v in vial_rows]
        if chosen_diluent:
            required.append(("diluant", chosen_diluent))
        parsed = check_lots(
            parsed, required, moment, use_by.at, {v["name"]: v["count"] for v in vial_rows}
        )
        chosen_container = container or (json_list(molecule["containers_json"]) or [None])[0]
        tare = container_tare(
            chosen_container, one.bag_volume_ml, settings.stock.tares_contenants_g
        )
        weights = gross_target(
            one.target_weight_g, tare, settings.production.tolerance_gravimetrique_pct
        )
        at = iso(moment)
        batch_id = store.insert_batch(
            conn,
            {
                "molecule_id": molecule_id,
                "molecule_name": molecule["name"],
                "band_dose": float(band_dose),
                "unit": dose_unit,
                "bag_count": bags,
                "products_json": json.dumps(vial_rows),
                "plan_json": json.dumps({"unit": plan_unit, "dose_mg": dose}),
                "lots_json": json.dumps([lot.as_dict() for lot in parsed]),
                "diluent": chosen_diluent,
                "diluent_volume_ml": one.bag_volume_ml,
                "drug_volume_ml": one.draw_volume_ml,
                "final_volume_ml": one.final_volume_ml,
                "final_conc_mg_ml": one.final_concentration_mg_ml,
                "container": chosen_container,
                "light_protect": int(bool(molecule["light_protect"])),
                "filter_um": molecule["filter_um"],
                "storage": molecule["storage"],
                "density": one.drug_density_g_ml,
                "stability_h": molecule["stability_diluted_h"],
                "target_weight_g": weights.gross_g,
                "weight_min_g": weights.min_g,
                "weight_max_g": weights.max_g,
                "tolerance_pct": settings.production.tolerance_gravimetrique_pct,
                "tare_g": weights.tare_g,
                "tare_source": weights.tare_source,
                "net_weight_g": weights.net_g,
                "use_by": iso(use_by.at),
                "use_by_reason": use_by.reason,
                "prepared_by": actor.id,
                "prepared_by_initials": actor.initials,
                "prepared_by_name": actor.name,
                "prepared_at": at,
            },
        )
        for number in range(1, bags + 1):
            store.insert_bag(conn, batch_id, number)
        act.record(
            "lot_standardisé",
            batch_id,
            None,
            {
                "molécule": molecule["name"],
                "dose": band_dose,
                "unité": dose_unit,
                "poches": bags,
                "flacons": vial_rows,
                "lots": [lot.as_dict() for lot in parsed],
                "date_limite": iso(use_by.at),
            },
        )
    return batch_view(conn, batch_id)


def batch_view(conn: sqlite3.Connection, batch_id: int) -> dict[str, Any]:
    batch = store.batch(conn, batch_id)
    if batch is None:
        raise OncoError(
            f"Lot standardisé n° {batch_id} inconnu", field="lot", rule="BANDE_INCONNUE"
        )
    batch["bags"] = store.bags_of(conn, batch_id)
    batch["products"] = json.loads(batch["products_json"])
    batch["lots"] = json.loads(batch["lots_json"])
    return batch


def assign_bag(
    conn: sqlite3.Connection,
    actor: Actor,
    batch_id: int,
    line_id: int,
    *,
    settings=None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Give the next available bag of a batch to a patient's line: the preparation is recorded
    (own ordonnancier number, now), with the batch's lots; then control/release as usual."""
    from oncosecours.services import preparation as prep_service
    from oncosecours.services.preparation_plan import line_context, preparation_identity
    from oncosecours.store import ordonnancier
    from oncosecours.store import preparations as prep_store

    settings = _settings(settings)
    production = settings.production
    with action(conn, actor, "attribuer_poche", BATCH_ROLES, "attribuer une poche") as act:
        moment = now_or(now)
        at = iso(moment)
        batch = batch_view(conn, batch_id)
        ctx = line_context(conn, line_id)
        decision = prep_service._check_line(conn, ctx, moment)
        line = ctx["line"]
        what = ctx["what"]
        label = f"lot standardisé n° {batch_id} ({batch['molecule_name']} {fr_num(batch['band_dose'], 3)} {batch['unit']})"
        if line["molecule_id"] != batch["molecule_id"]:
            raise OncoError(f"{what} : {label} d'une autre molécule", rule="BANDE_MOLECULE")
        line_unit = normalise_unit(line["unit"])
        try:
            prescribed = convert(
                line["dose"], line_unit or str(line["unit"]), batch["unit"]
            ).converted
        except OncoError:
            prescribed = math.nan
        if not abs(prescribed - batch["band_dose"]) <= 1e-9 * max(1.0, batch["band_dose"]):
            raise OncoError(
                f"{what} : dose prescrite {fr_num(line['dose'], 3)} {line['unit']} différente de "
                f"la dose du {label} : une poche standardisée ne s'attribue qu'à la dose de sa bande",
                rule="BANDE_DOSE",
            )
        use_by = datetime.fromisoformat(batch["use_by"])
        if not moment < use_by:
            raise OncoError(f"{label} périmé depuis le {fr_datetime(use_by)}", rule="BANDE_PERIMEE")
        free = [bag for bag in batch["bags"] if bag["state"] == "available"]
        if not free:
            raise OncoError(f"{label} : plus aucune poche disponible", rule="BANDE_EPUISEE")
        bag = free[0]
        number = ordonnancier.allocate(
            conn, moment, production.format_ordonnancier, production.remise_a_zero_annuelle
        )
        origin = (
            f"Poche {bag['bag_no']}/{batch['bag_count']} du {label}, préparée le "
            f"{fr_datetime(datetime.fromisoformat(batch['prepared_at']))} par "
            f"{batch['prepared_by_initials']}, attribuée le {fr_datetime(moment)} par "
            f"{actor.initials}"
        )
        values = preparation_identity(ctx, decision, number)
        values.update(
            {
                "products_json": "[]",
                "drug_volume_ml": batch["drug_volume_ml"],
                "diluent": batch["diluent"],
                "diluent_volume_ml": batch["diluent_volume_ml"],
                "container": batch["container"],
                "final_volume_ml": batch["final_volume_ml"],
                "final_conc_mg_ml": batch["final_conc_mg_ml"],
                "light_protect": batch["light_protect"],
                "filter_um": batch["filter_um"],
                "storage": batch["storage"],
                "density": batch["density"],
                "stability_h": batch["stability_h"],
                "stability_source": "référentiel",
                "target_weight_g": batch["target_weight_g"],
                "weight_min_g": batch["weight_min_g"],
                "weight_max_g": batch["weight_max_g"],
                "tolerance_pct": batch["tolerance_pct"],
                "tare_g": batch["tare_g"],
                "tare_source": batch["tare_source"],
                "net_weight_g": batch["net_weight_g"],
                "plan_json": json.dumps(
                    {
                        **json.loads(batch["plan_json"]),
                        "lot_standardise": {"id": batch_id, "poche": bag["bag_no"]},
                        "vials_of_batch": batch["products"],
                    }
                ),
                "findings_json": json.dumps(
                    [{"regle": "NOTE", "gravite": "information", "message": origin, "valeurs": {}}],
                    ensure_ascii=False,
                ),
                "prepared_by": batch["prepared_by"],
                "prepared_by_initials": batch["prepared_by_initials"],
                "prepared_by_name": batch["prepared_by_name"],
                "prepared_at": at,
                "use_by": batch["use_by"],
                "use_by_reason": batch["use_by_reason"],
                "banded_bag_id": bag["id"],
                "snapshot_backup_date": prep_service._backup_date(conn),
            }
        )
        preparation_id = prep_store.insert(conn, values)
        for lot in batch["lots"]:
            store.insert_batch_lot(conn, preparation_id, lot, actor.id, at)
        store.assign_bag(conn, bag["id"], preparation_id, actor.id, at)
        act.record(
            "préparation",
            preparation_id,
            None,
            {
                "numéro": number.number,
                "ligne": line["id"],
                "lot_standardisé": batch_id,
                "poche": bag["bag_no"],
                "dose": line["dose"],
                "unité": line["unit"],
            },
        )
    return prep_service.preparation_sheet(conn, preparation_id)
