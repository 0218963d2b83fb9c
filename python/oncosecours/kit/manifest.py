"""The kit's manifest (``MANIFESTE.json``): what the kit held when it was built.

Written by ``oncosecours kit`` beside the workbook; the installation qualification (IQ) on the
unit's PC compares the files it finds, and the installed versions, against it. The workbook is
fingerprinted by its VBA modules and its ribbon rather than by its bytes: the installer writes the
interpreter into its ``xlwings.conf`` sheet and Excel re-saves it at every use, neither of which
changes what runs.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError

MANIFEST_NAME = "MANIFESTE.json"
WORKBOOK_NAME = "OncoSecours.xlsm"
SKIPPED_DIRS = ("python", "qualification", "documents")
"""Created on the PC after the kit was copied (the installer's venv, reports, documents)."""
WATCHED = ("queries", "templates", "etablissement.toml")
"""What the unit may edit and what changes the behaviour: checked again by ``status``."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _text_digest(text: str) -> str:
    normalised = text.replace("\r\n", "\n").rstrip("\n")
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def workbook_fingerprint(path: Path) -> dict[str, str]:
    """SHA-256 of each VBA module's source and of the ribbon part, by name."""
    import zipfile

    from oncosecours.excel.builder import modules_in
    from oncosecours.excel.package import UI14_PART

    try:
        parts = {f"vba:{name}": _text_digest(src) for name, src in modules_in(path).items()}
        with zipfile.ZipFile(path) as archive:
            if UI14_PART in archive.namelist():
                parts[f"ruban:{UI14_PART}"] = hashlib.sha256(archive.read(UI14_PART)).hexdigest()
    except (OSError, zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise OncoError(f"Classeur illisible ({type(exc).__name__})", file=str(path)) from None
    return dict(sorted(parts.items()))


def kit_files(kit: Path) -> list[Path]:
    """Every file of the kit folder, except the manifest and what the PC adds later."""
    files = []
    for path in sorted(kit.rglob("*")):
        relative = path.relative_to(kit)
        if not path.is_file() or relative.parts[0] in SKIPPED_DIRS:
            continue
        if relative.as_posix() == MANIFEST_NAME or relative.parts[0].startswith("."):
            continue
        files.append(path)
    return files


def wheel_versions(wheelhouse: Path) -> dict[str, str]:
    """``{distribution: version}`` from the wheel file names (PEP 427), names normalised."""
    versions = {}
    for wheel in sorted(wheelhouse.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        versions[canonical(name)] = version
    return versions


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name (``pyOpenVBA`` -> ``pyopenvba``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def build_manifest(kit: Path, python_version: str) -> dict[str, Any]:
    from oncosecours import __version__

    files = {p.relative_to(kit).as_posix(): sha256_file(p) for p in kit_files(kit)}
    workbook = kit / WORKBOOK_NAME
    return {
        "format": 1,
        "cree_le": datetime.now().astimezone().isoformat(timespec="seconds"),
        "oncosecours": __version__,
        "python": python_version,
        "python_construction": ".".join(map(str, sys.version_info[:3])),
        "paquets": wheel_versions(kit / "wheelhouse"),
        "fichiers": files,
        "classeur": workbook_fingerprint(workbook) if workbook.is_file() else {},
    }


def write_manifest(kit: Path, python_version: str) -> Path:
    """Write ``MANIFESTE.json`` at the root of the kit (after every other file)."""
    target = kit / MANIFEST_NAME
    manifest = build_manifest(kit, python_version)
    target.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def read_manifest(kit: Path) -> dict[str, Any]:
    path = kit / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OncoError(
            "Manifeste du kit introuvable",
            file=str(path),
            hint="Le dossier doit être celui du kit (oncosecours kit), avec OncoSecours.xlsm",
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OncoError(f"Manifeste du kit illisible ({exc})", file=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("fichiers"), dict):
        raise OncoError("Manifeste du kit incomplet (section « fichiers »)", file=str(path))
    return data


def watched_files(kit: Path) -> list[Path]:
    """The files of :data:`WATCHED` only (never a walk of the whole folder)."""
    files = []
    for name in WATCHED:
        path = kit / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
    return files


def watched_fingerprint(kit: Path) -> str:
    """One digest of the files that change the behaviour (queries, templates, settings):
    recorded at qualification, recomputed by ``status`` and after each ribbon click (cheap)."""
    digest = hashlib.sha256()
    for path in watched_files(kit):
        digest.update(f"{path.relative_to(kit).as_posix()}={sha256_file(path)}\n".encode())
    return digest.hexdigest()


def workbook_digest(kit: Path) -> str | None:
    """One digest of the workbook's code (VBA modules, ribbon); None without a workbook."""
    workbook = kit / WORKBOOK_NAME
    if not workbook.is_file():
        return None
    digest = hashlib.sha256()
    for name, value in workbook_fingerprint(workbook).items():
        digest.update(f"{name}={value}\n".encode())
    return digest.hexdigest()
