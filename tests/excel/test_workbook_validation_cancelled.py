"""The Validation sheet agrees with ``services.queries.pending_validations``: the prescription of a
cancelled cure is not waiting for a pharmacist; shown at all (decided on the day), it is
« annulée » with the cancellation."""

from __future__ import annotations

import shutil
from datetime import date

import production_fixtures as fx
import pytest

from oncosecours.excel.layout import column_letter, load_layout
from oncosecours.excel.xlbook import XlBook

PIN = "4826"


def _prescribe(conn, team, row) -> tuple[int, int]:
    """Patient, inclusion and a saved prescription (not validated) for today: (cure, prescription)."""
    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.patients import create_patient
    from oncosecours.services.prescription import prescribe

    key, protocol, birth, first, born, sex, ipp, weight, height, creat = row
    today = date.today()
    person = create_patient(
        conn,
        team["DR1"],
        birth_name=birth,
        first_name=first,
        birth_date=born,
        sex=sex,
        ipp=ipp,
        weight_kg=weight,
        height_cm=height,
        creatinine_umol_l=creat,
        measured_on=today,
        today=today,
    )
    inclusion = include_patient(conn, team["DR1"], person["id"], protocol, today, today=today)
    cure = inclusion["cures"][0]["id"]
    return cure, prescribe(conn, team["DR1"], cure, today=today)["prescription_id"]


@pytest.fixture
def day(tmp_path, circuit_template, monkeypatch):
    """Three prescriptions of today: A waiting then its cure cancelled, B validated then its cure
    cancelled, C waiting. The workbook is built on the store and returned by Book.caller()."""
    import xlwings as xw

    from oncosecours.domain.checks import blocking_rules
    from oncosecours.excel.builder import build_workbook
    from oncosecours.excel.memorybook import MemoryBook
    from oncosecours.services.cancellation import cancel_cure
    from oncosecours.services.users import authenticate
    from oncosecours.services.validation import findings_for, validate_prescription
    from oncosecours.store.db import connect

    store = tmp_path / "oncosecours.sqlite"
    shutil.copy(circuit_template, store)
    conn = connect(store)
    team = {i: authenticate(conn, i, PIN) for i in ("DR1", "PH1")}
    cure_a, pres_a = _prescribe(conn, team, fx.PATIENTS[0])
    cure_b, pres_b = _prescribe(conn, team, fx.PATIENTS[1])
    cure_c, pres_c = _prescribe(conn, team, fx.PATIENTS[2])
    found = findings_for(conn, pres_b, today=date.today())
    validate_prescription(
        conn,
        team["PH1"],
        pres_b,
        justifications={rule: "vu" for rule in blocking_rules(found)},
        today=date.today(),
    )
    cancel_cure(conn, team["DR1"], cure_a, "fièvre")
    cancel_cure(conn, team["DR1"], cure_b, "décès")
    conn.close()
    path = build_workbook(tmp_path / "OncoSecours.xlsm", store=store)
    book = MemoryBook.from_xlsm(path)
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    monkeypatch.delenv("ONCOSECOURS_STORE", raising=False)
    monkeypatch.delenv("ONCOSECOURS_SETTINGS", raising=False)
    return {"book": book, "store": store, "a": pres_a, "b": pres_b, "c": pres_c}


def _rows(book) -> dict[int, dict]:
    rows = XlBook(book).read_table(load_layout().sheet("Validation"))
    return {r["prescription"]: r for r in rows}


def _check(day) -> dict[int, dict]:
    from oncosecours.services.queries import pending_validations
    from oncosecours.store.db import connect

    rows = _rows(day["book"])
    conn = connect(day["store"])
    try:
        pending = {p["id"] for p in pending_validations(conn)}
    finally:
        conn.close()
    waiting = {n for n, r in rows.items() if r["etat"] == "prescrite"}
    assert waiting == pending
    assert day["a"] not in rows  # cancelled before any decision: not waiting, not shown
    cancelled = rows[day["b"]]  # decided today, then its cure cancelled
    assert cancelled["etat"] == "annulée"
    assert cancelled["decision"].startswith("validée par PH1")
    assert "cure annulée par DR1" in cancelled["decision"] and "décès" in cancelled["decision"]
    return rows


def test_built_validation_sheet_leaves_out_cancelled_cures(day):
    rows = _check(day)
    assert {n for n, r in rows.items() if r["etat"] == "prescrite"} == {day["c"]}


def test_validation_sheet_after_a_click_stays_consistent(day, monkeypatch):
    from oncosecours.excel import ribbon

    book = day["book"]
    sheet = load_layout().sheet("Validation")
    row = _rows(book)[day["c"]]
    cell = f"{column_letter(sheet.table.index('justification') + 1)}{row['_row']}"
    book.type("Validation", cell, "vu avec le prescripteur")
    book.type("Accueil", load_layout().sheet("Accueil").field("utilisateur").cell, "PH1")
    monkeypatch.setenv("ONCOSECOURS_PIN", PIN)
    book.select("Validation", f"$A${row['_row']}:$C${row['_row']}")
    before = len(book.app.alerts)
    ribbon.run("valider")
    assert book.app.alerts[before:] == []
    rows = _check(day)
    assert rows[day["c"]]["etat"] == "validée"
    assert not any(r["etat"] == "prescrite" for r in rows.values())
