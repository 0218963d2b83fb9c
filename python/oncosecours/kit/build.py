"""Assemble the emergency kit: workbook, queries, templates, settings, Windows wheelhouse, installer.

Run on a connected machine in peacetime from a source checkout; the result is copied to the
offline PC or a USB key. The wheelhouse holds the whole dependency closure for Windows, checked
with ``pip install --dry-run --no-index`` before the kit is declared complete.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

from oncosecours.domain.errors import OncoError
from oncosecours.resources import shipped

WINDOWS_ONLY = ("pywin32", "tzdata")
"""Needed on Windows (by xlwings; by psycopg, ``tzdata; sys_platform == "win32"``): pip does not
evaluate markers for ``--platform``, so name them."""
EXTRAS = ("postgresql",)
"""Optional parts every workstation gets: psycopg, to work on the unit's PostgreSQL server."""
INSTALLED = f"oncosecours[{','.join(EXTRAS)}]"
"""What the installer installs from the wheelhouse (and the closure check resolves)."""

KIT_FOLDERS = ("queries", "templates", "exports")
HERE = Path(__file__).resolve().parent


def project_root() -> Path:
    """The source checkout the kit is built from (its pyproject.toml names the distribution)."""
    root = shipped().resolve()
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        raise OncoError(
            "Le kit se prépare depuis les sources d'OncoSecours (dossier avec pyproject.toml)",
            file=str(pyproject),
        )
    return root


def requirements(root: Path) -> list[str]:
    """Runtime requirements of the project and of its kit extras, plus what Windows needs on
    top."""
    with (root / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    extras = [r for extra in EXTRAS for r in project["optional-dependencies"][extra]]
    return [*project["dependencies"], *extras, *WINDOWS_ONLY]


def _pip(*args: str, step: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise OncoError(f"pip a échoué : {tail}", step=step)
    return result


def _platform_args(python_version: str) -> list[str]:
    return [
        "--platform",
        "win_amd64",
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--implementation",
        "cp",
    ]


def build_wheelhouse(root: Path, wheelhouse: Path, python_version: str) -> list[Path]:
    """The project's own wheel plus every dependency as Windows wheels."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    _pip("wheel", "--no-deps", "-q", "-w", str(wheelhouse), str(root), step="roue du projet")
    _pip(
        "download",
        "-q",
        *_platform_args(python_version),
        "-d",
        str(wheelhouse),
        *requirements(root),
        step="téléchargement des roues Windows",
    )
    return sorted(wheelhouse.glob("*.whl"))


def check_closure(wheelhouse: Path, python_version: str) -> str:
    """Resolve ``oncosecours`` for Windows from the wheelhouse alone; raise if anything is missing."""
    result = _pip(
        "install",
        "--dry-run",
        "--no-index",
        "--find-links",
        str(wheelhouse),
        *_platform_args(python_version),
        "--target",
        str(wheelhouse / ".dry-run-target"),
        "--ignore-installed",
        INSTALLED,
        *WINDOWS_ONLY,
        step="vérification de la roue complète (dépendances Windows)",
    )
    return result.stdout


def _render(template: str, python_version: str) -> str:
    major, minor = python_version.split(".")[:2]
    return (
        template.replace("{PYVER}", f"{major}.{minor}")
        .replace("{PYMAJOR}", major)
        .replace("{PYMINOR}", minor)
    )


def build_kit(
    out: Path,
    *,
    python_version: str = "3.11",
    build_workbook: Callable[[Path], Path] | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict:
    """Write the whole kit into ``out`` and return what it holds."""
    root = project_root()
    if out.exists() and any(out.iterdir()):
        raise OncoError("Le dossier du kit doit être vide ou absent", file=str(out))
    out.mkdir(parents=True, exist_ok=True)
    progress("Classeur OncoSecours.xlsm ...")
    if build_workbook is None:
        from oncosecours.excel.builder import build_workbook as default_builder

        build_workbook = default_builder
    workbook = build_workbook(out / "OncoSecours.xlsm")
    progress("Requêtes, modèles et paramètres ...")
    for folder in KIT_FOLDERS:
        shutil.copytree(shipped(folder), out / folder)
    shutil.copy2(shipped("etablissement.toml"), out / "etablissement.toml")
    progress("Roues Windows (wheelhouse) ...")
    wheels = build_wheelhouse(root, out / "wheelhouse", python_version)
    progress("Vérification des dépendances Windows ...")
    check_closure(out / "wheelhouse", python_version)
    shutil.rmtree(out / "wheelhouse" / ".dry-run-target", ignore_errors=True)
    for name, target in (
        ("installer.bat", "installer.bat"),
        ("guide_rapide.txt", "GUIDE-RAPIDE.txt"),
    ):
        text = _render((HERE / name).read_text(encoding="utf-8"), python_version)
        (out / target).write_bytes(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))
    progress("Manifeste du kit (sommes SHA-256, versions) ...")
    from oncosecours.kit.manifest import write_manifest

    manifest = write_manifest(out, python_version)
    return {
        "dossier": str(out),
        "classeur": str(workbook),
        "roues": [w.name for w in wheels],
        "python": python_version,
        "manifeste": str(manifest),
    }
