"""The documents of a crisis day read from a PostgreSQL register are word for word those read
from the SQLite one: the same day built on both engines, every kind rendered from each."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from documents_helpers import build_day, docx_text

from oncosecours.documents import render

DAY = "2026-03-02"
NOW = dt.datetime(2026, 3, 2, 11, 0)
FROZEN = dt.datetime(2026, 3, 2, 7, 45).astimezone()


def _render_all(conn, out: Path, settings) -> dict[str, str]:
    files = [
        *render.render_day(conn, DAY, "fabrication", out / "fab", settings, pdf=False, now=NOW),
        *render.render_day(conn, DAY, "labels", out / "etq", settings, pdf=False, now=NOW),
        *render.render_care_plans(conn, DAY, out / "pds", settings, pdf=False).docx,
        *render.render_ordonnancier(
            conn, "2026-03-01", DAY, "date", out / "ord", settings, pdf=False
        ).docx,
    ]
    return {f"{path.parent.name}/{path.name}": docx_text(path) for path in files}


def _without_chain_hash(text: str) -> str:
    """The ordonnancier's anchor names the register's own chain head: the same event and entry
    numbers on both, another hash (each chain hashes its own times of writing)."""
    return re.sub(r"\b(E\d+-L\d+)-[0-9a-f]{20}\b", r"\1-…", text)


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_the_day_s_documents_are_the_same_from_postgresql(engine, settings, tmp_path, monkeypatch):
    """Both days built and rendered at one frozen time: what the scenario does not date itself
    (a prescription's recording time...) is then the same on both."""
    from oncosecours import clock
    from oncosecours.store.db import connect, connect_file
    from oncosecours.store.engines import on_server

    server_settings = os.environ["ONCOSECOURS_SETTINGS"]
    with clock.use(lambda: FROZEN):
        on_pg = build_day(tmp_path / "serveur" / "oncosecours.sqlite")  # settings: the server
        monkeypatch.delenv("ONCOSECOURS_SETTINGS")
        on_file = build_day(tmp_path / "fichier" / "oncosecours.sqlite")
        monkeypatch.setenv("ONCOSECOURS_SETTINGS", server_settings)
        assert on_pg["numbers"] == on_file["numbers"]
        local = connect_file(on_file["path"])
        server = connect(tmp_path / "serveur" / "oncosecours.sqlite")
        try:
            assert on_server(server) and not on_server(local)
            from_sqlite = _render_all(local, tmp_path / "sqlite", settings)
            from_server = _render_all(server, tmp_path / "postgresql", settings)
        finally:
            local.close()
            server.close()
    assert len(from_sqlite) >= 10  # fiches, labels, care plans, ordonnancier, print files
    assert sorted(from_server) == sorted(from_sqlite)
    for name, text in from_sqlite.items():
        assert _without_chain_hash(from_server[name]) == _without_chain_hash(text), name
    anchored = [n for n in from_sqlite if n.startswith("ord/")]
    assert anchored and all(
        re.search(r"E\d+-L\d+-…", _without_chain_hash(from_sqlite[n])) for n in anchored
    )
