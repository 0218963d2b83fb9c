"""Billing of the liste-en-sus drugs: the file the DIM needs for the PMSI's supplementary file of
expensive drugs (FICHCOMP « MED »), laid out by ``exports/fichcomp_med.toml``.

Rules (each one is a refusal rather than a wrong bill):
  * only an ADMINISTERED preparation is billed (an administration row exists);
  * the number of UCD units is the number of NEW vials opened for the bag (``products_json``
    counts, which the lots entered must add up to), never derived from the dose; a leftover vial
    drawn again is billed on the bag that opened it;
  * a preparation with a vial that has no UCD code, or with no indication code (LES), is refused
    as a whole and listed with its reason (``facturation_refus.csv``);
  * a preparation already billed by an earlier export is not billed again unless asked
    (``again``): the reconciliation then shows it « facturée deux fois » until justified.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.services.core import Actor, action
from oncosecours.services.sortie import exports
from oncosecours.services.sortie.records import patient_name, period
from oncosecours.store import audit
from oncosecours.store import sortie as db

ROLES = ("pharmacien",)
LAYOUT = "fichcomp_med"
REFUSALS_LAYOUT = "facturation_refus"


@dataclass
class Billing:
    date_from: str
    date_to: str
    lines: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    already: list[dict[str, Any]] = field(default_factory=list)
    leftovers_only: list[str] = field(default_factory=list)


def _ucd(vial: dict[str, Any], ref: dict[str, Any] | None) -> tuple[str | None, str]:
    """The vial's UCD code and where it comes from (the copy made at preparation first)."""
    if vial.get("ucd13"):
        return str(vial["ucd13"]).strip(), "UCD13 (fiche de fabrication)"
    if ref:
        if ref.get("ucd13"):
            return str(ref["ucd13"]).strip(), "UCD13 (sauvegarde)"
        if ref.get("ucd7"):
            return str(ref["ucd7"]).strip(), "UCD7 (sauvegarde)"
        ext = str(ref.get("ext_code2") or "").strip()
        if len(ext) == 7 and ext.isdigit() and ext.startswith("9"):
            return ext, "UCD7 déduit de CODEXTPDT2"
    return None, ""


def _price(ref: dict[str, Any] | None) -> tuple[float | None, str]:
    if ref and (ref.get("ref_price") or 0) > 0:
        return float(ref["ref_price"]), "PRIXREFACT"
    if ref and (ref.get("price") or 0) > 0:
        return float(ref["price"]), "PRIXPDT"
    return None, ""


def compute(
    conn: sqlite3.Connection,
    date_from: Any = None,
    date_to: Any = None,
    *,
    finess: str = "",
    again: bool = False,
) -> Billing:
    """The billing lines of the period (administrations started in it), nothing written."""
    import json

    start, end = period(conn, date_from, date_to)
    result = Billing(start, end)
    les_molecules = db.liste_en_sus_molecules(conn)
    refs = db.products(conn)
    billed = db.billed(conn)
    for prep in db.administered_preparations(conn, start, end):
        if prep["molecule_id"] not in les_molecules and not prep["les_code"]:
            continue  # not a liste-en-sus drug: paid within the stay
        who = {
            "ipp": prep["patient_ipp"] or "",
            "patient": patient_name(prep, "patient_"),
            "nom_naissance": (prep["patient_birth_name"] or "").upper(),
            "prenom": prep["patient_first_name"],
            "date_naissance": prep["patient_birth_date"],
            "sexe": prep["patient_sex"],
            "numero_ordonnancier": prep["ord_number"],
            "date_administration": prep["started_at"][:10],
            "molecule": prep["molecule_name"],
        }
        vials = [v for v in json.loads(prep["products_json"] or "[]") if int(v["count"]) > 0]
        if not vials:
            result.leftovers_only.append(prep["ord_number"])
            continue
        lines, reasons = [], []
        if not prep["les_code"]:
            reasons.append("sans code d'indication (LES) sur la prescription")
        for vial in vials:
            ref = refs.get(vial.get("product_id"))
            ucd, ucd_origin = _ucd(vial, ref)
            if not ucd:
                reasons.append(
                    f"sans code UCD pour « {vial['name']} » (produit {vial.get('product_id')})"
                )
                continue
            price, price_origin = _price(ref)
            units = int(vial["count"])
            lines.append(
                {
                    **who,
                    "preparation_id": prep["id"],
                    "ord_number": prep["ord_number"],
                    "finess": finess,
                    "numero_sejour": "",
                    "code_ucd": ucd,
                    "ucd": ucd,
                    "origine_ucd": ucd_origin,
                    "nombre_ucd": units,
                    "units": units,
                    "code_indication": prep["les_code"] or "",
                    "les_code": prep["les_code"] or "",
                    "prix_unitaire": price,
                    "montant": None if price is None else round(price * units, 3),
                    "origine_prix": price_origin,
                    "specialite": vial["name"],
                }
            )
        if reasons:
            result.refused.append(
                {
                    **who,
                    "specialite": " + ".join(v["name"] for v in vials),
                    "raison": " ; ".join(reasons),
                }
            )
            continue
        earlier = billed.get(prep["id"])
        if earlier and not again:
            first = earlier[0]
            result.already.append(
                {**who, "export": first["export_id"], "exported_at": first["exported_at"]}
            )
            continue
        result.lines += lines
    return result


