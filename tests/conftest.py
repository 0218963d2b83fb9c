"""Shared fixtures: real store files in tmp dirs, the real HEGP extracts from ../shared."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # pg_engine.py, shared by the engine fixtures

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
HEGP = SHARED / "reference" / "chimio-hegp"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Path of a fresh store file (created on first connect)."""
    return tmp_path / "oncosecours.sqlite"


@pytest.fixture
def conn(store_path: Path):
    from oncosecours.store.db import connect

    connection = connect(store_path)
    yield connection
    connection.close()


@pytest.fixture
def admin(conn):
    from oncosecours.services.users import bootstrap_admin

    return bootstrap_admin(conn, "ADM", "Administrateur Test", "7391")


# --- both engines ---------------------------------------------------------------------------
# A test (or a folder's conftest) that asks for ``engine`` runs once on SQLite and once on a
# real PostgreSQL (tests/pg_engine.py); without the server programs the second is skipped.


@pytest.fixture(scope="session")
def pg_server():
    import pg_engine

    if not pg_engine.available():
        pytest.skip("PostgreSQL (programmes serveur + psycopg) absent")
    server = pg_engine.Server()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path, monkeypatch) -> str:
    """``sqlite``, or ``postgresql`` with this test's own fresh database on the session's
    server (``ONCOSECOURS_SETTINGS`` points at settings naming it)."""
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        name = server.database()
        settings = tmp_path / "etablissement-postgresql.toml"
        settings.write_text(server.settings_text(name), encoding="utf-8")
        monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
        request.addfinalizer(lambda: server.drop(name))
    return request.param


@pytest.fixture(autouse=True)
def _no_settings_left_installed():
    """A command run in-process (``main([...])``) may install its settings for the rest of
    its process (``replica.use_settings``): a test must not pass them on to the next one."""
    yield
    from oncosecours.store import replica

    replica.use_settings(None)
