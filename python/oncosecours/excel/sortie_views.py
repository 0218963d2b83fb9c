"""What the « Reprise » and « Rapprochement » sheets show, read through the sortie services (no
SQL here): the re-entry checklist and the reconciliation breaks."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=None) if text else None


def reprise(conn: sqlite3.Connection, ctx: Any):
    from oncosecours.excel.views import SheetContent
    from oncosecours.services.sortie.reentry import checklist
    from oncosecours.store.sortie import closure

    state = checklist(conn)
    closed = closure(conn)
    rows = [
        {
            "element": item["key"],
            "type": item["kind_fr"],
            "patient": item["patient"],
            "ipp": item["ipp"],
            "libelle": item["label"],
            "pointe": "Oui" if item["ticked"] else "Non",
            "pointe_par": item["ticked_by"] or None,
            "pointe_le": _when(item["ticked_at"]),
            "commentaire": item["comment"] or None,
        }
        for item in state["items"]
    ]
    fields = {
        "avancement": f"du {state['du']} au {state['au']} : {state['pointes']} élément(s) "
        f"pointé(s), {state['restants']} à pointer",
        "cloture": (
            f"CLOS le {closed['closed_at'][:16].replace('T', ' ')} par "
            f"{closed['closed_by_initials']}" if closed else "ouvert"
        ),
    }  # fmt: skip
    return SheetContent(fields=fields, rows=rows)


def rapprochement(conn: sqlite3.Connection, ctx: Any):
    from oncosecours.excel.views import SheetContent
    from oncosecours.services.sortie.reconcile import breaks

    report = breaks(conn)
    rows = [
        {
            "rupture": f"{b['regle']}:{b['cle']}",
            "libelle": b["libelle"],
            "patient": b["patient"],
            "message": b["message"],
            "justification": b["justification"] or None,
            "justifie_par": b["justifie_par"] or None,
            "justifie_le": _when(b["justifie_le"]),
        }
        for b in report["ruptures"]
    ]
    summary = (
        f"du {report['du']} au {report['au']} : {report['preparations']} préparation(s), "
        f"{len(report['ruptures'])} rupture(s) dont {report['ouvertes']} à justifier"
    )
    return SheetContent(fields={"resume": summary}, rows=rows)
