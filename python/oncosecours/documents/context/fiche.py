"""Fiche de fabrication and label: a preparation record -> the fields of the template.

A "preparation record" is what the store holds for one bag, as plain dicts:
  {"preparation": row of `preparations`, "line": row of `prescription_lines` or None,
   "prescription": row of `prescriptions` or None, "validation": {"pharmacist_name",
   "decided_at"} or None, "lots": rows of `preparation_lots`, "control": row of
   `preparation_controls` (+ "controller_name") or None, "release": row of
   `preparation_releases` or None, "molecule": row of `ref_molecules` or None}
The samples build the same records, so samples and store go through the same mapping; the
store's records come from :mod:`oncosecours.services.document_queries`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from oncosecours.documents.context.formatting import (
    concentration,
    date,
    datetime,
    dose,
    duration,
    num,
    unit,
    upper_name,
)
from oncosecours.documents.context.records import (
    BOX_DONE,
    BOX_TODO,
    _g,
    _json_list,
    common,
    patient_fields,
)
from oncosecours.domain.production import vinca_route_mention


def _draws(total: float, vial_volume: float, count: int) -> list[float]:
    """Volume drawn from each vial: full vials first, the last one partly (compounding plan)."""
    draws, remaining = [], float(total)
    for _ in range(max(int(count), 1)):
        take = min(float(vial_volume), remaining)
        draws.append(take)
        remaining -= take
    return [d for d in draws if d > 1e-9] or [float(total)]


def _products(prep: Mapping[str, Any]) -> list[dict[str, str]]:
    """Vials of ``products_json`` (services.preparation) and leftovers used (``plan_json``)."""
    rows = []
    for item in _json_list(prep.get("products_json")):
        strength = item.get("strength_mg")
        volume = item.get("volume_ml")
        count = item.get("count") or 0
        total = item.get("volume_to_draw_ml")
        conc = item.get("concentration_mg_ml")
        if conc is None and strength is not None and volume:
            conc = float(strength) / float(volume)
        draw_text = ""
        if total is not None and volume:
            draw_text = " + ".join(f"{num(d)} mL" for d in _draws(total, volume, count))
        rows.append(
            {
                "nom": str(item.get("name") or ""),
                "dosage": (
                    f"{dose(strength)} mg / {num(volume)} mL"
                    if strength is not None and volume is not None
                    else ""
                ),
                "concentration": f"{concentration(conc)} mg/mL" if conc else "",
                "flacons": num(count, 0),
                "volume_ml": num(total),
                "prelevement": draw_text,
            }
        )
    plan = prep.get("plan_json")
    if isinstance(plan, str):
        import json

        try:
            plan = json.loads(plan or "{}")
        except ValueError:
            plan = {}
    for used in (plan or {}).get("leftover_used") or []:
        rows.append(
            {
                "nom": f"Reliquat {used.get('label') or ''} — {used.get('product') or ''}".strip(),
                "dosage": f"{dose(used.get('mg'))} mg restants" if used.get("mg") else "",
                "concentration": "",
                "flacons": "reliquat",
                "volume_ml": num(used.get("volume_ml")),
                "prelevement": f"{num(used.get('volume_ml'))} mL (limite {datetime(used.get('expires_at'))})",
            }
        )
    return rows


def _calculation(prep: Mapping[str, Any], line: Mapping[str, Any] | None) -> dict:
    """How the dose was obtained, from the prescription line the engine wrote (its French
    ``basis`` — e.g. ``SC 1,71 m² (DuBois)`` — and its adjustments, each with its message)."""
    the_unit = unit(_g(prep, "unit", ""))
    prepared = f"{dose(prep.get('dose'))} {the_unit}"
    if not line:
        return {
            "dose_protocole": "",
            "base": "",
            "dose_theorique": "",
            "reduction": "",
            "arrondi": "",
            "detail": f"Dose prescrite : {prepared} (calcul non disponible)",
        }
    protocol_unit = str(_g(line, "protocol_unit", ""))
    protocol = f"{dose(line.get('protocol_dose'))} {unit(protocol_unit)}"
    base = str(_g(line, "basis", ""))
    theoretical = f"{dose(line.get('theoretical_dose'))} {the_unit}"
    reduction_pct = float(_g(line, "reduction_pct", 0) or 0)
    reduction = ""
    if reduction_pct:
        reason = _g(line, "reduction_reason", "")
        reduction = f"{num(reduction_pct)} %" + (f" — {reason}" if reason else "")
        if _g(line, "reduction_source") == "reprise":
            reduction += " (reprise de la cure précédente)"
    adjustments = [a for a in _json_list(line.get("adjustments_json")) if isinstance(a, dict)]
    rounding = [
        str(a.get("message", ""))
        for a in adjustments
        if "REDUCTION" not in str(a.get("rule", "")).upper() and a.get("message")
    ]
    if line.get("dose_overridden"):
        rounding.append(
            f"Dose saisie par le prescripteur : {dose(line.get('dose'))} {the_unit} "
            f"(calculée {dose(line.get('computed_dose'))} {the_unit})"
        )
    if base.lower() in ("", "dose fixe", "fixe"):
        detail = [f"Dose fixe du protocole {protocol}"]
    elif protocol_unit.upper() == "AUC":
        detail = [f"AUC {dose(line.get('protocol_dose'))} ; {base} → {theoretical}"]
    else:
        detail = [f"{protocol} × {base} = {theoretical}"]
    if reduction:
        detail.append(f"réduction {reduction}")
    detail.extend(rounding)
    detail.append(f"dose préparée {prepared}")
    return {
        "dose_protocole": protocol,
        "base": base,
        "dose_theorique": theoretical,
        "reduction": reduction,
        "arrondi": " ; ".join(rounding),
        "detail": " ; ".join(detail),
    }


def _lots(record: Mapping[str, Any], products: list[dict[str, str]]) -> list[dict[str, str]]:
    recorded = record.get("lots") or []
    if recorded:
        return [
            {
                "article": str(lot.get("component") or ""),
                "lot": str(lot.get("lot") or "")
                + (f" (× {lot['quantity']})" if int(lot.get("quantity") or 1) > 1 else ""),
                "peremption": date(lot.get("expiry")),
            }
            for lot in recorded
        ]
    blank = []
    for product in products:
        count = int(product["flacons"]) if product["flacons"].isdigit() else 1
        blank += [{"article": product["nom"], "lot": "", "peremption": ""}] * max(count, 1)
    diluent = _g(record.get("preparation"), "diluent")
    if diluent:
        blank.append({"article": str(diluent), "lot": "", "peremption": ""})
    return blank or [{"article": "", "lot": "", "peremption": ""}]


def preparation(
    record: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    backup_date: Any = None,
    now: dt.datetime | None = None,
    kind: str = "fabrication",
) -> dict[str, Any]:
    """Context of a fiche de fabrication / label (``champs.toml`` [modeles.fabrication])."""
    prep = record["preparation"]
    line = record.get("line")
    prescription = record.get("prescription")
    validation = record.get("validation")
    control = record.get("control")
    release = record.get("release")
    molecule = record.get("molecule")
    the_unit = unit(prep.get("unit"))
    products = _products(prep)
    lots = _lots(record, products)
    creat = _g(prescription, "creatinine_umol_l")
    gfr = _g(prescription, "gfr_ml_min")
    renal = ""
    if gfr is not None:
        from oncosecours.domain.dosing import RENAL_LABELS

        formula = _g(prescription, "renal_formula", "")
        renal = f"{num(gfr, 0)} mL/min" + (
            f" ({RENAL_LABELS.get(formula, formula)})" if formula else ""
        )
    patient = patient_fields(prep, "patient_")
    patient.update(
        {
            "poids_kg": num(prep.get("patient_weight_kg"), 1),
            "taille_cm": num(prep.get("patient_height_cm"), 1),
            "surface_m2": num(prep.get("patient_bsa_m2"), 2),
            "creatinine": (
                f"{num(creat, 0)} µmol/L"
                + (
                    f" ({date(prescription.get('creatinine_date'))})"
                    if _g(prescription, "creatinine_date")
                    else ""
                )
                if creat is not None
                else ""
            ),
            "clairance": renal,
        }
    )
    diluent = str(_g(prep, "diluent", ""))
    final_volume = prep.get("final_volume_ml")
    mol_name = upper_name(prep.get("molecule_name"))
    conc = prep.get("final_conc_mg_ml")
    base_unit = the_unit.split("/")[0] if the_unit else "mg"
    filter_um = prep.get("filter_um")
    alerts: list[str] = []
    if int(_g(prep, "light_protect", 0) or 0):
        alerts.append("Protéger de la lumière (poche et tubulure opaques)")
    if filter_um:
        alerts.append(f"Administrer avec un filtre en ligne de {num(filter_um)} µm")
    if int(_g(molecule, "vesicant", 0) or 0):
        alerts.append("Produit vésicant : surveiller le point d'injection (risque d'extravasation)")
    route = str(_g(prep, "route", "") or "")
    if route.upper() in ("IT", "INTRATHECALE", "INTRATHÉCALE"):
        alerts.append("VOIE INTRATHÉCALE EXCLUSIVEMENT")
    for finding in _json_list(prep.get("findings_json")):
        text = finding.get("message") if isinstance(finding, dict) else finding
        if text:
            alerts.append(str(text))
    if _g(line, "comment"):
        alerts.append(str(line["comment"]))
    measured = _g(control, "measured_weight_g")
    result = ""
    controller = ""
    if control:
        deviation = float(_g(control, "deviation_pct", 0) or 0)
        sign = "+" if deviation > 0 else ("−" if deviation < 0 else "")
        text_dev = f"écart {sign}{num(abs(deviation), 1)} %"
        result = (
            f"Conforme ({text_dev})"
            if int(_g(control, "in_tolerance", 1))
            else f"HORS TOLÉRANCE ({text_dev})"
        )
        if not int(_g(control, "visual_ok", 1)):
            result += " ; contrôle visuel non conforme"
        controller = str(
            _g(control, "controller_name") or _g(control, "controlled_by_initials", "")
        )
        if _g(control, "double_checker_initials"):
            controller += f" (double contrôle {control['double_checker_initials']})"
    decision = ""
    if release:
        decision = "Libérée" if release.get("decision") == "released" else "Refusée"
        if release.get("comment") and decision == "Refusée":
            decision += f" : {release['comment']}"
    ctx = common(
        settings, kind, backup_date=backup_date or prep.get("snapshot_backup_date"), now=now
    )
    ctx.update(
        {
            "ordonnancier": {
                "numero": str(prep.get("ord_number") or ""),
                "date": datetime(prep.get("prepared_at")),
                "statut": "ANNULÉE" if prep.get("state") == "cancelled" else "",
            },
            "patient": patient,
            "prescripteur": {"nom": str(_g(prep, "prescriber_name", ""))},
            "prescription": {
                "date": date(_g(prescription, "on_date") or prep.get("prescribed_at"))
            },
            "validation": {
                "pharmacien": str(_g(validation, "pharmacist_name", "")),
                "date": datetime(_g(validation, "decided_at")),
            },
            "cure": {
                "protocole": str(_g(prep, "protocol_name", "")),
                "cycle": str(_g(prep, "cycle", "")),
                "jour": f"J{prep['day']}" if prep.get("day") is not None else "",
                "date": date(prep.get("admin_date")),
            },
            "molecule": {"nom": mol_name, "dose": dose(prep.get("dose")), "unite": the_unit},
            "calcul": _calculation(prep, line),
            "produits": products,
            "diluant": {"nom": diluent, "volume_ml": num(prep.get("diluent_volume_ml"))},
            "volume_final_ml": num(final_volume),
            "concentration_finale": f"{concentration(conc)} {base_unit}/mL" if conc else "",
            "contenant": str(_g(prep, "container", "")),
            "filtre": f"{num(filter_um)} µm" if filter_um else "",
            "protection_lumiere": "Oui" if int(_g(prep, "light_protect", 0) or 0) else "Non",
            "voie": route,
            "alerte_voie": vinca_route_mention(prep.get("molecule_name"), route),
            "duree": duration(prep.get("duration_min")),
            "peremption": {
                "date_heure": datetime(prep.get("use_by")),
                "stabilite": str(_g(prep, "use_by_reason", "")),
            },
            "conservation": str(_g(prep, "storage", "")),
            "forme": "Solution pour perfusion" if diluent else "Solution injectable",
            "composition": (
                f"{mol_name} {dose(prep.get('dose'))} {base_unit}"
                + (
                    f" dans {diluent} qsp {num(final_volume)} mL"
                    if diluent
                    else (f" ({num(final_volume)} mL)" if final_volume else "")
                )
            ),
            "excipients": str(_g(molecule, "excipients", "")),
            "alertes": alerts,
            "controle": {
                "poids_cible_g": num(prep.get("target_weight_g"), 1),
                "tolerance_pct": num(prep.get("tolerance_pct"), 1),
                "poids_min_g": num(prep.get("weight_min_g"), 1),
                "poids_max_g": num(prep.get("weight_max_g"), 1),
                "poids_mesure_g": num(measured, 1),
                "resultat": result,
                "controleur": controller,
                "case_visuel": BOX_DONE if control else BOX_TODO,
                "case_double": BOX_DONE if _g(control, "double_checker_initials") else BOX_TODO,
            },
            "lots": lots,
            "lots_texte": " ; ".join(
                f"{lot['article']} lot {lot['lot']}"
                + (f" exp. {lot['peremption']}" if lot["peremption"] else "")
                for lot in lots
                if lot["lot"]
            ),
            "preparation": {
                "preparateur": str(_g(prep, "prepared_by_name", "")),
                "date_heure": datetime(prep.get("prepared_at")),
            },
            "liberation": {
                "decision": decision,
                "pharmacien": str(_g(release, "pharmacist_name", "")),
                "date_heure": datetime(_g(release, "decided_at")),
                "justification": str(_g(release, "justification", "")),
            },
        }
    )
    return ctx
