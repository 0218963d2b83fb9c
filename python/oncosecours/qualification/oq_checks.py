"""Comparisons of the OQ: observed values against the hand-computed ones of ``attendus.toml``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from oncosecours.qualification.items import NON_VERIFIABLE, Item, check


def item(ref: str, phase: str, title: str, expected: str, observed: str, ok: bool, **extra):
    return check(ref, phase, title, expected, observed, ok, **extra)


def fr(value: float, decimals: int = 2) -> str:
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".").replace(".", ",")


def refusal_text(error) -> str:
    if error is None:
        return "ACCEPTÉ (aucun refus)"
    return f"refus [{error.rule or '—'}] : {error.message}"


def settings_deviations(settings, expected: dict[str, Any]) -> list[str]:
    """``section.key = value (référence …)`` for each reference setting the unit changed."""
    out = []
    for dotted, wanted in expected["parametres_de_reference"].items():
        section, key = dotted.split(".")
        seen = settings[section][key]
        if seen != wanted:
            out.append(f"{dotted} = {seen!r} (référence {wanted!r})")
    return out


def bsa_item(ref: str, phase: str, person: dict, draft: dict, formula: str) -> Item:
    seen = draft["head"]["bsa_m2"]
    title = f"Surface corporelle de {person['nom']} ({formula})"
    wanted = person.get(f"surface_{formula}_m2")
    if wanted is None:
        return Item(
            ref,
            phase,
            title,
            "valeur calculée à la main pour dubois ou mosteller",
            f"{fr(seen, 4)} m²",
            NON_VERIFIABLE,
            f"pas de valeur de référence pour la formule « {formula} »",
        )
    ok = seen is not None and abs(seen - wanted) <= 0.005
    return check(
        ref,
        phase,
        title,
        f"{fr(wanted, 4)} m² (± 0,005)",
        f"{fr(seen, 4) if seen is not None else '—'} m²",
        ok,
        source=person["source_surface"],
    )


def _line(draft: dict, molecule: str) -> dict | None:
    from oncosecours.domain.identity import fold

    for line in draft["lines"]:
        if line["line_type"] == 1 and fold(line["molecule_name"]).startswith(fold(molecule)):
            return line
    return None


def dose_item(ref: str, phase: str, person: dict, dose: dict, draft: dict) -> Item:
    title = f"Dose de {dose['molecule']} de {person['nom']}"
    wanted = dose["dose_mg"]
    expected = f"{fr(wanted)} mg (± {fr(dose['tolerance_pct'])} %)"
    line = _line(draft, dose["molecule"])
    if line is None:
        return check(
            ref,
            phase,
            title,
            expected,
            "ligne absente de la prescription",
            False,
            source=dose["source"],
        )
    seen = float(line["dose"])
    ok = abs(seen - wanted) <= wanted * dose["tolerance_pct"] / 100
    adjustments = [a.get("message", "") for a in json.loads(line["adjustments_json"] or "[]")]
    observed = f"{fr(seen, 3)} mg"
    if dose.get("plafonnee"):
        ok = ok and bool(adjustments)
        observed += " ; ajustement affiché : " + ("; ".join(adjustments) or "AUCUN")
    if "theorique_mg" in dose:
        theoretical = float(line["theoretical_dose"] or 0)
        ok = ok and abs(theoretical - dose["theorique_mg"]) <= dose["theorique_mg"] * 0.002
        observed += f" ; théorique {fr(theoretical, 4)} mg"
        expected += f", théorique {fr(dose['theorique_mg'], 4)} mg, plafond signalé"
    return check(ref, phase, title, expected, observed, ok, source=dose["source"])


def gfr_item(ref: str, phase: str, person: dict, draft: dict) -> Item:
    wanted = person["dfg_calcule_ml_min"]
    seen = draft["head"]["gfr_ml_min"]
    ok = seen is not None and abs(seen - wanted) <= wanted * 0.01
    return check(
        ref,
        phase,
        f"Débit de filtration (Cockcroft-Gault) de {person['nom']}",
        f"{fr(wanted)} mL/min (± 1 %)",
        f"{fr(seen) if seen is not None else '—'} mL/min",
        ok,
        source=person["source_dfg"],
    )


def compounded_lines(conn, prescription_id: int, day: date) -> list[dict]:
    from oncosecours.domain.production import needs_preparation
    from oncosecours.store.circuit import prescription_lines

    lines = [
        line for line in prescription_lines(conn, prescription_id)
        if line["admin_date"] == day.isoformat()
        and needs_preparation(line["line_type"], line["route"], line["molecule_id"])
    ]  # fmt: skip
    return sorted(lines, key=lambda line: (line["time_offset_min"] or 0, line["line_no"]))


def lots_for(sheet: dict, expiry: date) -> list[dict]:
    lots = [
        {"kind": "flacon", "component": p["name"], "lot": f"Q{p['product_id']}",
         "expiry": expiry.strftime("%m/%Y"), "quantity": p["count"],
         "product_id": p["product_id"]}
        for p in sheet["products"]
    ]  # fmt: skip
    if sheet["diluent"]:
        lots.append({"kind": "diluant", "component": sheet["diluent"], "lot": "QDIL1",
                     "expiry": expiry.strftime("%m/%Y")})  # fmt: skip
    return lots


def consecutive(first: str, count: int) -> list[str]:
    """``2026-000001`` and the next ``count - 1`` numbers (same width)."""
    head, _, tail = first.rpartition("-")
    return [f"{head}-{int(tail) + i:0{len(tail)}d}" for i in range(count)]


def docx_text(path: Path) -> str:
    """Every paragraph and table cell of a .docx, read back with python-docx."""
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs]
    return "\n".join(parts)


def _missing(texts: list[str], needles: list[str]) -> list[str]:
    joined = "\n".join(texts)
    return [n for n in needles if n not in joined]


def document_items(
    phase: str,
    preps: list[dict],
    expected: dict,
    fiches: list[Path],
    labels: list[Path],
    plans: list[Path],
    register: list[Path],
) -> list[Item]:
    from oncosecours.domain.identity import fold

    names = {p["cle"]: p["nom"] for p in expected["patients"]}
    numbers = [p["ord_number"] for p in preps]
    out = []
    fiche_texts = [docx_text(p) for p in fiches]
    needles = numbers + [names[p["qualif_key"]] for p in preps]
    missing = _missing(fiche_texts, needles)
    out.append(
        check(
            "OQ-21",
            phase,
            "Fiches de fabrication produites et relues",
            f"{len(preps)} fiches : n° d'ordonnancier et nom du patient",
            f"{len(fiches)} fiches ; absents : {', '.join(missing) or 'aucun'}",
            len(fiches) == len(preps) and not missing,
        )
    )
    label_texts = [docx_text(p) for p in labels]
    strict = next(d["voie_stricte"] for p in expected["patients"] for d in p["doses"]
                  if "voie_stricte" in d)  # fmt: skip
    vinca = [
        t
        for t, p in zip(label_texts, preps, strict=False)
        if fold(p["molecule_name"]).startswith("VINCRISTINE")
    ]
    missing = _missing(label_texts, numbers)
    out.append(check("OQ-22", phase, "Étiquettes produites et relues (mention vinca-alcaloïde)",
                     f"{len(preps)} étiquettes, « {strict} » sur celle de la vincristine",
                     f"{len(labels)} étiquettes ; absents : {', '.join(missing) or 'aucun'} ; "
                     f"mention : {'présente' if vinca and strict in vinca[0] else 'ABSENTE'}",
                     len(labels) == len(preps) and not missing and bool(vinca)
                     and strict in vinca[0]))  # fmt: skip
    missing = _missing([docx_text(p) for p in plans], list(names.values()))
    out.append(
        check(
            "OQ-23",
            phase,
            "Plans de soins produits et relus",
            f"{len(names)} plans au nom des patients",
            f"{len(plans)} plans ; absents : {', '.join(missing) or 'aucun'}",
            len(plans) == len(names) and not missing,
        )
    )
    missing = _missing([docx_text(p) for p in register], numbers)
    out.append(
        check(
            "OQ-24",
            phase,
            "Extrait de l'ordonnancier produit et relu",
            f"{len(numbers)} inscriptions",
            f"absentes : {', '.join(missing) or 'aucune'}",
            bool(register) and not missing,
        )
    )
    return out
