"""Fixtures of the stock tests: the production snapshot plus fixed-dose protocols (oxaliplatin
130 mg, bleomycin 25 000 UI, dactinomycin 1 200 µg, paclitaxel 360 mg), patients prescribed and
validated through the services; helpers in stock_fixtures.py (put on sys.path)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent / "production"))

import production_fixtures as fx  # noqa: E402
import stock_fixtures as sx  # noqa: E402


@pytest.fixture
def team(conn, admin):
    return fx.make_team(conn, admin)


@pytest.fixture
def snapshot(conn):
    sx.load_stock_snapshot(conn)
    return conn


@pytest.fixture
def settings_file(tmp_path):
    """Write a settings override and return its loaded settings."""

    def write(text: str):
        from oncosecours.settings import load_settings

        path = tmp_path / "etablissement.toml"
        path.write_text(text, encoding="utf-8")
        return load_settings(path)

    return write


@pytest.fixture
def store_path(tmp_path: Path, engine: str) -> Path:
    """Every test on a fresh store runs on both engines (``engine``, tests/conftest.py)."""
    return tmp_path / "oncosecours.sqlite"
