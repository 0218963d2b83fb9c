"""A real PostgreSQL server for the tests that run on both engines (no mock).

One cluster per test session (``oncosecours server init/start``, in a temporary folder), one
migrated template database, and a fresh database per test copied from it (``CREATE DATABASE
... TEMPLATE``: milliseconds). A test on PostgreSQL points ``ONCOSECOURS_SETTINGS`` at a copy
of the shipped settings with ``[base] moteur = "postgresql"``: every ``connect()`` of the test,
in-process or in a subprocess it starts, opens that database.
"""

from __future__ import annotations

import itertools
import shutil
import socket
import tempfile
from pathlib import Path

ENGINES = ("sqlite", "postgresql")
_numbers = itertools.count(1)


def available() -> bool:
    """PostgreSQL's programs and psycopg are here (else the PostgreSQL variants are skipped)."""
    try:
        import psycopg  # noqa: F401

        from oncosecours.domain.errors import OncoError
        from oncosecours.server import binaries, cluster
    except ImportError:
        return False
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


class Server:
    """The session's cluster: its settings text, and databases made from templates."""

    def __init__(self) -> None:
        from oncosecours.server import cluster

        self.parent = Path(tempfile.mkdtemp(prefix="oncosecours-pg-tests-"))
        self.parent.chmod(0o755)
        from oncosecours.domain.errors import OncoError

        for attempt in range(5):  # a free port may be taken again before the server binds it
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            try:
                self.config = cluster.init(self.parent / "serveur", "127.0.0.1", port)
                break
            except OncoError:
                if attempt == 4:
                    raise
        hba = self.config.data / "pg_hba.conf"  # the tests' databases, beside the unit's one
        with hba.open("a", encoding="utf-8") as rules:
            rules.write("\nhost all oncosecours 127.0.0.1/32 scram-sha-256\n")
        cluster.start(self.config)
        self.templates: dict[str, str] = {}

    def admin(self):
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.config.port, dbname="postgres",
                               user="oncosecours_admin", autocommit=True,
                               password=self.config.admin_password_file.read_text().strip())  # fmt: skip

    def settings_text(self, database: str) -> str:
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
            assert old in text, old
            text = text.replace(old, new, 1)
        return text

    def database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of a named template), owned by the application."""
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


def outsider(store_path, *, drop_triggers: bool = False):
    """Someone editing the register with no OncoSecours service above the SQL: ``sqlite3`` on
    the file, or, on PostgreSQL, a plain session on the server (same account). With
    ``drop_triggers``, every trigger is dropped first (they are not the protection)."""
    import sqlite3

    from oncosecours.store.engines import POSTGRESQL, engine_of, postgres_target, settings_in_use

    settings = settings_in_use()
    if engine_of(settings) != POSTGRESQL:
        raw = sqlite3.connect(store_path, isolation_level=None)
        if drop_triggers:
            names = raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in names.fetchall():
                raw.execute(f'DROP TRIGGER "{name}"')
        return raw
    from oncosecours.store.pg.connection import open_connection

    raw = open_connection(postgres_target(settings))
    if drop_triggers:
        for name, table in raw._run(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            # the keys' max + 1 rule stays: it is SQLite's rowid, not a protection
            "WHERE n.nspname = current_schema() AND NOT t.tgisinternal "
            "AND t.tgname NOT LIKE 'a\\_\\_key\\_%'",
            None,
        ).fetchall():
            raw._run(f'DROP TRIGGER "{name}" ON "{table}"', None)
    return raw
