"""A real PostgreSQL server for the tests that run on both engines (no mock): the product's
own scratch server (:mod:`oncosecours.server.scratch`), one per test session, and a fresh
database per test. A test on PostgreSQL points ``ONCOSECOURS_SETTINGS`` at settings naming its
database: every ``connect()`` of the test, in-process or in a subprocess it starts, opens it.
"""

from __future__ import annotations

from oncosecours.server.scratch import ScratchServer as Server
from oncosecours.server.scratch import available

__all__ = ["Server", "available", "outsider"]


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
