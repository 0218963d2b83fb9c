"""The part every template shares (hospital, backup, document) and the record helpers of the
mapping: reading optional fields of store rows, a patient's identity block.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from oncosecours.documents.context.formatting import date, parse_when, upper_name

TITLES = {
    "fabrication": "Fiche de fabrication",
    "etiquette": "Étiquette",
    "plan_de_soins": "Plan de soins",
    "ordonnancier": "Extrait de l'ordonnancier",
    "qualification": "Rapport de qualification du poste",
}

BOX_DONE = "☒"
"""A check box of the fiche ticked: the step is recorded in the store."""
BOX_TODO = "☐"
"""An empty check box of the fiche: not recorded (yet), to tick by hand on paper."""


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
    parsed = parse_when(backup_date)
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
