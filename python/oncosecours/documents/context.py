"""Contexts of the templates: plain dicts of ready-to-print French strings (``champs.toml``).

The formatting helpers are shared by the samples and by the store mapping. Values are
formatted, never rounded beyond what the dose engine decided (doses keep up to 3 decimals,
volumes 2), so what is printed is what was computed. Doses go through the one dose formatter
(:func:`oncosecours.domain.display.fr_dose`), the same as the CLI and the workbook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from oncosecours.domain.display import care_amount, fr_dose
from oncosecours.domain.production import vinca_route_mention
from oncosecours.domain.workflow import PREPARATION_STATES

TITLES = {
    "fabrication": "Fiche de fabrication",
    "etiquette": "Étiquette",
    "plan_de_soins": "Plan de soins",
    "ordonnancier": "Extrait de l'ordonnancier",
}

CATEGORIES = {1: "Chimiothérapie", 2: "Prémédication", 3: "Rinçage"}
BOX_DONE = "☒"
"""A check box of the fiche ticked: the step is recorded in the store."""
BOX_TODO = "☐"
"""An empty check box of the fiche: not recorded (yet), to tick by hand on paper."""
_HYDRATION_WORDS = (
    "nacl",
    "chlorure de sodium",
    "glucose",
    "g5",
    "hydrat",
    "ringer",
    "bicarbonate",
)


# ---------------------------------------------------------------- formatting


def num(value: Any, decimals: int = 2) -> str:
    """``12.5 -> "12,5"``, ``150.0 -> "150"``; ``None``/"" -> ""."""
    if value is None or value == "":
        return ""
    number = float(value)
    text = f"{number:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", ",")


def dose(value: Any) -> str:
    """A dose as everywhere else (CLI, workbook): ``73.755 -> "73,755"``, ``1470.0 -> "1470"``."""
    return fr_dose(value)


def concentration(value: Any) -> str:
    """Enough decimals to show 3 significant digits of small concentrations."""
    if value is None or value == "":
        return ""
    number = abs(float(value))
    decimals = 2 if number >= 1 else 3 if number >= 0.1 else 4 if number >= 0.01 else 5
    return num(value, decimals)


def _parse(value: Any) -> dt.datetime | dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def date(value: Any) -> str:
    """ISO date or timestamp -> ``JJ/MM/AAAA`` (unknown text is printed as given)."""
    parsed = _parse(value)
    if parsed is None:
        return "" if value in (None, "") else str(value)
    return parsed.strftime("%d/%m/%Y")


def datetime(value: Any) -> str:
    """ISO timestamp -> ``JJ/MM/AAAA HH:MM`` (local time as recorded)."""
    parsed = _parse(value)
    if parsed is None:
        return "" if value in (None, "") else str(value)
    if not isinstance(parsed, dt.datetime):
        return parsed.strftime("%d/%m/%Y")
    return parsed.strftime("%d/%m/%Y %H:%M")


def duration(minutes: Any) -> str:
    """``90 -> "1 h 30"``, ``30 -> "30 min"``, ``120 -> "2 h"``."""
    if minutes in (None, ""):
        return ""
    total = int(round(float(minutes)))
    if total < 60:
        return f"{total} min"
    hours, rest = divmod(total, 60)
    return f"{hours} h" if rest == 0 else f"{hours} h {rest:02d}"


def offset(minutes: Any) -> str:
    """Time from T0: ``0 -> "T0"``, ``90 -> "T0 + 1 h 30"``, ``-15 -> "T0 − 15 min"``."""
    if minutes in (None, ""):
        return "T0"
    value = int(round(float(minutes)))
    if value == 0:
        return "T0"
    sign = "+" if value > 0 else "−"
    return f"T0 {sign} {duration(abs(value))}"


def clock(t0: str, minutes: Any) -> str:
    """``clock("08:30", 90) -> "10:00"``; "" when T0 is unknown."""
    if not t0 or minutes in (None, ""):
        return ""
    try:
        hours, mins = (int(part) for part in t0.replace("h", ":").split(":")[:2])
    except ValueError:
        return ""
    total = hours * 60 + mins + int(round(float(minutes)))
    day, total = divmod(total, 24 * 60)
    text = f"{total // 60:02d}:{total % 60:02d}"
    return text if day == 0 else f"{text} (J+{day})"


def parse_t0(text: Any) -> str:
    """The T0 of a plan de soins: « 08:30 », « 8h30 », « 8h » -> "08:30"; "" stays "" (to fill
    in by hand); anything else (25:00, 99:99, abc) is refused in French."""
    import re

    raw = str(text or "").strip()
    if not raw:
        return ""
    match = re.fullmatch(r"(\d{1,2})\s*(?::\s*(\d{2})|[hH]\s*(\d{2})?)", raw)
    hours = int(match.group(1)) if match else 99
    minutes = int(match.group(2) or match.group(3) or 0) if match else 99
    if hours > 23 or minutes > 59:
        from oncosecours.domain.errors import OncoError

        raise OncoError(
            f"Heure de T0 invalide : « {raw} » (attendu HH:MM entre 00:00 et 23:59, ex. 08:30)",
            field="t0",
        )
    return f"{hours:02d}:{minutes:02d}"


def rate(volume_ml: Any, duration_min: Any) -> str:
    """Infusion rate in mL/h from volume and duration; "" when either is missing."""
    if volume_ml in (None, "") or duration_min in (None, "") or float(duration_min) <= 0:
        return ""
    return f"{num(float(volume_ml) * 60.0 / float(duration_min), 1)} mL/h"


def unit(text: Any) -> str:
    """Units as printed: ``mg/m2 -> mg/m²``."""
    if not text:
        return ""
    return str(text).replace("m2", "m²")


def upper_name(text: Any) -> str:
    return str(text or "").strip().upper()


def category(line_type: Any, name: str) -> str:
    """Care-plan category of a line: chemotherapy, premedication, hydration or rinse."""
    kind = int(line_type) if line_type not in (None, "") else 1
    if kind == 2 and any(word in (name or "").lower() for word in _HYDRATION_WORDS):
        return "Hydratation"
    return CATEGORIES.get(kind, "Autre")


def lines(text: Any) -> list[str]:
    """Free text (protocol monitoring, remarks) -> non-empty lines."""
    if not text:
        return []
    return [line.strip() for line in str(text).replace("\r", "\n").split("\n") if line.strip()]


# ---------------------------------------------------------------- common part


def common(
    settings: Mapping[str, Any],
    kind: str,
    *,
    backup_date: Any = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Fields every template has: hospital identity (from the settings), backup, document."""
    now = now or dt.datetime.now()
    etab = settings["etablissement"]
    alert = ""
    parsed = _parse(backup_date)
    if parsed is not None:
        backup_day = parsed.date() if isinstance(parsed, dt.datetime) else parsed
        age = (now.date() - backup_day).days
        threshold = int(settings["sauvegardes"]["seuil_anciennete_jours"])
        if age > threshold:
            alert = f"Sauvegarde ancienne de {age} jours (seuil {threshold} jours)"
    return {
        "etablissement": {
            "nom": etab["nom"],
            "pharmacie": etab["pharmacie"],
            "adresse": etab["adresse"],
            "telephone": etab["telephone"],
        },
        "mention_mode_degrade": etab["mention_mode_degrade"],
        "sauvegarde": {"date": date(backup_date), "alerte": alert},
        "document": {"titre": TITLES[kind], "edite_le": now.strftime("%d/%m/%Y %H:%M")},
    }


