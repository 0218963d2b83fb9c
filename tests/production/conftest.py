"""Fixtures of the production tests; helpers live in production_fixtures.py (put on sys.path)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import production_fixtures as fx  # noqa: E402


@pytest.fixture
def team(conn, admin):
    """Users of every role, PIN 4826: {initials: Actor}."""
    return fx.make_team(conn, admin)


@pytest.fixture
def day(conn, team):
    """Three patients whose cure (J1 = TODAY) is prescribed and validated."""
    return fx.make_day(conn, team)


@pytest.fixture
def store_path(tmp_path: Path, engine: str) -> Path:
    """Every production test runs on both engines (``engine``, tests/conftest.py)."""
    return tmp_path / "oncosecours.sqlite"
