"""Health of the second copy: one dict for the CLI and the Accueil sheet."""

from __future__ import annotations

import os
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any

from oncosecours import clock
from oncosecours.store.replica import files
from oncosecours.store.replica.failures import read_state
from oncosecours.store.replica.files import MARGIN_BYTES, _mb, open_readonly, read_head
from oncosecours.store.replica.sync import _is_a_copy
from oncosecours.store.replica.target import target_for


def replica_status(
    settings: Any = None,
    store: str | os.PathLike | None = None,
    *,
    today: date | None = None,
) -> dict[str, Any]:
    """State of the second copy of ``store`` (default: the usual store).

    Keys: ``configure``, ``niveau`` (ok / attention / alerte), ``message`` (one French line to
    show on every screen), ``details`` (French lines), ``dossier``, ``copie``, ``base_seq``,
    ``copie_seq``, ``retard`` (audit events of the store missing from the copy), ``derniere_copie``,
    ``echec`` (the remembered failure or None), ``instantanes`` (count), ``dernier_instantane``,
    ``libre_octets``. Reads only; never raises for a missing medium."""
    from oncosecours.store.db import resolve

    today = today or clock.today()
    store_path = resolve(store).resolve()
    target = target_for(settings, store_path)
    status: dict[str, Any] = {
        "configure": target is not None,
        "niveau": "ok",
        "message": "",
        "details": [],
        "dossier": str(target.folder) if target else None,
        "copie": str(target.replica) if target else None,
        "base_seq": None,
        "copie_seq": None,
        "retard": None,
        "derniere_copie": None,
        "echec": None,
        "instantanes": 0,
        "dernier_instantane": None,
        "libre_octets": None,
    }
    if target is not None and _is_a_copy(target):
        status["niveau"] = "alerte"
        status["message"] = (
            "VOUS TRAVAILLEZ SUR LA COPIE DE SECOURS ELLE-MÊME : plus de second support. "
            f"Restaurer la base sur le poste (oncosecours backup restore --from {store_path} "
            "--store BASE_DU_POSTE) pour retrouver deux supports"
        )
        return status
    if target is None:
        status["niveau"] = "attention"
        status["message"] = (
            "AUCUNE COPIE DE SECOURS : renseigner [copie_secours] dossier dans les paramètres "
            "(un second support est obligatoire pour l'ordonnancier)"
        )
        return status
    main_head = read_head(store_path) if store_path.exists() else None
    status["base_seq"] = main_head[0] if main_head else None
    alerts: list[str] = []
    notices: list[str] = []
    failure = read_state(target)
    status["echec"] = failure
    if failure:
        since = failure.get("depuis", "")[11:16]
        alerts.append(f"{failure.get('message')} (en échec depuis {since})")
    if not target.folder.is_dir():
        if not failure:
            alerts.append(f"dossier de la copie de secours « {target.folder} » introuvable")
    else:
        free = files.free_bytes(target.folder)
        status["libre_octets"] = free
        size = store_path.stat().st_size if store_path.exists() else 0
        if free is not None and free < 3 * size + MARGIN_BYTES:
            notices.append(f"support presque plein ({_mb(free)} libres)")
        if _same_device(target.folder, store_path):
            notices.append(
                "la copie est sur le même disque que la base : elle ne protège pas "
                "d'une panne de ce disque"
            )
    copy_head = read_head(target.replica) if target.replica.exists() else None
    if target.replica.exists():
        status["derniere_copie"] = datetime.fromtimestamp(target.replica.stat().st_mtime).isoformat(
            timespec="seconds"
        )
        if copy_head is None:
            alerts.append(f"la copie « {target.replica} » ne s'ouvre pas")
    elif target.folder.is_dir() and main_head and main_head[0] > 0:
        alerts.append("aucune copie encore écrite (prochaine action ou « oncosecours backup now »)")
    if copy_head is not None:
        status["copie_seq"] = copy_head[0]
        if main_head is not None:
            lag = main_head[0] - copy_head[0]
            status["retard"] = max(lag, 0)
            if lag > 0:
                alerts.append(f"copie en retard de {lag} événement(s) d'audit")
            elif lag < 0:
                alerts.append(
                    f"la copie contient {-lag} événement(s) d'audit absent(s) de la base : "
                    "vérifier avec « oncosecours backup verify »"
                )
    snaps = target.snapshot_files()
    status["instantanes"] = len(snaps)
    if snaps:
        status["dernier_instantane"] = snaps[-1][0].isoformat()
    worked = _last_event_day(store_path) if main_head and main_head[0] else None
    if worked is not None and (not snaps or snaps[-1][0] < worked) and target.folder.is_dir():
        notices.append(
            f"pas d'instantané du {worked:%d/%m/%Y} (« oncosecours backup now » pour l'écrire)"
        )
    if alerts:
        status["niveau"] = "alerte"
        status["message"] = "COPIE DE SECOURS EN ÉCHEC : " + " ; ".join(alerts)
    else:
        when = status["derniere_copie"]
        stamp = f"{when[8:10]}/{when[5:7]} {when[11:16]}" if when else "—"
        last = f", dernier le {snaps[-1][0]:%d/%m/%Y}" if snaps else ", aucun encore"  # noqa: E501
        status["message"] = (
            f"Copie de secours à jour ({target.replica}, {stamp}) ; "
            f"{len(snaps)} instantané{'s' if len(snaps) > 1 else ''}{last}"
        )
        if notices:
            status["niveau"] = "attention"
            status["message"] += " — " + " ; ".join(notices)
    status["details"] = alerts + notices
    return status


def _last_event_day(store: Path) -> date | None:
    """Local day of the store's last audit event."""
    try:
        ro = open_readonly(store)
    except sqlite3.Error:
        return None
    try:
        row = ro.execute("SELECT at FROM audit_event ORDER BY seq DESC LIMIT 1").fetchone()
        return datetime.fromisoformat(row[0]).astimezone().date() if row else None
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        ro.close()


def _same_device(folder: Path, store: Path) -> bool:
    try:
        return store.exists() and os.stat(folder).st_dev == os.stat(store).st_dev
    except OSError:
        return False
