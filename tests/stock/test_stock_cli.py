"""The stock commands as a user runs them (real store, today's clock)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from stock_fixtures import dump, load_stock_snapshot, patient_on

from oncosecours.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err or out
    return json.loads(out)


@pytest.fixture
def cli_day(conn, team, store_path, monkeypatch):
    monkeypatch.setenv("ONCOSECOURS_PIN", "4826")
    load_stock_snapshot(conn)
    first = patient_on(conn, team, "oxali", 0, on=date.today())
    second = patient_on(conn, team, "oxali", 1, on=date.today())
    return store_path, first, second


def test_stock_from_the_command_line(cli_day, capsys, conn):
    store, first, second = cli_day
    s = ("--store", store)
    for cure in (first, second):
        run_json(capsys, "goahead", "give", *s, "--user", "DR1", "--cure", cure)
    # inventory: 1 vial of 100 mg and 1 of 50 mg: 150 mg for 2 × 130 mg planned -> shortage
    run_json(capsys, "stock", "count", *s, "--user", "PR1", "--product", 3102, "--vials", 1)
    run_json(capsys, "stock", "count", *s, "--user", "PR1", "--product", 3101, "--vials", 1)
    view = run_json(capsys, "stock", "show", *s)
    (need,) = view["besoins"]
    assert (need["molecule"], need["besoin"], need["flacons"]) == ("OXALIPLATINE", 260, 150)
    assert need["rupture"] and need["manque"] == 110
    assert "DUPONT Marie" in need["alerte"] and "BERNARD Paul" in need["alerte"]
    code, out, _ = run(capsys, "stock", "show", *s)
    assert code == 0 and "RUPTURE OXALIPLATINE" in out

    lines = run_json(capsys, "status", *s, "--date", date.today().isoformat())["lignes"]
    line = next(r for r in lines if r["cure_id"] == first and r["needs_preparation"])
    plan = run_json(capsys, "prepare", "preview", *s, "--line", line["line_id"])
    lots = [f"flacon:{p['name']}:L{p['product_id']}:12/2099:{p['count']}" for p in plan["products"]]
    lots.append(f"diluant:{plan['diluent']}:D1:2099-01-31")
    lot_args = [a for lot in lots for a in ("--lot", lot)]
    code, out, err = run(
        capsys, "prepare", "make", *s, "--user", "PR1", "--line", line["line_id"], "--tare", "28,5",
        *lot_args,
    )  # fmt: skip
    assert code == 0, err
    assert "Poids cible (brut, tare 28,5 g comprise) : 308,8 g" in out
    assert "Reliquat mis en stock : R1 — 20 mg (4 mL)" in out
    view = run_json(capsys, "stock", "show", *s)
    assert [r["reliquat"] for r in view["reliquats"]] == ["R1"]
    assert {v["produit"]: v["flacons"] for v in view["flacons"]} == {
        "OXALIPLATINE 100 mg/20 mL": 0,
        "OXALIPLATINE 50 mg/10 mL": 0,
    }
    # a refusal writes nothing and says why, in French
    before = dump(conn)
    code, _, err = run(
        capsys, "stock", "discard", *s, "--user", "PR1", "--reliquat", "R9", "--reason", "x"
    )
    assert code == 2 and "Reliquat R9 inconnu" in err
    assert dump(conn) == before
    code, out, _ = run(
        capsys,
        "stock",
        "discard",
        *s,
        "--user",
        "PR1",
        "--reliquat",
        "R1",
        "--reason",
        "flacon tombé",
    )
    assert code == 0 and "Reliquat jeté : R1" in out


def test_bench_leftovers_reports_the_vials_saved(capsys):
    report = run_json(capsys, "bench", "leftovers", "--patients", 4)
    assert report["flacons_sans"] > report["flacons_avec_moins"]
    assert report["quantite_avec"] < report["quantite_sans"]
