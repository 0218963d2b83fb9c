"""The T0 of a plan de soins is a time of day (00:00 to 23:59): « 99:99 », « 25:00 », « abc »
are refused in French instead of printing absurd times."""

from __future__ import annotations

from datetime import date

import pytest
from cli_helpers import actors, planned_cure

from oncosecours.cli import build_parser, main
from oncosecours.documents import render
from oncosecours.documents.context import care_plan, parse_t0
from oncosecours.domain.errors import OncoError
from oncosecours.store.db import connect

BAD = ["99:99", "25:00", "24:00", "abc", "8:5", "12:60", "13h75", "8.30"]


@pytest.mark.parametrize(("text", "hhmm"), [("08:30", "08:30"), ("8h30", "08:30"),
                         ("9h00", "09:00"), ("8h", "08:00"), ("23:59", "23:59"),
                         ("00:00", "00:00"), ("", "")])  # fmt: skip
def test_times_accepted(text, hhmm):
    assert parse_t0(text) == hhmm
    argv = ["documents", "care-plan", "--date", "2026-03-02", "--t0", text]
    assert build_parser().parse_args(argv).t0 == hhmm


@pytest.mark.parametrize("text", BAD)
def test_cli_refuses_an_impossible_time(text, team_store, tmp_path, capsys):
    out = tmp_path / "docs"
    argv = ["documents", "care-plan", "--store", str(team_store), "--date",
            date.today().isoformat(), "--t0", text, "--out", str(out), "--no-pdf"]  # fmt: skip
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert f"argument --t0 : Heure de T0 invalide : « {text} » (attendu HH:MM entre 00:00 et " in (
        err
    )
    assert not out.exists()


def test_the_document_layer_refuses_it_too(team_store, tmp_path):
    """The ribbon and other callers reach ``render_care_plans`` without argparse."""
    from oncosecours.services.prescription import prescribe

    with pytest.raises(OncoError, match="Heure de T0 invalide : « 25:00 »"):
        care_plan({"patient": {}, "t0": "25:00"}, {})
    conn = connect(team_store)
    cure = planned_cure(conn)
    prescribe(conn, actors(conn)["DR1"], cure)
    out = tmp_path / "plans"
    with pytest.raises(OncoError, match="Heure de T0 invalide : « 99:99 »") as caught:
        render.render_care_plans(conn, date.today(), out, None, patient="9000101", t0="99:99",
                                 pdf=False)  # fmt: skip
    assert caught.value.field == "t0"
    assert not out.exists() or not any(out.iterdir())
    conn.close()
