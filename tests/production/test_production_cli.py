"""The production commands end to end on a real store, with today's real clock (as a user runs them)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from production_fixtures import PATIENTS, load_snapshot, prescribe_and_validate

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
    load_snapshot(conn)
    cure = prescribe_and_validate(conn, team, PATIENTS[0], on=date.today())
    return store_path, cure


def test_cli_circuit(cli_day, capsys):
    store, cure = cli_day
    s = ("--store", store)
    today = date.today().isoformat()

    waiting = run_json(capsys, "goahead", "list", *s)
    assert [w["cure_id"] for w in waiting] == [cure]
    code, out, err = run(capsys, "goahead", "give", *s, "--user", "PR1", "--cure", cure)
    assert code == 2 and "Refusé : [ROLE]" in err
    run_json(capsys, "goahead", "give", *s, "--user", "DR1", "--cure", cure)

    status = run_json(capsys, "status", *s, "--date", today)["lignes"]
    line = next(r for r in status if r["needs_preparation"])
    assert line["state"] == "go_ahead" and line["blocking"] == "à préparer"

    plan = run_json(capsys, "prepare", "preview", *s, "--line", line["line_id"])
    lots = [f"flacon:{p['name']}:L{i}:12/2099:{p['count']}" for i, p in enumerate(plan["products"])]
    lots.append(f"diluant:{plan['diluent']}:D1:2099-01-31")
    lot_args = [a for lot in lots for a in ("--lot", lot)]
    code, out, err = run(
        capsys, "prepare", "make", *s, "--user", "PR1", "--line", line["line_id"], *lot_args
    )
    assert code == 0, err
    number = f"{date.today().year}-000001"
    assert f"Préparation n° {number}" in out and "À utiliser avant le" in out
    code, out, err = run(
        capsys, "prepare", "make", *s, "--user", "PR1", "--line", line["line_id"], *lot_args
    )
    assert code == 2 and "PREPARATION_DOUBLE" in err and number in err

    sheet = run_json(capsys, "prepare", "show", *s, "--prep", number)
    weight = round(sheet["target_weight_g"], 1)
    code, out, err = run(
        capsys,
        "control",
        *s,
        "--user",
        "PR2",
        "--prep",
        number,
        "--weight",
        weight,
        "--visual",
        "conforme",
        "--double-check",
        "PH2",
    )
    assert code == 0 and "dans la tolérance" in out
    code, out, err = run(capsys, "release", *s, "--user", "PR1", "--prep", number)
    assert code == 2 and "[ROLE]" in err
    code, out, err = run(capsys, "release", *s, "--user", "PH1", "--prep", number)
    assert code == 0 and "libérée par PH1" in out
    given = run_json(
        capsys, "dispense", *s, "--user", "PR1", "--prep", number, "--recipient", "IDE Julie"
    )
    assert given["ward"] == "Hôpital de jour oncologie"
    code, out, err = run(
        capsys,
        "administer",
        *s,
        "--user",
        "IDE1",
        "--prep",
        number,
        "--start",
        given["dispensed_at"],
        "--end",
        given["dispensed_at"],
        "--incident",
        "reaction:rougeur au point de ponction",
        "--access",
        "PAC",
    )
    assert code == 0, err
    assert "incident : réaction — rougeur au point de ponction" in out

    code, out, err = run(capsys, "status", *s, "--date", today)
    assert code == 0 and f"ADMINISTRÉE n° {number}" in out and "MARTIN" in out
    code, out, err = run(
        capsys, "ordonnancier", "export", *s, "--from", today, "--to", today, "--by", "patient"
    )
    assert code == 0 and out.startswith(number) and "lots :" in out and "libéré par PH1" in out
    code, out, err = run(capsys, "ordonnancier", "verify", *s)
    assert code == 0 and "Ordonnancier intègre : 1 entrée(s)" in out
    code, out, err = run(capsys, "audit", "verify", *s)
    assert code == 0
