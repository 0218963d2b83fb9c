"""Periodic requalification: when was this PC last qualified, and is it still valid?

Read by ``oncosecours status`` and the Accueil sheet. Valid means: a report of this PC exists
beside the store, its verdict is CONFORME, it is younger than ``[qualification]
validite_mois``, and the kit's behaviour-changing files (queries, templates, settings, the
workbook's code) have the fingerprint recorded at qualification.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

REQUALIFY = "requalifier : oncosecours qualification run (ou « Qualifier ce poste »)"


def _months_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).days / 30.4375


def qualification_status(settings, store: Path, *, kit: Path | None = None,
                         now: datetime | None = None, workbook: bool = True) -> dict[str, Any]:  # fmt: skip
    """``{"date", "verdict", "a_jour", "message"}``; never raises (a problem is the message).

    ``workbook=False`` skips the workbook's code (reading VBA costs a few hundred ms): the
    Accueil line after each click; ``status`` checks it."""
    from oncosecours.kit.manifest import watched_fingerprint, workbook_digest
    from oncosecours.qualification.records import latest_record, pc_name
    from oncosecours.qualification.run import kit_folder, report_folder

    try:
        months = int(settings["qualification"]["validite_mois"])
        record = latest_record(report_folder(Path(store)))
        kit = kit or kit_folder()
        now = now or datetime.now().astimezone()
        if record is None:
            return {"date": None, "verdict": None, "a_jour": False,
                    "message": f"ATTENTION : ce poste ({pc_name()}) n'a jamais été qualifié ; "
                               + REQUALIFY}  # fmt: skip
        when = datetime.fromisoformat(record["date"])
        said = f"qualification du poste {record['poste']} le {when:%d/%m/%Y} : {record['verdict']}"
        problems = []
        if record["verdict"] != "CONFORME":
            problems.append("verdict NON CONFORME")
        age = _months_between(when, now)
        if age > months:
            problems.append(f"plus de {months} mois ({age:.0f} mois)")
        if record.get("empreinte_kit") and record["empreinte_kit"] != watched_fingerprint(kit):
            problems.append("requêtes, modèles ou paramètres modifiés depuis")
        if workbook and record.get("empreinte_classeur") not in (None, workbook_digest(kit)):
            problems.append("code du classeur (VBA, ruban) modifié depuis")
        message = (f"ATTENTION : {said} — " + " ; ".join(problems) + " ; " + REQUALIFY
                   if problems else f"Dernière {said} (valable {months} mois)")  # fmt: skip
        return {"date": record["date"], "verdict": record["verdict"], "a_jour": not problems,
                "message": message, "rapport": record.get("fichier")}  # fmt: skip
    except Exception as exc:  # the line must never break status or the Accueil sheet
        return {
            "date": None,
            "verdict": None,
            "a_jour": False,
            "message": f"ÉTAT DE LA QUALIFICATION ILLISIBLE : {exc}",
        }
