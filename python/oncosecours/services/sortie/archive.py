"""The ten-year archive: one self-describing folder, checkable without OncoSecours.

    ordonnancier/ordonnancier.csv        the register, one line per number (exports/ordonnancier.toml)
    ordonnancier/ordonnancier_*.pdf      the same as PDF/A-2b (and its .docx), when LibreOffice is here
    journal/journal_audit.jsonl          the audit trail, one JSON event per line, hash-chained
    base/oncosecours.sqlite              the store itself (SQLite online backup)
    archive.json                         what, when, by whom; the chain's last hash
    LISEZMOI.md                          the French README: content and re-verification procedure
    MANIFESTE.sha256                     SHA-256 of every other file (``sha256sum -c`` format)

Writing the archive changes nothing in the store (it is made once the register is closed).
:func:`verify` re-reads a folder: manifest, chain of the JSON Lines trail (the procedure of the
README, in Python), the copied store's own chain, PDF/A declaration.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from oncosecours import clock
from oncosecours.domain.errors import OncoError
from oncosecours.services.sortie import exports
from oncosecours.services.sortie.records import period, register_rows
from oncosecours.store import sortie as db
from oncosecours.store.audit import FIELDS as CHAIN_FIELDS  # the fields each hash covers

MANIFEST = "MANIFESTE.sha256"
JOURNAL = "journal/journal_audit.jsonl"
STORE = "base/oncosecours.sqlite"

OrdonnancierDocuments = Callable[[Path, str, str], list[Path]]
"""(folder, first day, last day) -> the register's documents written there (PDF/A and .docx)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def event_hash(event: dict[str, Any]) -> str:
    """The hash of one event, exactly as the README's procedure computes it."""
    payload = json.dumps([event[f] for f in CHAIN_FIELDS], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def write_archive(
    conn: sqlite3.Connection,
    out_dir: str | Path,
    *,
    documents: OrdonnancierDocuments | None = None,
    layouts: str | Path | None = None,
    by: str = "",
) -> dict[str, Any]:
    """Write the archive folder under ``out_dir``; returns its path and what it holds."""
    from oncosecours.resources import shipped

    now = clock.now()
    start, end = period(conn, None, None)
    folder = Path(out_dir) / f"archive-oncosecours-{now:%Y%m%d-%H%M%S}"
    if folder.exists():
        raise OncoError("Ce dossier d'archive existe déjà : recommencer dans une seconde",
                        file=str(folder))  # fmt: skip
    layout = exports.load("ordonnancier", layouts)
    rows = register_rows(conn, start, end)
    if rows:
        layout = exports.load("ordonnancier", layouts, set(rows[0]))
    (folder / "ordonnancier").mkdir(parents=True)
    exports.write(layout, rows, folder / "ordonnancier")
    pdf_files = documents(folder / "ordonnancier", start, end) if documents else []
    (folder / "journal").mkdir()
    events, last_hash = 0, ""
    with (folder / JOURNAL).open("w", encoding="utf-8", newline="\n") as out:
        for row in db.audit_rows(conn):
            event = dict(zip((*CHAIN_FIELDS, "hash"), row, strict=True))
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            events += 1
            last_hash = event["hash"]
    (folder / "base").mkdir()
    db.copy_store(conn, str(folder / STORE))
    closure = db.closure(conn)
    meta = {
        "logiciel": "OncoSecours",
        "cree_le": now.isoformat(timespec="seconds"),
        "cree_par": by,
        "periode": {"du": start, "au": end},
        "ordonnancier_entrees": len(rows),
        "journal_evenements": events,
        "journal_derniere_empreinte": last_hash,
        "registre_clos": closure is not None,
        "cloture": None if closure is None else {
            "le": closure["closed_at"], "par": closure["closed_by_initials"],
        },
        "pdf": [p.name for p in pdf_files if p.suffix == ".pdf"],
    }  # fmt: skip
    (folder / "archive.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    readme = (shipped("exports") / "LISEZMOI-ARCHIVE.md").read_text(encoding="utf-8")
    (folder / "LISEZMOI.md").write_text(
        readme.replace("{{ periode }}", f"du {start} au {end}")
        .replace("{{ cree_le }}", meta["cree_le"])
        .replace("{{ evenements }}", str(events))
        .replace("{{ empreinte }}", last_hash or "(journal vide)"),
        encoding="utf-8",
    )
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    lines = [f"{_sha256(p)}  {p.relative_to(folder).as_posix()}" for p in files]
    (folder / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"dossier": str(folder), "fichiers": len(files) + 1, **meta}


# --- verification ----------------------------------------------------------------------------------


def _verify_journal(path: Path, problems: list[str]) -> tuple[int, str]:
    previous, count = "", 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                event = json.loads(line)
                computed = event_hash(event)
            except (ValueError, KeyError, TypeError):
                problems.append(f"{JOURNAL}, ligne {number} : événement illisible")
                return count, previous
            if event["seq"] != number:
                problems.append(f"{JOURNAL}, ligne {number} : n° {event['seq']}, attendu {number}")
            if event["prev_hash"] != previous:
                problems.append(f"{JOURNAL}, ligne {number} : chaînage rompu")
            if computed != event["hash"]:
                problems.append(f"{JOURNAL}, ligne {number} : contenu modifié (empreinte fausse)")
            previous, count = event["hash"], number
    return count, previous


def verify(folder: str | Path) -> dict[str, Any]:
    """Check an archive folder; ``ok`` is False with the problems (French) when anything is off."""
    from oncosecours.domain.pdfa import declared_pdfa
    from oncosecours.store.audit import last_hash
    from oncosecours.store.audit import verify as verify_chain
    from oncosecours.store.db import open_read_only

    root = Path(folder)
    if not (root / MANIFEST).is_file():
        raise OncoError("Ce dossier n'est pas une archive OncoSecours (MANIFESTE.sha256 absent)",
                        file=str(root))  # fmt: skip
    problems: list[str] = []
    listed: set[str] = set()
    for number, line in enumerate((root / MANIFEST).read_text("utf-8").splitlines(), start=1):
        digest, _, name = line.partition("  ")
        if not name:
            problems.append(f"{MANIFEST}, ligne {number} illisible")
            continue
        listed.add(name)
        path = root / name
        if not path.is_file():
            problems.append(f"{name} : fichier manquant")
        elif _sha256(path) != digest:
            problems.append(f"{name} : fichier modifié (SHA-256 différent du manifeste)")
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix()
        if name != MANIFEST and name not in listed:
            problems.append(f"{name} : fichier absent du manifeste (ajouté après l'archivage)")
    events, last = (0, "")
    if (root / JOURNAL).is_file():
        events, last = _verify_journal(root / JOURNAL, problems)
    meta = {}
    if (root / "archive.json").is_file():
        meta = json.loads((root / "archive.json").read_text("utf-8"))
        if meta.get("journal_derniere_empreinte") != last:
            problems.append("journal : dernière empreinte différente de celle d'archive.json")
    if (root / STORE).is_file():
        copy = open_read_only(root / STORE)
        try:
            report = verify_chain(copy)
            head = last_hash(copy)
        except sqlite3.DatabaseError as exc:
            problems.append(f"{STORE} : base illisible ({exc})")
        else:
            if not report.ok:
                problems.append(f"{STORE} : journal d'audit de la base altéré ({report.problem})")
            elif head and head != last:
                problems.append(f"{STORE} : journal de la base différent de {JOURNAL}")
        finally:
            copy.close()
    for pdf in sorted(root.glob("ordonnancier/*.pdf")):
        if declared_pdfa(pdf.read_bytes()) is None:
            problems.append(f"{pdf.relative_to(root).as_posix()} : ne se déclare pas PDF/A")
    return {
        "dossier": str(root),
        "ok": not problems,
        "fichiers": len(listed),
        "evenements": events,
        "problemes": problems,
        "verifie_le": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
