"""The qualification report: JSON (machine-readable, the record ``status`` reads) and Word from
``templates/rapport_qualification.docx`` (+ PDF when LibreOffice is there), failing items first.

Files are named after the PC and the time, in the report folder (default: ``qualification/``
beside the store): ``qualification-<PC>-AAAAMMJJ-HHMMSS.json`` / ``.docx`` / ``.pdf``.
"""

from __future__ import annotations

import json
import platform
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from oncosecours.qualification.items import (
    LABELS,
    OVERALL_KO,
    Item,
    failing_first,
    overall,
)
from oncosecours.qualification.records import PREFIX, pc_name, safe_pc

FORMAT = 1


def summary(items: list[Item]) -> str:
    counts = Counter(i.verdict for i in items)
    parts = [f"{n} {LABELS[v]}" for v, n in counts.items()]
    return f"{len(items)} essais : " + ", ".join(parts)


def build_record(
    items: list[Item],
    *,
    kit: Path,
    who: str,
    parts: list[str],
    fingerprint: str | None,
    workbook: str | None = None,
    manifest_date: str | None,
    excel_note: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The JSON document of one qualification (also the context's source)."""
    from oncosecours import __version__

    now = now or datetime.now().astimezone()
    ordered = failing_first(items)
    return {
        "format": FORMAT,
        "poste": pc_name(),
        "systeme": platform.platform(),
        "python": f"{platform.python_version()} ({sys.executable})",
        "oncosecours": __version__,
        "kit": str(kit),
        "manifeste": manifest_date or "absent",
        "empreinte_kit": fingerprint,
        "empreinte_classeur": workbook,
        "date": now.isoformat(timespec="seconds"),
        "par": who,
        "parties": parts,
        "verdict": overall(items),
        "resume": summary(items),
        "excel": excel_note,
        "essais": [i.as_dict() for i in ordered],
    }


PART_LABELS = {
    "IQ": "qualification d'installation (IQ)",
    "OQ": "qualification opérationnelle sans Excel (OQ)",
    "OQ-Excel": "qualification opérationnelle dans Excel (autotest)",
}


def context(record: dict[str, Any], settings, now: datetime | None = None) -> dict[str, Any]:
    """The template's context (every field a printable text, see champs.toml)."""
    from oncosecours.documents.context import common

    when = datetime.fromisoformat(record["date"])
    items = [Item.from_dict(e) for e in record["essais"]]
    rows = [
        {
            "ref": i.ref,
            "phase": i.phase,
            "titre": i.title,
            "attendu": i.expected,
            "observe": i.observed,
            "verdict": LABELS[i.verdict],
            "non_conforme": "oui" if i.failed else "",
            "source": i.source,
            "motif": i.reason,
        }
        for i in items
    ]
    parts = ", ".join(PART_LABELS.get(p, p) for p in record["parties"])
    return {
        **common(settings, "qualification", now=now or when.replace(tzinfo=None)),
        "poste": {
            "nom": record["poste"],
            "systeme": record["systeme"],
            "python": record["python"],
            "version": record["oncosecours"],
            "kit": record["kit"],
            "manifeste": record["manifeste"],
        },
        "qualification": {
            "type": parts[:1].upper() + parts[1:],
            "date": when.strftime("%d/%m/%Y %H:%M") + _redone(record),
            "par": record["par"],
            "verdict": record["verdict"],
            "non_conforme": "oui" if record["verdict"] == OVERALL_KO else "",
            "resume": record["resume"],
            "excel": record["excel"],
        },
        "ecarts": [
            {k: r[k] for k in ("ref", "titre", "attendu", "observe", "motif")}
            for r in rows
            if r["non_conforme"]
        ],
        "essais": rows,
    }


def _redone(record: dict[str, Any]) -> str:
    if not record.get("refait_le"):
        return ""
    at = datetime.fromisoformat(record["refait_le"])
    return f" (rapport refait le {at:%d/%m/%Y %H:%M} depuis {record.get('refait_depuis', '?')})"


def write_report(
    record: dict[str, Any], folder: Path, settings, *, templates: Path | None = None,
    pdf: bool | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Write the JSON, the .docx and (LibreOffice permitting) the PDF; return their paths."""
    from oncosecours.documents import render

    folder.mkdir(parents=True, exist_ok=True)
    when = datetime.fromisoformat(record["date"])
    stem = f"{PREFIX}{safe_pc(record['poste'])}-{when:%Y%m%d-%H%M%S}"
    if record.get("refait_le"):  # a report redone later never replaces the signed original
        stem += f"-refait-{datetime.fromisoformat(record['refait_le']):%Y%m%d-%H%M%S}"
    json_path = folder / f"{stem}.json"
    json_path.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    own = templates and (templates / "rapport_qualification.docx").is_file()
    renderer = render.Renderer(settings, templates if own else None)
    ctx = context(record, settings)
    renderer.check("qualification", [ctx])
    docx = renderer.write_one("qualification", ctx, folder / f"{stem}.docx")
    written = {"json": str(json_path), "docx": str(docx), "pdf": None, "pdf_note": None}
    if pdf is not False:
        from oncosecours.documents import pdf as pdf_mod

        if pdf_mod.soffice() is None:
            written["pdf_note"] = "LibreOffice absent : PDF non produit (imprimer le .docx)"
        else:
            try:
                written["pdf"] = str(pdf_mod.convert([docx], folder)[0])
            except Exception as exc:  # the .docx is there: say why the PDF is not
                written["pdf_note"] = f"PDF non produit : {exc}"
    return written


def sample_contexts(settings, now: datetime) -> list[dict[str, Any]]:
    """Sample reports for ``templates check``: one NON CONFORME, one CONFORME."""
    from oncosecours.qualification.items import CONFORME, NON_APPLICABLE, NON_CONFORME

    failing = [
        Item("OQ-10.carbo.Carboplatine", "OQ", "Dose de Carboplatine de QUALIFCARBO",
             "750 mg (± 0,1 %)", "1125 mg", NON_CONFORME, "DFG non plafonné",
             "Calvert 1989 : AUC × (DFG + 25)"),
        Item("IQ-01", "IQ", "Système d'exploitation", "Windows 10 ou 11", "Linux",
             NON_APPLICABLE, "poste non Windows"),
        Item("IQ-05.01", "IQ", "Fichier queries/patients.toml", "SHA-256 0123456789abcdef…",
             "SHA-256 0123456789abcdef…", CONFORME, source="MANIFESTE.json"),
    ]  # fmt: skip
    passing = [failing[2], failing[1]]
    out = []
    for items, who in ((failing, "PH1 — Anne Lefèvre (pharmacien)"), (passing, "O'Brien")):
        record = build_record(
            items, kit=Path("D:/OncoSecours"), who=who, parts=["IQ", "OQ"],
            fingerprint=None, manifest_date="kit du 02/03/2026 10:12",
            excel_note="OQ dans Excel : résultats non fournis", now=now.astimezone(),
        )  # fmt: skip
        record["poste"] = "PUI-UPC-01"
        out.append(context(record, settings, now=now))
    return out