def export_billing(
    conn: sqlite3.Connection,
    actor: Actor,
    out_dir: str | Path,
    date_from: Any = None,
    date_to: Any = None,
    *,
    settings=None,
    again: bool = False,
    layouts: str | Path | None = None,
) -> dict[str, Any]:
    """Write the billing file and the list of refused lines, and record what was billed."""
    if settings is None:
        from oncosecours.settings import load_settings

        settings = load_settings()
    finess = str(settings.etablissement.get("finess") or "")
    if not finess:
        raise OncoError(
            "N° FINESS non renseigné : le fichier de facturation ne peut pas être produit",
            field="etablissement.finess",
            hint='Écrire finess = "…" (9 caractères) dans la section [etablissement] '
            "d'etablissement.toml",
        )
    layout = exports.load(LAYOUT, layouts, FIELDS)
    refusal_layout = exports.load(REFUSALS_LAYOUT, layouts, REFUSAL_FIELDS)
    out = Path(out_dir)
    with action(conn, actor, "exporter_facturation", ROLES, "exporter la facturation") as act:
        result = compute(conn, date_from, date_to, finess=finess, again=again)
        path, digest = exports.write(layout, result.lines, out)
        refused_path, _ = exports.write(refusal_layout, result.refused, out)
        export_id = db.insert_billing_export(
            conn,
            {
                "exported_at": audit.now_iso(),
                "exported_by": actor.id,
                "exported_by_initials": actor.initials,
                "date_from": result.date_from,
                "date_to": result.date_to,
                "layout": layout.name,
                "file_name": path.name,
                "file_sha256": digest,
                "lines": len(result.lines),
                "refused": len(result.refused),
            },
        )
        for line in result.lines:
            db.insert_billing_line(conn, export_id, line)
        summary = {
            "export": export_id,
            "du": result.date_from,
            "au": result.date_to,
            "lignes": len(result.lines),
            "préparations": len({line["preparation_id"] for line in result.lines}),
            "refusées": [r["numero_ordonnancier"] for r in result.refused],
            "déjà_facturées": [r["numero_ordonnancier"] for r in result.already],
            "fichier": path.name,
            "sha256": digest,
            "refacturation": again,
        }
        act.record("facturation", export_id, None, summary)
    return {
        **summary,
        "path": str(path),
        "refused_path": str(refused_path),
        "refused": result.refused,
        "already": result.already,
        "leftovers_only": result.leftovers_only,
        "lines_detail": result.lines,
    }


FIELDS = (
    "finess",
    "numero_sejour",
    "ipp",
    "patient",
    "nom_naissance",
    "prenom",
    "date_naissance",
    "sexe",
    "date_administration",
    "code_ucd",
    "origine_ucd",
    "nombre_ucd",
    "code_indication",
    "prix_unitaire",
    "montant",
    "origine_prix",
    "numero_ordonnancier",
    "molecule",
    "specialite",
)
REFUSAL_FIELDS = (
    "numero_ordonnancier",
    "ipp",
    "patient",
    "nom_naissance",
    "prenom",
    "date_naissance",
    "date_administration",
    "molecule",
    "specialite",
    "raison",
)
