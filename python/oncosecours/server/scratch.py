"""A throw-away PostgreSQL server in a temporary folder, started with the unit's own programs:
for ``oncosecours bench workstations`` and the tests on both engines (never the unit's server).

Its databases are copies of templates (``CREATE DATABASE ... TEMPLATE``: milliseconds), each
reachable by the application's account; :meth:`ScratchServer.settings_text` gives the settings
a workstation would use to reach one.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import tempfile
from pathlib import Path

_numbers = itertools.count(1)


def available() -> bool:
    """PostgreSQL's programs and psycopg are here (and, as root, the ``postgres`` account)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return False
    from oncosecours.domain.errors import OncoError
    from oncosecours.server import binaries, cluster

    try:
        binaries.find_bin()
    except OncoError:
        return False
    if cluster.effective_uid() == 0:
        import pwd

        try:
            pwd.getpwnam(cluster.DEFAULT_SYSTEM_USER)
        except KeyError:
            return False
    return True


class ScratchServer:
    """A cluster of its own, started; :meth:`close` stops it and deletes its folder."""

    def __init__(self) -> None:
        from oncosecours.domain.errors import OncoError
        from oncosecours.server import cluster

        self.parent = Path(tempfile.mkdtemp(prefix="oncosecours-pg-essai-"))
        self.parent.chmod(0o755)  # the postgres account runs the server when we are root
        for attempt in range(5):  # a free port may be taken again before the server binds it
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            folder = self.parent / f"serveur-{attempt}"
            try:
                self.config = cluster.init(folder, "127.0.0.1", port)
                hba = self.config.data / "pg_hba.conf"  # the scratch databases too
                with hba.open("a", encoding="utf-8") as rules:
                    rules.write("\nhost all oncosecours 127.0.0.1/32 scram-sha-256\n")
                cluster.start(self.config)
                break
            except OncoError:
                if attempt == 4:
                    raise
        self.templates: dict[str, str] = {}

    def admin(self):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.config.port,
            dbname="postgres",
            user="oncosecours_admin",
            autocommit=True,
            password=self.config.admin_password_file.read_text(encoding="utf-8").strip(),
        )

    def settings_text(self, database: str) -> str:
        """The shipped settings, with ``[base]`` naming ``database`` on this server."""
        from oncosecours.resources import shipped

        text = shipped("etablissement.toml").read_text(encoding="utf-8")
        password = self.config.app_password_file.as_posix()
        for old, new in (
            ('moteur = "sqlite"', 'moteur = "postgresql"'),
            ('hote = ""', 'hote = "127.0.0.1"'),
            ("port = 5432", f"port = {self.config.port}"),
            ('nom_base = "oncosecours"', f'nom_base = "{database}"'),
            ('fichier_mot_de_passe = ""', f'fichier_mot_de_passe = "{password}"'),
        ):
            text = text.replace(old, new, 1)
        return text

    def database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``), owned by the application."""
        name = f"essai_{next(_numbers)}"
        source = f" TEMPLATE {template}" if template else " TEMPLATE template0"
        with self.admin() as admin:
            admin.execute(f"CREATE DATABASE {name} OWNER oncosecours{source}")
        return name

    def drop(self, name: str) -> None:
        with self.admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        from oncosecours.server import cluster

        try:
            cluster.stop(self.config)
        finally:
            shutil.rmtree(self.parent, ignore_errors=True)
