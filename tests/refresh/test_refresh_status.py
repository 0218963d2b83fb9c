"""snapshot_status: the backup's date, age and staleness, the same everywhere it is shown."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date

import pytest

from oncosecours.refresh.status import snapshot_status
from oncosecours.services.refresh import refresh_snapshot
from oncosecours.settings import load_settings


def test_no_snapshot_is_stale(conn):
    status = snapshot_status(conn, load_settings(), date(2026, 1, 1))
    assert status["loaded"] is False and status["stale"] is True
    assert status["backup_date"] is None and status["counts"]["patients"] == 0
    assert "Aucune sauvegarde" in status["message"]


def test_age_against_the_settings_threshold(conn, pharmacist, hegp, tmp_path):
    refresh_snapshot(conn, pharmacist, hegp)
    settings = load_settings()
    threshold = settings.sauvegardes.seuil_anciennete_jours
    fresh = snapshot_status(conn, settings, date(2023, 9, 7))
    assert (fresh["age_days"], fresh["stale"]) == (0, False)
    assert fresh["message"] == "Sauvegarde Chimio du 07/09/2023 (aujourd'hui)"
    limit = snapshot_status(conn, settings, date.fromordinal(date(2023, 9, 7).toordinal()
                                                               + threshold))  # fmt: skip
    assert limit["stale"] is False
    old = snapshot_status(conn, settings, date(2023, 10, 7))
    assert old["stale"] is True and old["age_days"] == 30
    assert (
        old["message"].startswith("SAUVEGARDE ANCIENNE")
        and f"seuil : {threshold}" in (old["message"])
    )
    assert old["counts"] == {"patients": 5, "protocols": 5, "protocol_lines": 53,
                             "molecules": 8, "products": 42, "history": 493}  # fmt: skip
    assert old["warnings"] and old["backup_date"] == "2023-09-07"
    future = snapshot_status(conn, settings, date(2023, 9, 1))
    assert future["stale"] is True and "postérieure" in future["message"]
    strict = tmp_path / "strict.toml"
    strict.write_text("[sauvegardes]\nseuil_anciennete_jours = 0\n", encoding="utf-8")
    assert snapshot_status(conn, load_settings(strict), date(2023, 9, 8))["stale"] is True


@pytest.mark.parametrize(
    "engine", ["sqlite"], indirect=True
)  # a subprocess reads the file with sqlite3
def test_status_does_not_import_pandas(conn, pharmacist, hegp, store_path):
    refresh_snapshot(conn, pharmacist, hegp)
    code = textwrap.dedent(
        f"""
        import sqlite3, sys
        from oncosecours.refresh.status import snapshot_status
        status = snapshot_status(sqlite3.connect({str(store_path)!r}), None)
        assert status["backup_date"] == "2023-09-07", status
        heavy = sorted(m for m in ("pandas", "pyarrow", "numpy") if m in sys.modules)
        print(",".join(heavy) or "none")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "none"
