"""The « Sortie de crise » ribbon group on the demo's workbook: each button runs the same service
as its ``oncosecours sortie`` command, up to the closing, after which a click that writes is
refused. Excel is faked only behind ``xw.Book.caller()`` (a MemoryBook of the real .xlsm)."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest

DEMO_PIN = "1234"  # the demo team's PIN (the demo alone may use a trivial one)

pytestmark = pytest.mark.slow

_spec = importlib.util.spec_from_file_location(
    "excel_station", Path(__file__).resolve().parents[1] / "excel" / "conftest.py"
)
excel_station = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(excel_station)


@pytest.fixture
def station(demo, monkeypatch):
    import xlwings as xw

    from oncosecours.excel.builder import build_workbook
    from oncosecours.excel.memorybook import MemoryBook

    path = build_workbook(demo["tmp"] / "OncoSecours.xlsm", store=demo["store"])
    book = MemoryBook.from_xlsm(path)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    monkeypatch.delenv("ONCOSECOURS_STORE", raising=False)
    return excel_station.Station(book, demo["store"], path, monkeypatch)


def _type(station, sheet: str, key: str, value) -> None:
    from oncosecours.excel.layout import load_layout

    station.book.type(sheet, load_layout().sheet(sheet).field(key).cell, value)


def test_the_sortie_group_from_export_to_closing(station, demo):
    station.login("PH1", DEMO_PIN)
    station.click("reprise_chimio")
    assert station.alerts() == []
    rows = station.table("Reprise")
    conn = sqlite3.connect(demo["store"])
    assert len(rows) == len({r["element"] for r in rows}) > 0
    assert {r["pointe"] for r in rows} == {"Non"}
    (folder,) = (demo["tmp"] / "sortie" / "reprise").iterdir()
    assert (folder / "reprise_preparations.csv").exists()
    assert len(list((folder / "dossiers").glob("dossier_*_D*.docx"))) == 4

    station.select("Reprise", rows[0])
    station.click("pointer_reprise")
    assert station.alerts() == []
    assert station.row_of("Reprise", element=rows[0]["element"])["pointe_par"] == "PH1"

    station.click("facturation")
    assert station.alerts() == []
    assert list((demo["tmp"] / "sortie" / "facturation").glob("*/facturation_liste_en_sus.csv"))
    assert conn.execute("SELECT count(*) FROM sortie_billing_exports").fetchone()[0] == 1

    station.click("rapprochement")
    breaks = station.table("Rapprochement")
    assert [b["rupture"].split(":")[0] for b in breaks] == ["LIBEREE_NON_ADMINISTREE"]
    station.put("Rapprochement", breaks[0], "justification", "diffuseur posé à domicile")
    station.select("Rapprochement", breaks[0])
    station.click("justifier_rupture")
    assert station.alerts() == []
    assert station.table("Rapprochement")[0]["justifie_par"] == "PH1"

    # closing: refused without the typed confirmation, and while items are left
    station.click("clore_crise")
    assert "CLORE" in station.alerts()[0]
    _type(station, "Reprise", "confirmation", "CLORE")
    station.click("clore_crise")
    assert (
        "CLOTURE_INCOMPLETE" in station.alerts()[0]
        or "ne peut pas être close" in (station.alerts()[0])
    )
    station.select("Reprise", *[r for r in station.table("Reprise") if r["pointe"] == "Non"])
    station.click("pointer_reprise")
    assert station.alerts() == []
    _type(station, "Reprise", "confirmation", "CLORE")
    station.click("clore_crise")
    assert station.alerts() == []
    assert conn.execute("SELECT closed_by_initials FROM crisis_closure").fetchone()[0] == "PH1"

    # after the closing: the archive is written, a write is refused
    station.click("archiver")
    assert station.alerts() == []
    assert list(
        (demo["tmp"] / "sortie" / "archives").glob("archive-oncosecours-*/MANIFESTE.sha256")
    )
    before = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    station.login("IDE1", DEMO_PIN)
    _type(station, "Notes", "patient", "D0000101")
    _type(station, "Notes", "texte", "une note après la clôture")
    station.click("note")
    assert "Registre clos le" in station.alerts()[0]
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone()[0] == before


def test_every_sortie_button_names_the_cli_and_service_of_its_command():
    """The registry's CLI of each Sortie button is a real command, its service a real function."""
    import importlib

    from oncosecours.cli import build_parser
    from oncosecours.excel.registry import ACTIONS

    parser = build_parser()
    group = [a for a in ACTIONS if a.group == "Sortie de crise"]
    assert len(group) == 7
    for action in group:
        words = action.cli.split()[1:]
        with pytest.raises(SystemExit) as exited:
            parser.parse_args([*words, "--help"])
        assert exited.value.code == 0, action.cli
        for part in action.service.split(" + "):
            module, _, name = part.rpartition(".")
            assert callable(getattr(importlib.import_module(f"oncosecours.{module}"), name)), part
