"""The Stock sheet and « Jeter le reliquat » through a fake ``Book.caller()`` on a real store."""

from __future__ import annotations

from datetime import datetime, timedelta

from oncosecours.domain.production import iso


def _shelf(store, hours_left: float) -> None:
    """One oxaliplatin leftover (as a preparation leaves it), opened 1 h ago."""
    from oncosecours.store import stock
    from oncosecours.store.db import connect, transaction

    now = datetime.now().astimezone()
    conn = connect(store)
    with transaction(conn):
        stock.insert_leftover(
            conn,
            {
                "molecule_id": 31,
                "molecule_name": "OXALIPLATINE",
                "product_id": 3101,
                "product_name": "OXALIPLATINE 50 mg/10 mL",
                "unit": "mg",
                "strength": 50,
                "vial_volume_ml": 10,
                "lot": "OX77",
                "lot_expiry": "2099-12-31",
                "amount_initial": 20,
                "amount_left": 20,
                "opened_at": iso(now - timedelta(hours=1)),
                "use_by": iso(now + timedelta(hours=hours_left)),
                "use_by_reason": "ouverture + stabilité de 48 h",
                "created_by": 1,
                "created_at": iso(now - timedelta(hours=1)),
            },
        )
    conn.close()


def _reopen(station, monkeypatch):
    import xlwings as xw

    from oncosecours.excel.builder import build_workbook
    from oncosecours.excel.memorybook import MemoryBook

    path = build_workbook(station.path, store=station.store)
    station.book = MemoryBook.from_xlsm(path)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: station.book))


def test_discard_a_leftover_from_the_stock_sheet(station, monkeypatch):
    _shelf(station.store, 47)
    _reopen(station, monkeypatch)
    (row,) = station.table("Stock")
    assert (row["reliquat"], row["lot"], row["quantite"], row["volume_ml"]) == ("R1", "OX77", 20, 4)
    assert row["statut"] == "utilisable"
    station.login("PR1")
    station.select("Stock", row)
    station.click("jeter_reliquat")  # no reason typed: refused, nothing written
    assert any("motif" in a for a in station.alerts())
    conn = station.conn()
    assert conn.execute("SELECT state FROM leftovers").fetchone()[0] == "available"
    station.put("Stock", row, "motif", "flacon contaminé")
    station.select("Stock", row)
    station.click("jeter_reliquat")
    assert station.alerts() == []
    assert conn.execute("SELECT state, discard_reason FROM leftovers").fetchone()[:] == (
        "discarded",
        "flacon contaminé",
    )
    assert station.table("Stock") == []
