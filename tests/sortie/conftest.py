"""Fixtures of the crisis-exit tests: the demo's day (run once, copied per test) and a production
day whose liste-en-sus bags are billable, refused or never administered, made by the services.

The production helpers (tests/production/production_fixtures.py) are put on sys.path, read only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PRODUCTION = Path(__file__).resolve().parents[1] / "production"
for folder in (PRODUCTION, Path(__file__).resolve().parent):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

DEMO_PIN = "1234"
"""The demo team's PIN (the demo alone may use a trivial one)."""


@pytest.fixture
def team(conn, admin):
    """Users of every role, PIN 4826: {initials: Actor}."""
    import production_fixtures as fx

    return fx.make_team(conn, admin)


@pytest.fixture
def day(conn, team):
    """Three patients whose cure (J1 = production_fixtures.TODAY) is prescribed and validated."""
    import production_fixtures as fx

    return fx.make_day(conn, team)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """``oncosecours demo --no-pdf`` run once, as a user runs it (a subprocess)."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCOSECOURS_")}
    done = subprocess.run(
        [sys.executable, "-m", "oncosecours", "demo", "--out", str(out), "--no-pdf"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.fixture
def demo(demo_run, tmp_path, monkeypatch) -> dict:
    """A private copy of the demo's store and settings (the second copy switched off)."""
    store = tmp_path / "oncosecours.sqlite"
    shutil.copy(demo_run / "oncosecours.sqlite", store)
    text = (demo_run / "etablissement-demo.toml").read_text(encoding="utf-8")
    settings = tmp_path / "etablissement.toml"
    head, _, _ = text.partition("[copie_secours]")
    settings.write_text(head, encoding="utf-8")
    monkeypatch.setenv("ONCOSECOURS_STORE", str(store))
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
    monkeypatch.setenv("ONCOSECOURS_PIN", DEMO_PIN)
    return {"store": store, "settings": settings, "tmp": tmp_path}


@pytest.fixture
def store_path(tmp_path: Path, engine: str) -> Path:
    """Every test on a fresh store runs on both engines (``engine``, tests/conftest.py)."""
    return tmp_path / "oncosecours.sqlite"
