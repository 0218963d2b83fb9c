"""Fixtures of the document tests; helpers live in documents_helpers.py (put on sys.path)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from documents_helpers import HOSPITAL, build_day  # noqa: E402


@pytest.fixture(scope="session")
def day_store(tmp_path_factory) -> dict:
    """The scenario, built once per test session (tests copy the file before writing)."""
    folder = tmp_path_factory.mktemp("documents-day")
    return build_day(folder / "oncosecours.sqlite")


@pytest.fixture
def day_conn(day_store, tmp_path):
    """A connection to a private copy of the scenario's store."""
    from oncosecours.store.db import connect

    copy = tmp_path / "store.sqlite"
    shutil.copy(day_store["path"], copy)
    connection = connect(copy)
    yield connection
    connection.close()


@pytest.fixture
def settings(tmp_path):
    """Hospital settings with XML-hostile characters in the name (escaping is tested)."""
    from oncosecours.settings import load_settings

    path = tmp_path / "etablissement.toml"
    path.write_text(
        f'[etablissement]\nnom = "{HOSPITAL}"\nadresse = "12 rue d\'Hauteville, 75010 Paris"\n',
        encoding="utf-8",
    )
    return load_settings(path)
