"""The demo's API in-process: the homonym falls back to a crisis patient when the backup has no
usable identity, the workbook's Accueil shows the second copy written before it, and nothing the
demo patches outlives it (audit clock, settings, second copy)."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime

import pytest

pytestmark = pytest.mark.slow


def test_homonym_fallback_and_nothing_left_patched(tmp_path, monkeypatch):
    from oncosecours import clock
    from oncosecours.demo import scenario
    from oncosecours.settings import ENV_VAR
    from oncosecours.store import replica

    monkeypatch.setattr(scenario.CrisisDay, "_backup_twin", lambda self: None)
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(replica.status, "_same_device", lambda folder, store: False)  # a USB key
    result = scenario.run_demo(tmp_path / "demo", pdf=False, progress=None)

    facts = result.story.facts
    assert facts["homonyme"]["origine"] == "les patients de la crise"
    assert "[HOMONYME]" in dict(result.story.events)["homonyme"]
    conn = sqlite3.connect(result.paths.store)
    twins = conn.execute(
        "SELECT ipp, homonym_confirmed FROM patients WHERE birth_name = 'DUFOUR' AND "
        "first_name = 'Hélène' ORDER BY id"
    ).fetchall()
    conn.close()
    assert twins == [("D0000199", 0), ("D0000104", 1)]
    # the workbook is built after the second copy: its Accueil shows the copy up to date, level
    # « ok » (the copy is taken to be on another medium, as a USB key would be)
    line, level = _accueil_copy_line(result.paths.workbook)
    assert line.startswith("Copie de secours à jour"), line
    assert str(result.paths.replica / "oncosecours.sqlite") in line
    assert level == "ok"
    # the process is left as it was found
    assert clock._source is None
    assert abs((clock.now() - datetime.now().astimezone()).total_seconds()) < 60
    assert ENV_VAR not in os.environ
    assert replica.target._settings_override is None


def _accueil_copy_line(workbook) -> tuple[str, str]:
    import openpyxl

    from oncosecours.excel.layout import load_layout

    home = load_layout().sheet("Accueil")
    ws = openpyxl.load_workbook(workbook)["Accueil"]
    return ws[home.field("copie_secours").cell].value, ws[home.field("niveau_copie").cell].value
