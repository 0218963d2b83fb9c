"""Extract of the ordonnancier: register records ({"preparation": row, "lots": [...]}) -> the
fields of the template, sorted by date, patient or drug.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from oncosecours.documents.context.fiche import _products
from oncosecours.documents.context.formatting import date, datetime, dose, num, unit, upper_name
from oncosecours.documents.context.records import common, patient_fields
from oncosecours.domain.workflow import PREPARATION_STATES

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
            parts = [p["nom"] for p in _products(prep) if not p["nom"].startswith("Reliquat ")]
            if prep.get("diluent"):
                parts.append(str(prep["diluent"]))
        parts += _leftovers_used(prep)
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


def _leftovers_used(prep: Mapping[str, Any]) -> list[str]:
    """``reliquat R3 OXALIPLATINE 100 mg/20 mL lot OX1 (25 mg)`` for each stock leftover used."""
    from oncosecours.documents.context.fiche import _plan, _plan_unit

    return [
        f"reliquat {u.get('label')} {u.get('product')} lot {u.get('lot')} "
        f"({dose(u.get('mg'))} {_plan_unit(prep)})"
        for u in _plan(prep).get("leftover_used") or []
        if u.get("stock_id")
    ]
