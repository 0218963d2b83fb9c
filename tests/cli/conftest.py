"""Fixtures of the CLI acceptance tests: real store files, the production helpers' snapshot."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "production"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import production_fixtures as fx  # noqa: E402

PIN = "4826"


@pytest.fixture(autouse=True)
def cli_env(monkeypatch, tmp_path):
    """Every user's PIN is 4826; no settings, store or log outside the test's folder."""
    monkeypatch.setenv("ONCOSECOURS_PIN", PIN)
    monkeypatch.delenv("ONCOSECOURS_SETTINGS", raising=False)
    monkeypatch.delenv("ONCOSECOURS_STORE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture(scope="session")
def team_template(tmp_path_factory) -> Path:
    """A store with the administrator (PIN 4826), the team and the snapshot, built once."""
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    path = tmp_path_factory.mktemp("cli") / "template.sqlite"
    conn = connect(path)
    admin = bootstrap_admin(conn, "ADM", "Administrateur Test", PIN)
    fx.make_team(conn, admin)
    fx.load_snapshot(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def team_store(tmp_path, team_template) -> Path:
    """A fresh copy of the team store for one test."""
    path = tmp_path / "oncosecours.sqlite"
    shutil.copyfile(team_template, path)
    return path
