"""The demo's output folder: fresh each run, and never someone else's folder.

A previous demo folder is recognised by the marker file the demo writes first; only such a
folder is emptied. Any other non-empty folder (or a file, or a symbolic link) is refused.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from oncosecours.domain.errors import OncoError

MARKER = ".oncosecours-demo"
MARKER_TEXT = (
    "Dossier créé par « oncosecours demo » : il est vidé et recréé à chaque démonstration.\n"
    "Ne rien y ranger d'autre.\n"
)


@dataclass(frozen=True)
class Paths:
    """Where the demo writes everything (all under ``root``)."""

    root: Path

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    @property
    def settings(self) -> Path:
        return self.root / "etablissement-demo.toml"

    @property
    def store(self) -> Path:
        return self.root / "oncosecours.sqlite"

    @property
    def backup(self) -> Path:
        return self.root / "sauvegardes" / "chimio-synthetique"

    @property
    def workbook(self) -> Path:
        return self.root / "OncoSecours.xlsm"

    @property
    def documents(self) -> Path:
        return self.root / "documents"

    @property
    def replica(self) -> Path:
        return self.root / "copie-secours"

    @property
    def summary_text(self) -> Path:
        return self.root / "RESUME.txt"

    @property
    def summary_json(self) -> Path:
        return self.root / "resume.json"


def prepare_output(out: str | Path) -> Paths:
    """Create ``out`` (or empty a previous demo's folder) and write the marker first."""
    root = Path(out).expanduser()
    if root.is_symlink():
        raise OncoError(
            "Le dossier de sortie est un lien symbolique : refusé",
            file=str(root),
            hint="Indiquer un vrai dossier avec --out",
        )
    if root.exists() and not root.is_dir():
        raise OncoError("Le chemin de sortie existe et n'est pas un dossier", file=str(root))
    root = root.resolve()
    if root.exists() and any(root.iterdir()):
        here = Path.cwd().resolve()
        if here == root or root in here.parents:
            raise OncoError(
                "Le dossier de sortie contient le dossier courant : il ne peut pas être vidé",
                file=str(root),
                hint="Lancer la démonstration depuis un autre dossier, ou choisir un autre --out",
            )
        if not (root / MARKER).is_file():
            raise OncoError(
                "Le dossier de sortie existe, n'est pas vide et n'a pas été créé par la "
                "démonstration : rien n'est effacé",
                file=str(root),
                hint="Choisir un autre dossier avec --out, ou le vider soi-même",
            )
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text(
        MARKER_TEXT + f"Dernière démonstration : {datetime.now():%d/%m/%Y %H:%M}\n",
        encoding="utf-8",
    )
    return Paths(root)


def _toml_string(text: str) -> str:
    """A TOML string for a path (literal string when possible: no escaping of backslashes)."""
    if "'" not in text and "\n" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


DEMO_FINESS = "999999999"
"""A FINESS number that no hospital has (the demo's billing file)."""


def write_settings(paths: Paths, les_code: str) -> Path:
    """The demo's settings: the shipped defaults plus a demo LES code and the second copy."""
    from oncosecours.settings import load_settings

    defaults = load_settings(None)
    codes = list(dict.fromkeys([*defaults.codes_les.codes, les_code]))
    text = (
        "# Paramètres de la démonstration (écrits par « oncosecours demo »).\n"
        "# Seules les clés différentes du fichier livré (etablissement.toml) sont ici.\n"
        "\n"
        "[etablissement]\n"
        "# N° FINESS FICTIF, pour le fichier de facturation de la démonstration.\n"
        f"finess = {_toml_string(DEMO_FINESS)}\n"
        "\n"
        "[codes_les]\n"
        f"# {les_code} : code d'indication FICTIF, pour le rituximab de la démonstration.\n"
        f"codes = [{', '.join(_toml_string(c) for c in codes)}]\n"
        "\n"
        "[copie_secours]\n"
        "# La base est recopiée ici après chaque action (en vrai : une clé USB, un autre disque).\n"
        f"dossier = {_toml_string(str(paths.replica))}\n"
    )
    paths.settings.write_text(text, encoding="utf-8")
    load_settings(paths.settings)  # refuse now, in French, if anything is off
    return paths.settings