# ---------------------------------------------------------------- preparation (fiche, label)
#
# A "preparation record" is what the store holds for one bag, as plain dicts:
#   {"preparation": row of `preparations`, "line": row of `prescription_lines` or None,
#    "prescription": row of `prescriptions` or None, "validation": {"pharmacist_name",
#    "decided_at"} or None, "lots": rows of `preparation_lots`, "control": row of
#    `preparation_controls` (+ "controller_name") or None, "release": row of
#    `preparation_releases` or None, "molecule": row of `ref_molecules` or None}
# The samples build the same records, so samples and store go through the same mapping.


def _g(row: Mapping[str, Any] | None, key: str, default: Any = None) -> Any:
    if not row:
        return default
    value = row.get(key, default)
    return default if value is None else value


def _json_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    if not value:
        return []
    import json

    try:
        parsed = json.loads(value)
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


def _first(item: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if item.get(key) not in (None, ""):
            return item[key]
    return None


def patient_fields(source: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Identity from a row with ``birth_name``, ``usual_name``... (or ``patient_*`` copies)."""

    def get(key: str) -> Any:
        return source.get(prefix + key)

    birth = upper_name(get("birth_name"))
    return {
        "nom": upper_name(get("usual_name")) or birth,
        "nom_naissance": birth,
        "prenom": str(get("first_name") or "").strip(),
        "date_naissance": date(get("birth_date")),
        "sexe": str(get("sex") or ""),
        "ipp": str(get("ipp") or ""),
        "service": str(get("ward") or ""),
    }


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


# ---------------------------------------------------------------- care plan
#
# A "care-plan record": {"patient": row of `patients`, "prescription": row, "cure": row,
#   "protocol_name": str, "lines": rows of `prescription_lines` of that day (all types),
#   "preparations": {prescription_line_id: row of `preparations`}, "protocol": row of
#   `ref_protocols` or None (monitoring, remarks), "inclusion_lines": {id: row} (volumes),
#   "t0": "HH:MM" or ""}


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


# ---------------------------------------------------------------- ordonnancier

ORDER_LABELS = {"date": "par date", "patient": "par patient", "drug": "par molécule"}
_STATE_FR = PREPARATION_STATES  # French name of a preparation state


def register_sort_key(order_by: str):
    """Sort key of register records ({"preparation": row, "lots": [...]}) for ``order_by``."""

    def by_date(rec):
        prep = rec["preparation"]
        return (
            str(prep.get("prepared_at") or ""),
            str(prep.get("ord_scope") or ""),
            int(prep.get("ord_seq") or 0),
        )

    if order_by == "date":
        return by_date
    if order_by == "patient":
        return lambda rec: (
            upper_name(rec["preparation"].get("patient_birth_name")),
            str(rec["preparation"].get("patient_first_name") or "").upper(),
            str(rec["preparation"].get("patient_birth_date") or ""),
            by_date(rec),
        )
    if order_by == "drug":
        return lambda rec: (upper_name(rec["preparation"].get("molecule_name")), by_date(rec))
    from oncosecours.domain.errors import OncoError

    raise OncoError(f"Tri inconnu « {order_by} » (attendu : date, patient ou drug)", field="tri")


def ordonnancier(
    records: list[Mapping[str, Any]],
    settings: Mapping[str, Any],
    *,
    date_from: Any,
    date_to: Any,
    order_by: str = "date",
    backup_date: Any = None,
    now: dt.datetime | None = None,
    presorted: bool = False,
    anchor: str = "",
) -> dict[str, Any]:
    """Context of the register extract (``champs.toml`` [modeles.ordonnancier]); ``anchor``:
    the audit chain's head when printed (``store.anchors``), to compare later."""
    key = register_sort_key(order_by)
    ordered = list(records) if presorted else sorted(records, key=key)
    rows = []
    for rec in ordered:
        prep = rec["preparation"]
        identity = patient_fields(prep, "patient_")
        parts = [
            f"{lot.get('component', '')} lot {lot.get('lot', '')}"
            + (f" × {lot['quantity']}" if int(lot.get("quantity") or 1) > 1 else "")
            for lot in rec.get("lots") or []
        ]
        if not parts:
            parts = [p["nom"] for p in _products(prep)]
            if prep.get("diluent"):
                parts.append(str(prep["diluent"]))
        the_unit = unit(prep.get("unit"))
        rows.append(
            {
                "numero": str(prep.get("ord_number") or ""),
                "date": datetime(prep.get("prepared_at")),
                "patient": " ".join(
                    part
                    for part in (
                        identity["nom_naissance"],
                        f"({identity['nom']})"
                        if identity["nom"] != identity["nom_naissance"]
                        else "",
                        identity["prenom"],
                    )
                    if part
                ),
                "date_naissance": identity["date_naissance"],
                "ipp": identity["ipp"],
                "prescripteur": str(prep.get("prescriber_name") or ""),
                "molecule": upper_name(prep.get("molecule_name")),
                "dose": f"{dose(prep.get('dose'))} {the_unit}".strip(),
                "composition": " ; ".join(parts),
                "volume": f"{num(prep.get('final_volume_ml'))} mL"
                if prep.get("final_volume_ml")
                else "",
                "preparateur": str(prep.get("prepared_by_name") or ""),
                "statut": _STATE_FR.get(str(prep.get("state")), str(prep.get("state") or "")),
            }
        )
    ctx = common(settings, "ordonnancier", backup_date=backup_date, now=now)
    ctx.update(
        {
            "periode": {"du": date(date_from), "au": date(date_to)},
            "tri": ORDER_LABELS.get(order_by, order_by),
            "nombre": str(len(rows)),
            "lignes": rows,
            "ancre_journal": anchor,
        }
    )
    return ctx


# ---------------------------------------------------------------- reading the store
#
# Read-only: the production service's documented reads (services.preparation.preparation_sheet,
# ordonnancier_rows) and plain SELECTs for what they do not return (prescription line, protocol).


def _row(conn, sql: str, *params) -> dict | None:
    row = conn.execute(sql, params).fetchone()
    return None if row is None else {k: row[k] for k in row.keys()}


def backup_date(conn) -> str | None:
    """Date of the Chimio backup loaded in the snapshot (None if none was loaded)."""
    row = _row(conn, "SELECT backup_date FROM snapshot_meta WHERE id = 1")
    return row["backup_date"] if row else None


def _validation(conn, prescription_id: int | None) -> dict | None:
    if prescription_id is None:
        return None
    return _row(
        conn,
        "SELECT v.decided_at, u.name AS pharmacist_name FROM validations v "
        "JOIN users u ON u.id = v.pharmacist_id "
        "WHERE v.prescription_id = ? AND v.decision = 'validated' ORDER BY v.id DESC LIMIT 1",
        prescription_id,
    )


def preparation_record(conn, ref: object) -> dict[str, Any]:
    """The record of one preparation (id, ``#id`` or ordonnancier number) for the mapping."""
    from oncosecours.services.preparation import preparation_sheet

    sheet = preparation_sheet(conn, ref)
    line = _row(
        conn, "SELECT * FROM prescription_lines WHERE id = ?", sheet["prescription_line_id"]
    )
    prescription = _row(conn, "SELECT * FROM prescriptions WHERE id = ?", sheet["prescription_id"])
    control = sheet.get("control")
    if control:
        control = dict(control)
        user = _row(conn, "SELECT name FROM users WHERE id = ?", control.get("controlled_by"))
        if user:
            control["controller_name"] = user["name"]
    molecule = None
    if sheet.get("molecule_id") is not None:
        molecule = _row(
            conn, "SELECT * FROM ref_molecules WHERE molecule_id = ?", sheet["molecule_id"]
        )
    return {
        "preparation": sheet,
        "line": line,
        "prescription": prescription,
        "validation": _validation(conn, sheet["prescription_id"]),
        "lots": sheet.get("lots") or [],
        "control": control,
        "release": sheet.get("release"),
        "molecule": molecule,
    }


DAY_EXCLUDED_STATES = ("cancelled", "rejected")


def day_preparation_ids(conn, day: str, *, include_cancelled: bool = False) -> list[int]:
    """Preparations to administer on ``day`` (ISO), in ordonnancier order."""
    sql = "SELECT id FROM preparations WHERE admin_date = ?"
    if not include_cancelled:
        sql += f" AND state NOT IN ({', '.join(repr(s) for s in DAY_EXCLUDED_STATES)})"
    return [r[0] for r in conn.execute(sql + " ORDER BY ord_scope, ord_seq", (day,))]


def care_plan_records(conn, day: str, patient: object = None) -> list[dict[str, Any]]:
    """One record per patient's cure on ``day``: every prescribed line of that day (chemo,
    premedication, hydration, rinses) with its bag. Without ``patient``: the cures validated or
    with go-ahead, except those whose go-ahead was withheld for the day."""
    sql = (
        "SELECT c.*, i.protocol_id, i.protocol_name FROM cures c "
        "JOIN inclusions i ON i.id = c.inclusion_id "
        "WHERE c.prescription_id IS NOT NULL AND EXISTS (SELECT 1 FROM prescription_lines l "
        "WHERE l.prescription_id = c.prescription_id AND l.admin_date = ?)"
    )
    params: list[Any] = [day]
    if patient is not None:
        from oncosecours.store.circuit import resolve_patient

        found = resolve_patient(conn, patient)
        sql += " AND c.patient_id = ? AND c.state NOT IN ('cancelled')"
        params.append(found["id"])
    else:
        sql += " AND c.state IN ('validated', 'go_ahead', 'withheld')"
    cures = [dict(r) for r in conn.execute(sql + " ORDER BY c.patient_id, c.id", params)]
    records = []
    for cure in cures:
        if patient is None:
            decision = _row(
                conn,
                "SELECT decision FROM go_aheads WHERE cure_id = ? AND admin_date = ? "
                "ORDER BY id DESC LIMIT 1",
                cure["id"],
                day,
            )
            if decision and decision["decision"] == "withheld":
                continue
        lines_ = [
            dict(r)
            for r in conn.execute(
                "SELECT * FROM prescription_lines WHERE prescription_id = ? AND admin_date = ? "
                "ORDER BY line_no",
                (cure["prescription_id"], day),
            )
        ]
        preparations: dict[int, dict] = {}
        for line in lines_:
            rows = [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM preparations WHERE prescription_line_id = ? ORDER BY id",
                    (line["id"],),
                )
            ]
            live = [r for r in rows if r["state"] not in DAY_EXCLUDED_STATES]
            if live:
                preparations[line["id"]] = live[-1]
        inclusion_lines = {
            r["id"]: dict(r)
            for r in conn.execute(
                "SELECT * FROM inclusion_lines WHERE inclusion_id = ?", (cure["inclusion_id"],)
            )
        }
        records.append(
            {
                "patient": _row(conn, "SELECT * FROM patients WHERE id = ?", cure["patient_id"]),
                "prescription": _row(
                    conn, "SELECT * FROM prescriptions WHERE id = ?", cure["prescription_id"]
                ),
                "cure": cure,
                "protocol_name": cure["protocol_name"],
                "lines": lines_,
                "preparations": preparations,
                "protocol": _row(
                    conn, "SELECT * FROM ref_protocols WHERE protocol_id = ?", cure["protocol_id"]
                ),
                "inclusion_lines": inclusion_lines,
                "t0": "",
                "day": None,
                "date": day,
            }
        )
    return records


def register_records(conn, date_from: Any, date_to: Any, order_by: str = "date") -> list[dict]:
    """Register entries from the production service, in its order."""
    from oncosecours.services.preparation import ordonnancier_rows

    return [
        {"preparation": entry, "lots": entry.get("lots") or []}
        for entry in ordonnancier_rows(conn, date_from, date_to, order_by)
    ]
