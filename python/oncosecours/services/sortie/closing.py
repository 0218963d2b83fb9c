"""Closing the crisis: the final audited action, after its checklist, that freezes the register.

Checklist: every re-entry item ticked, no reconciliation break left unjustified, the audit trail
and the ordonnancier intact. Once closed, ``store.db.transaction`` refuses every write (rule
REGISTRE_CLOS): reading, exports, the archive and the checks still work.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.services.core import Actor, action
from oncosecours.services.sortie import reconcile, reentry
from oncosecours.store import audit
from oncosecours.store import sortie as db
from oncosecours.store.ordonnancier import check_sequence

ROLES = ("pharmacien",)


def checklist(conn: sqlite3.Connection) -> dict[str, Any]:
    """What stands between the unit and the closing (the whole crisis, not a period)."""
    items = reentry.checklist(conn)
    report = reconcile.breaks(conn)
    chain = audit.verify(conn)
    register = check_sequence(conn)
    checks = [
        {
            "controle": "Reprise dans Chimio",
            "ok": items["restants"] == 0,
            "detail": f"{items['pointes']} élément(s) pointé(s), {items['restants']} à pointer",
        },
        {
            "controle": "Rapprochement",
            "ok": report["ouvertes"] == 0,
            "detail": f"{len(report['ruptures'])} rupture(s), {report['ouvertes']} à justifier",
        },
        {
            "controle": "Journal d'audit",
            "ok": chain.ok,
            "detail": f"{chain.events} événement(s)" + ("" if chain.ok else f" : {chain.problem}"),
        },
        {
            "controle": "Ordonnancier",
            "ok": register.ok,
            "detail": f"{register.entries} entrée(s)"
            + ("" if register.ok else " : " + "; ".join(register.problems[:3])),
        },
    ]
    closed = db.closure(conn)
    return {"checks": checks, "ready": all(c["ok"] for c in checks), "closed": closed}


def close_crisis(conn: sqlite3.Connection, actor: Actor) -> dict[str, Any]:
    """Freeze the register, refused unless every check of the checklist passes."""
    with action(conn, actor, "clore_crise", ROLES, "clore la crise") as act:
        state = checklist(conn)
        failing = [c for c in state["checks"] if not c["ok"]]
        if failing:
            raise OncoError(
                "La crise ne peut pas être close : "
                + " ; ".join(f"{c['controle']} : {c['detail']}" for c in failing),
                rule="CLOTURE_INCOMPLETE",
                hint="Voir « oncosecours sortie close --check »",
            )
        at = audit.now_iso()
        summary = {c["controle"]: c["detail"] for c in state["checks"]}
        db.insert_closure(
            conn,
            {
                "closed_at": at,
                "closed_by": actor.id,
                "closed_by_initials": actor.initials,
                "closed_by_name": actor.name,
                "summary_json": json.dumps(summary, ensure_ascii=False),
            },
        )
        act.record("registre", "clôture", None, {"clos_le": at, **summary})
    return {"closed_at": at, "by": actor.initials, "summary": summary}
