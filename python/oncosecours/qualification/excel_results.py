"""The Excel self-test's results (``autotest-excel.json``) as items of the report (OQ-Excel).

Written by :mod:`oncosecours.qualification.excel_autotest` in Excel; read here on the CLI and
ribbon side. Every step the self-test should have played and did not is a failure; no results
at all is a failure on Windows (Excel is the point of the PC) and "non applicable" elsewhere.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from oncosecours.qualification.items import (
    NON_APPLICABLE,
    NON_CONFORME,
    Item,
    check,
)

PHASE = "OQ-Excel"
MAX_AGE = timedelta(hours=24)


def default_path(kit: Path) -> Path:
    from oncosecours.qualification.excel_autotest import RESULTS

    return kit / "qualification" / "autotest" / RESULTS


def load_items(path: Path | None, *, windows: bool, now: datetime | None = None) -> list[Item]:
    from oncosecours.excel.registry import BY_TAG
    from oncosecours.qualification.excel_autotest import STEPS

    title = "Autotest du classeur dans Excel"
    if path is None or not path.is_file():
        where = str(path) if path else "—"
        if not windows:
            return [Item("XL-00", PHASE, title, "résultats de l'autotest Excel", "absents",
                         NON_APPLICABLE, "poste non Windows : pas d'Excel ici")]  # fmt: skip
        return [
            Item(
                "XL-00",
                PHASE,
                title,
                "résultats de l'autotest Excel",
                f"absents ({where})",
                NON_CONFORME,
                "lancer « Qualifier ce poste » depuis le ruban d'Excel",
            )
        ]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        when = datetime.fromisoformat(data["date"])
        results = {int(r["etape"]): r for r in data["resultats"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [Item("XL-00", PHASE, title, "résultats lisibles", f"illisibles : {exc}",
                     NON_CONFORME, str(path))]  # fmt: skip
    now = now or datetime.now().astimezone()
    age = now - when
    items = [check("XL-00", PHASE, title, "autotest de moins de 24 h sur ce poste",
                   f"{data.get('poste', '?')}, Excel {data.get('excel') or '?'}, "
                   f"le {when:%d/%m/%Y %H:%M}", age <= MAX_AGE, source=str(path))]  # fmt: skip
    for number, (tag, initials) in enumerate(STEPS, start=1):
        label = BY_TAG[tag].label if tag in BY_TAG else tag
        result = results.get(number)
        ref = f"XL-{number:02d}"
        step_title = f"Bouton « {label} » ({initials})"
        if result is None or result.get("bouton") != tag:
            items.append(Item(ref, PHASE, step_title, "étape jouée", "non jouée", NON_CONFORME,
                              "l'autotest s'est arrêté avant cette étape"))  # fmt: skip
            continue
        if result.get("resultat") == "non_applicable":
            items.append(Item(ref, PHASE, step_title, str(result.get("attendu", "")),
                              str(result.get("observe", "")), NON_APPLICABLE,
                              "sans objet avec les paramètres de ce poste"))  # fmt: skip
            continue
        items.append(
            check(
                ref,
                PHASE,
                step_title,
                str(result.get("attendu", "")),
                str(result.get("observe", "")),
                result.get("resultat") == "conforme",
            )
        )
    return items


def summary(items: list[Item]) -> str:
    played = [i for i in items if i.ref != "XL-00" and i.verdict != NON_APPLICABLE]
    if not played:
        return f"OQ dans Excel : {items[0].observed} ({items[0].reason})" if items else ""
    good = sum(not i.failed for i in played)
    return f"OQ dans Excel : {len(played)} étapes du ruban, {good} conformes"
