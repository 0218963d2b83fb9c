"""Which engine holds the register (``[base]`` of the settings), and how to reach PostgreSQL.

``sqlite`` (default): one file beside the workbook, one PC. ``postgresql``: a server on the
unit's isolated network, for several workstations. The password is never in the settings: it
comes from an environment variable or a file beside the workbook.

:func:`oncosecours.store.db.connect` opens the one the settings choose; everything above it
(services, audit chain, ordonnancier, checks) is the same on both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class PostgresTarget:
    """Where a workstation finds the unit's PostgreSQL server."""

    host: str
    port: int
    database: str
    user: str
    password_variable: str = ""
    password_file: Path | None = None

    def describe(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.database}"

    def password(self) -> str:
        """The password from its variable or its file, or a French refusal saying which."""
        if self.password_variable:
            value = os.environ.get(self.password_variable)
            if not value:
                raise OncoError(
                    f"Mot de passe PostgreSQL introuvable : la variable d'environnement "
                    f"{self.password_variable} n'est pas définie sur ce poste",
                    field="base.mot_de_passe_variable",
                )
            return value
        assert self.password_file is not None
        try:
            value = self.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise OncoError(
                f"Fichier du mot de passe PostgreSQL illisible : {exc.strerror or exc}",
                file=str(self.password_file),
                field="base.fichier_mot_de_passe",
            ) from None
        if not value:
            raise OncoError(
                "Fichier du mot de passe PostgreSQL vide",
                file=str(self.password_file),
                field="base.fichier_mot_de_passe",
            )
        return value


def settings_in_use() -> Any:
    """The settings the store follows: those installed for the current action (the ribbon's,
    beside the workbook, through ``replica.use_settings``), else ``load_settings()``."""
    from oncosecours.store import replica

    override = replica.use_settings(None)  # read through the public call: swap, put back
    replica.use_settings(override)
    if override is not None:
        return override
    from oncosecours.settings import load_settings

    return load_settings()


def engine_of(settings: Any) -> str:
    return str(settings["base"]["moteur"])


def postgres_target(settings: Any) -> PostgresTarget:
    """The server named by ``[base]``; a relative password file is taken from the folder of the
    settings file (the hospital's copy, beside the workbook)."""
    base = settings["base"]
    password_file = None
    raw = str(base["fichier_mot_de_passe"]).strip()
    if raw:
        password_file = Path(os.path.expanduser(os.path.expandvars(raw)))
        if not password_file.is_absolute():
            source = getattr(settings, "source", None)
            folder = Path(source).resolve().parent if source else Path.cwd()
            password_file = folder / password_file
    return PostgresTarget(
        host=str(base["hote"]).strip(),
        port=int(base["port"]),
        database=str(base["nom_base"]),
        user=str(base["utilisateur"]),
        password_variable=str(base["mot_de_passe_variable"]).strip(),
        password_file=password_file,
    )


def on_server(conn: Any) -> bool:
    """Whether ``conn`` is the unit's server (store.pg) rather than a SQLite file."""
    return getattr(conn, "engine", SQLITE) == POSTGRESQL


def engine_line(conn: Any) -> str:
    """Which engine holds the register and, for the server, that it answers (French, for
    ``oncosecours status`` and the Accueil sheet)."""
    if on_server(conn):
        try:
            version = conn.execute("SHOW server_version").fetchone()[0]
        except Exception as exc:  # the server went away since the action began
            return f"PostgreSQL, serveur {conn.target.describe()} : NE RÉPOND PAS ({exc})"
        return (
            f"PostgreSQL (plusieurs postes), serveur {conn.target.describe()} : répond "
            f"(PostgreSQL {version})"
        )
    row = conn.execute("PRAGMA database_list").fetchone()
    where = row[2] if row is not None and row[2] else "en mémoire"
    return f"SQLite (un seul poste), fichier {where}"
