"""Shared fixtures: real store files in tmp dirs, the real HEGP extracts from ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

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
