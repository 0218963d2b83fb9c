"""One qualification, as the CLI (``oncosecours qualification run``) and the ribbon button
(« Qualifier ce poste ») both run it: IQ, OQ, the Excel self-test's results, then the report."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError

QUALIFY_ROLES = ("pharmacien", "administrateur")
PARTS = ("IQ", "OQ", "OQ-Excel")


def kit_folder(named: str | os.PathLike | None = None) -> Path:
    """The kit folder: named, else ``$ONCOSECOURS_DIR``, else the one holding this Python
    (``<kit>\\python``), else the shipped files (a source checkout: no manifest there)."""
    from oncosecours.kit.manifest import MANIFEST_NAME
    from oncosecours.resources import shipped

    if named:
        folder = Path(named)
        if not folder.is_dir():
            raise OncoError("Dossier du kit introuvable", file=str(folder))
        return folder
    env = os.environ.get("ONCOSECOURS_DIR")
    if env and Path(env).is_dir():
        return Path(env)
    beside = Path(sys.prefix).resolve().parent
    if (beside / MANIFEST_NAME).is_file():
        return beside
    return shipped()


def kit_settings(kit: Path):
    """The kit's settings file if it has one (the unit's), else the defaults."""
    from oncosecours.settings import load_settings

    beside = kit / "etablissement.toml"
    return load_settings(beside if beside.is_file() else None)


def report_folder(store: Path) -> Path:
    return store.resolve().parent / "qualification"


def qualify(
    kit: Path,
    who: str,
    out: Path,
    *,
    parts: tuple[str, ...] = PARTS,
    excel_results: Path | None = None,
    pdf: bool | None = None,
    settings=None,
) -> dict[str, Any]:
    """Run the parts asked, write the report; return ``{"record", "fichiers"}``."""
    from oncosecours.kit.manifest import read_manifest, watched_fingerprint, workbook_digest
    from oncosecours.qualification import excel_results as xl
    from oncosecours.qualification import iq, oq, report

    settings = settings or kit_settings(kit)
    items = []
    if "IQ" in parts:
        items += iq.run_iq(kit, settings)
    if "OQ" in parts:
        items += oq.run_oq(kit, settings)
    excel_note = "OQ dans Excel : non demandée"
    if "OQ-Excel" in parts:
        path = excel_results or xl.default_path(kit)
        found = xl.load_items(path if path.is_file() else None, windows=iq.is_windows())
        items += found
        excel_note = xl.summary(found)
    try:
        manifest_date = read_manifest(kit).get("cree_le")
    except OncoError:
        manifest_date = None
    record = report.build_record(
        items, kit=kit, who=who, parts=list(parts), fingerprint=watched_fingerprint(kit),
        workbook=workbook_digest(kit),
        manifest_date=manifest_date, excel_note=excel_note,
    )  # fmt: skip
    templates = kit / "templates"
    written = report.write_report(record, out, settings, templates=templates, pdf=pdf)
    return {"record": record, "fichiers": written}


def actor_label(actor) -> str:
    from oncosecours.services.core import require_role

    require_role(actor, QUALIFY_ROLES, "qualifier ce poste")
    return f"{actor.initials} — {actor.name} ({actor.role})"
