"""Re-entry into Chimio: the crisis' records as CSV files laid out by ``exports/reprise_*.toml``,
and the checklist whose lines are ticked (an audited action) as the unit re-enters them.

The export itself writes nothing in the store (it stays possible once the register is closed);
the per-patient Word dossiers are produced by ``documents.dossier`` from the same records.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.services.core import Actor, action, optional_text
from oncosecours.services.sortie import exports
from oncosecours.services.sortie.records import CrisisRecords, datasets, gather
from oncosecours.store import audit
from oncosecours.store import sortie as db

ROLES = ("pharmacien",)
LAYOUTS = (
    "reprise_patients",
    "reprise_inclusions",
    "reprise_cures",
    "reprise_lignes",
    "reprise_preparations",
    "reprise_administrations",
)


def export_csv(
    records: CrisisRecords, out_dir: str | Path, layouts: str | Path | None = None
) -> list[dict[str, Any]]:
    """One CSV per export file; every file is checked before the first is written."""
    data = datasets(records)
    loaded = []
    for name in LAYOUTS:
        probe = exports.load(name, layouts)
        rows = data.get(probe.source)
        if rows is None:
            raise OncoError(
                f"source inconnue « {probe.source} » (sources : {', '.join(data)})",
                file=str(probe.path),
            )
        # an empty period has no row to read the field names from: checked on the next export
        fields = set(rows[0]) if rows else ()
        loaded.append((exports.load(name, layouts, fields), rows))
    written = []
    for layout, rows in loaded:
        path, digest = exports.write(layout, rows, out_dir)
        written.append({"fichier": str(path), "lignes": len(rows), "sha256": digest})
    return written


def checklist(
    conn: sqlite3.Connection, date_from: Any = None, date_to: Any = None
) -> dict[str, Any]:
    """The re-entry checklist of the period, with who ticked each item and when."""
    records = gather(conn, date_from, date_to)
    ticks = db.ticks(conn)
    items = records.items()
    for item in items:
        tick = ticks.get((item["kind"], item["id"]))
        item["ticked"] = tick is not None
        item["ticked_by"] = tick["ticked_by_initials"] if tick else ""
        item["ticked_at"] = tick["ticked_at"] if tick else ""
        item["comment"] = (tick or {}).get("comment") or ""
    done = sum(1 for i in items if i["ticked"])
    return {
        "du": records.date_from,
        "au": records.date_to,
        "items": items,
        "pointes": done,
        "restants": len(items) - done,
    }


def parse_key(text: str) -> tuple[str, int]:
    """``cure:12`` (as the checklist prints it) -> ("cure", 12)."""
    kind, _, number = str(text or "").strip().lower().partition(":")
    if kind not in ("patient", "inclusion", "cure") or not number.strip().isdigit():
        raise OncoError(
            f"Élément « {text} » : écrire patient:N, inclusion:N ou cure:N comme dans la liste",
            field="élément",
        )
    return kind, int(number)


def tick(
    conn: sqlite3.Connection, actor: Actor, keys: list[str], comment: str | None = None
) -> list[dict[str, Any]]:
    """Tick items as re-entered in Chimio: one transaction, one audit event per item."""
    wanted = list(dict.fromkeys(parse_key(k) for k in keys))
    if not wanted:
        raise OncoError("Aucun élément à pointer", field="élément")
    note = optional_text(comment)
    done = []
    with action(conn, actor, "pointer_reprise", ROLES, "pointer la reprise dans Chimio") as act:
        already = db.ticks(conn)
        for kind, item_id in wanted:
            if not db.item_exists(conn, kind, item_id):
                raise OncoError(f"Élément inconnu : {kind}:{item_id}", field="élément")
            if (kind, item_id) in already:
                tick_row = already[(kind, item_id)]
                raise OncoError(
                    f"{kind}:{item_id} déjà pointé par {tick_row['ticked_by_initials']} le "
                    f"{tick_row['ticked_at'][:16].replace('T', ' ')}",
                    rule="DEJA_FAIT",
                )
            at = audit.now_iso()
            db.insert_tick(conn, kind, item_id, actor.id, actor.initials, at, note)
            act.record("reprise", f"{kind}:{item_id}", None, {"pointé": True, "commentaire": note})
            done.append({"key": f"{kind}:{item_id}", "at": at})
    return done
