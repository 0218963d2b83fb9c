"""How old and how complete the loaded snapshot is: shown on every screen that uses it.

A stale backup is a named hazard (missing history, old protocols): :func:`snapshot_status`
says it in one dict that the ribbon, the CLI and the documents all show the same way.
Standard library only (no pandas): it runs on ribbon paths.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import date
from typing import Any

from oncosecours.store.circuit import snapshot_meta

COUNT_KEYS = ("patients", "protocols", "protocol_lines", "molecules", "products", "history")


def _threshold(settings: Any) -> int:
    if settings is None:
        from oncosecours.settings import load_settings

        settings = load_settings()
    section = settings["sauvegardes"] if isinstance(settings, Mapping) else settings.sauvegardes
    return int(section["seuil_anciennete_jours"])


def snapshot_status(
    conn: sqlite3.Connection, settings: Any = None, today: date | None = None
) -> dict[str, Any]:
    """The loaded backup: ``backup_date`` (ISO), ``age_days``, ``stale``, ``counts``,
    ``warnings``, plus ``loaded``, ``loaded_at``, ``source_dir``, ``threshold_days`` and a
    French ``message``. No snapshot at all counts as stale."""
    if today is None:
        from oncosecours.clock import today as clock_today

        today = clock_today()
    threshold = _threshold(settings)
    row = snapshot_meta(conn)
    if row is None:
        return {
            "loaded": False,
            "backup_date": None,
            "age_days": None,
            "stale": True,
            "threshold_days": threshold,
            "counts": dict.fromkeys(COUNT_KEYS, 0),
            "warnings": [],
            "loaded_at": None,
            "source_dir": None,
            "backup_date_source": None,
            "message": "Aucune sauvegarde Chimio chargée : lancer « Actualiser » "
            "(oncosecours refresh) sur le dossier des sauvegardes",
        }
    backup_date, loaded_at, source_dir = row["backup_date"], row["loaded_at"], row["source_dir"]
    counts_json, warnings_json = row["counts_json"], row["warnings_json"]
    how = row["backup_date_source"]
    day = date.fromisoformat(backup_date)
    age = (today - day).days
    counts = json.loads(counts_json)
    if age < 0:
        stale = True
        message = (
            f"Sauvegarde Chimio datée du {day:%d/%m/%Y}, postérieure à aujourd'hui : "
            "date à vérifier"
        )
    elif age > threshold:
        stale = True
        message = (
            f"SAUVEGARDE ANCIENNE : Chimio du {day:%d/%m/%Y}, il y a {age} jours "
            f"(seuil : {threshold} jours) — historique et protocoles peuvent manquer"
        )
    else:
        stale = False
        when = "aujourd'hui" if age == 0 else f"il y a {age} jour{'s' if age > 1 else ''}"
        message = f"Sauvegarde Chimio du {day:%d/%m/%Y} ({when})"
    return {
        "loaded": True,
        "backup_date": backup_date,
        "age_days": age,
        "stale": stale,
        "threshold_days": threshold,
        "counts": {key: int(counts.get(key, 0)) for key in COUNT_KEYS},
        "warnings": json.loads(warnings_json),
        "loaded_at": loaded_at,
        "source_dir": source_dir,
        "backup_date_source": how,
        "message": message,
    }
