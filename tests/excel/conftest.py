"""Fixtures of the workbook tests: built workbooks, a circuit store, and a fake ``Book.caller()``.

The production helpers' synthetic snapshot (tests/production/production_fixtures.py, read only)
gives molecules, products and protocols with compounding data.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

PRODUCTION = Path(__file__).resolve().parents[1] / "production"
if str(PRODUCTION) not in sys.path:
    sys.path.insert(0, str(PRODUCTION))

PIN = "4826"


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The workbook built once without a store (read-only use in tests)."""
    from oncosecours.excel.builder import build_workbook

    return build_workbook(tmp_path_factory.mktemp("built") / "OncoSecours.xlsm")


@pytest.fixture(scope="session")
def circuit_template(tmp_path_factory) -> Path:
    """A store with the team (PIN 4826) and the production snapshot, built once."""
    import production_fixtures as fx

    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    path = tmp_path_factory.mktemp("circuit") / "template.sqlite"
    conn = connect(path)
    admin = bootstrap_admin(conn, "ADM", "Administrateur Test", "7391")
    fx.make_team(conn, admin)
    fx.load_snapshot(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def _server_template(server) -> str:
    """On PostgreSQL: a template database with the team and the snapshot, built once."""
    import os

    import production_fixtures as fx

    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    if "excel" not in server.templates:
        name = server.database()
        previous = os.environ.get("ONCOSECOURS_SETTINGS")
        settings = Path(server.parent) / f"{name}.toml"
        settings.write_text(server.settings_text(name), encoding="utf-8")
        os.environ["ONCOSECOURS_SETTINGS"] = str(settings)
        try:
            conn = connect()
            fx.make_team(conn, bootstrap_admin(conn, "ADM", "Administrateur Test", "7391"))
            fx.load_snapshot(conn)
            conn.close()
        finally:
            if previous is None:
                os.environ.pop("ONCOSECOURS_SETTINGS")
            else:
                os.environ["ONCOSECOURS_SETTINGS"] = previous
        server.templates["excel"] = name
    return server.templates["excel"]


@pytest.fixture(params=["sqlite", "postgresql"])
def station(request, tmp_path, circuit_template, monkeypatch):
    """A workstation: the store and the workbook side by side, the workbook opened in a
    MemoryBook that xlwings' ``Book.caller()`` returns (as Excel would for a ribbon click).
    On PostgreSQL, the settings beside the workbook name the test's database on the server."""
    import xlwings as xw

    from oncosecours.excel.builder import build_workbook
    from oncosecours.excel.memorybook import MemoryBook

    store = tmp_path / "oncosecours.sqlite"
    monkeypatch.delenv("ONCOSECOURS_STORE", raising=False)
    monkeypatch.delenv("ONCOSECOURS_SETTINGS", raising=False)
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        name = server.database(_server_template(server))
        request.addfinalizer(lambda: server.drop(name))
        settings = tmp_path / "etablissement.toml"  # beside the workbook: the ribbon reads it
        settings.write_text(server.settings_text(name), encoding="utf-8")
        monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
    else:
        shutil.copy(circuit_template, store)
    path = build_workbook(tmp_path / "OncoSecours.xlsm", store=store)
    book = MemoryBook.from_xlsm(path)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    station = Station(book, store, path, monkeypatch)
    station.engine = request.param
    return station


class Station:
    """What a user does at the workstation: who is working, typing, selecting, clicking."""

    def __init__(self, book, store: Path, path: Path, monkeypatch) -> None:
        self.book, self.store, self.path, self.monkeypatch = book, store, path, monkeypatch

    def login(self, initials: str, pin: str = PIN) -> None:
        from oncosecours.excel.layout import load_layout

        cell = load_layout().sheet("Accueil").field("utilisateur").cell
        self.book.type("Accueil", cell, initials)
        self.monkeypatch.setenv("ONCOSECOURS_PIN", pin)
        self.monkeypatch.setenv("ONCOSECOURS_USER", initials)

    def click(self, tag: str) -> None:
        from oncosecours.excel import ribbon

        before = len(self.book.app.alerts)
        ribbon.run(tag)
        self.new_alerts = self.book.app.alerts[before:]

    def alerts(self) -> list[str]:
        return [a["prompt"] for a in self.new_alerts]

    def table(self, sheet: str) -> list[dict]:
        """The sheet's table rows as the adapter reads them."""
        from oncosecours.excel.layout import load_layout
        from oncosecours.excel.xlbook import XlBook

        return XlBook(self.book).read_table(load_layout().sheet(sheet))

    def row_of(self, sheet: str, **match) -> dict:
        rows = [r for r in self.table(sheet) if all(r.get(k) == v for k, v in match.items())]
        assert len(rows) == 1, (sheet, match, self.table(sheet))
        return rows[0]

    def cell_of(self, sheet: str, row: dict, key: str) -> str:
        from oncosecours.excel.layout import column_letter, load_layout

        table = load_layout().sheet(sheet).table
        return f"{column_letter(table.index(key) + 1)}{row['_row']}"

    def put(self, sheet: str, row: dict, key: str, value) -> None:
        self.book.type(sheet, self.cell_of(sheet, row, key), value)

    def select(self, sheet: str, *rows: dict) -> None:
        address = ",".join(f"$A${r['_row']}:$C${r['_row']}" for r in rows)
        self.book.select(sheet, address)

    def conn(self):
        from oncosecours.store.db import connect

        return connect(self.store)
