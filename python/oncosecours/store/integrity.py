"""``audit verify`` as a whole: the audit chain, the register against the chain, the anchors.

One report and one French text for every shell (CLI, ribbon, demo), so they say the same thing.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any

from oncosecours.store import anchors, audit
from oncosecours.store.ledger_verify import RowsReport, verify_rows


@dataclass
class IntegrityReport:
    """Everything verify found; ``ok`` only when the three parts are."""

    chain: audit.ChainReport
    rows: RowsReport
    anchors: anchors.AnchorReport
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.rows.ok and self.anchors.ok

    @property
    def events(self) -> int:
        return self.chain.events

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.chain.events,
            "first_bad_seq": self.chain.first_bad_seq,
            "problem": self.chain.problem,
            "lignes": {
                "ok": self.rows.ok,
                "entrees": self.rows.entries,
                "lignes_comparees": self.rows.rows,
                "problemes": self.rows.problems,
                "autres": self.rows.hidden,
                "remarques": self.rows.notes,
            },
            "ancres": {
                "ok": self.anchors.ok,
                "comparees": self.anchors.checked,
                "problemes": self.anchors.problems,
                "remarques": self.anchors.notes,
            },
            "secondes": round(self.seconds, 3),
            "durees": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def text(self) -> str:
        """One French paragraph: what is intact, or every problem found."""
        parts = []
        if self.chain.ok:
            parts.append(f"Journal d'audit intègre : {self.chain.events} événements vérifiés.")
        else:
            parts.append(
                f"JOURNAL D'AUDIT ALTÉRÉ : {self.chain.problem} "
                f"({self.chain.events} événements valides avant lui)."
            )
        if self.rows.ok:
            parts.append(
                f"Tables conformes au journal : {self.rows.rows} lignes comparées "
                f"({self.rows.entries} écritures)."
            )
        else:
            parts.append(f"REGISTRE MODIFIÉ HORS D'ONCOSECOURS : {self.rows.text()}.")
        if self.anchors.ok:
            if self.anchors.checked:
                parts.append(f"Ancres conformes : {self.anchors.checked} comparées.")
        else:
            parts.append("ANCRES DISCORDANTES : " + " ; ".join(self.anchors.problems) + ".")
        notes = self.rows.notes + self.anchors.notes
        if notes:
            parts.append("Remarque : " + " ; ".join(notes) + ".")
        return " ".join(parts)


def verify_store(
    conn: sqlite3.Connection, *, settings: Any = None, printed: list[str] = ()
) -> IntegrityReport:
    """Chain, rows and anchors (the second copy and snapshots configured in ``settings``, and
    the anchors ``printed`` on documents)."""

    own = not conn.in_transaction
    if own:  # one read transaction: a commit of another process meanwhile is not seen half-way
        conn.execute("BEGIN")
    try:
        return _verify(conn, settings, printed)
    finally:
        if own:
            conn.execute("ROLLBACK")


def _verify(conn: sqlite3.Connection, settings: Any, printed: list[str]) -> IntegrityReport:
    from oncosecours.store import replica

    started = time.perf_counter()
    timings = {}
    chain = audit.verify(conn)
    timings["journal"] = time.perf_counter() - started
    mark = time.perf_counter()
    rows = verify_rows(conn)
    timings["lignes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    store = replica.main_path(conn)
    target = replica.target_for(settings, store) if store is not None else None
    anchor = anchors.check(conn, target, list(printed))
    timings["ancres"] = time.perf_counter() - mark
    return IntegrityReport(chain, rows, anchor, time.perf_counter() - started, timings)
