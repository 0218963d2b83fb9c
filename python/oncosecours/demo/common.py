"""What the chapters of the demo share: the day's constants and small French wording helpers."""

from __future__ import annotations

from datetime import date, time
from typing import Any

SEED = 2026
ROLES_FR = {
    "prescripteur": ("prescripteur", "prescripteurs"),
    "pharmacien": ("pharmacien", "pharmaciens"),
    "préparateur": ("préparateur", "préparateurs"),
    "infirmier": ("infirmier", "infirmiers"),
    "administrateur": ("administrateur", "administrateurs"),
}
SCALE = "small"
DAY_END = time(19, 0)


def _lots_for(sheet: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Plausible lots for every vial and the diluent of a preparation (expiry in a year)."""
    expiry = f"{(today.month % 12) + 1:02d}/{today.year + 1}"
    lots = [
        {
            "kind": "flacon",
            "component": p["name"],
            "lot": f"L{str(p['product_id'])[-5:]}{today:%y}",
            "expiry": expiry,
            "quantity": p["count"],
            "product_id": p["product_id"],
        }
        for p in sheet["products"]
    ]
    if sheet["diluent"]:
        lots.append(
            {
                "kind": "diluant",
                "component": sheet["diluent"],
                "lot": f"D{today:%y%m}01",
                "expiry": expiry,
            }  # fmt: skip
        )
    return lots


def _name(patient: dict[str, Any]) -> str:
    usual = f" ({patient['usual_name']})" if patient.get("usual_name") else ""
    return f"{patient['birth_name']}{usual} {patient['first_name']}"


def _fold(text: str | None) -> str:
    from oncosecours.domain.identity import fold

    return fold(text)


def _fr(value: float, decimals: int = 2) -> str:
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _fr_day(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


def _duration(minutes: int | None) -> str:
    minutes = int(minutes or 0)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _counts_fr(counts: dict[str, int]) -> str:
    return (
        f"{counts['patients']} patients, {counts['protocols']} protocoles "
        f"({counts['protocol_lines']} lignes), {counts['molecules']} molécules, "
        f"{counts['products']} produits, {counts['history']} lignes d'historique"
    )
