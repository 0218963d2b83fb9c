"""French decimal comma: every decimal option takes « 60,5 » as 60.5; a bad number is refused in
French, naming the option."""

from __future__ import annotations

import argparse
import json

import pytest
from cli_helpers import planned_cure

from oncosecours.cli import build_parser, main
from oncosecours.commands._common import nombre
from oncosecours.store.db import connect


@pytest.mark.parametrize(
    ("text", "value"), [("60,5", 60.5), ("60.5", 60.5), (" 0,309 ", 0.309), ("178", 178.0)]
)
def test_nombre_reads_both_separators(text, value):
    assert nombre(text) == value


@pytest.mark.parametrize("text", ["", "abc", "60,5,1", "1.000,5", "6O", "nan", "inf", "-inf"])
def test_nombre_refuses_in_french(text):
    with pytest.raises(argparse.ArgumentTypeError, match="nombre invalide : « "):
        nombre(text)


def _decimal_options():
    """(command path, option) of every option whose value is a decimal number."""
    stack = [((), build_parser())]
    while stack:
        path, parser = stack.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack += [((*path, n), p) for n, p in action.choices.items()]
            elif action.type is float:
                yield path, action.option_strings
            elif action.type is nombre:
                yield path, None


def test_no_option_parses_floats_the_english_way():
    found = list(_decimal_options())
    assert [p for p, english in found if english] == []
    assert {("control",), ("patient", "measure"), ("prescribe", "save")} <= {p for p, _ in found}


def test_measure_with_a_decimal_comma(team_store, capsys):
    conn = connect(team_store)
    planned_cure(conn)
    conn.close()
    code = main(
        ["patient", "measure", "--store", str(team_store), "--user", "IDE1",
         "--patient", "9000101", "--weight", "60,5", "--height", "165,5", "--json"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    saved = {m["mesure"]: m["valeur"] for m in json.loads(out)}
    assert sorted(saved.values()) == [60.5, 165.5]
    conn = connect(team_store)
    values = sorted(r[0] for r in conn.execute("SELECT value FROM measurements"))
    conn.close()
    assert 60.5 in values and 165.5 in values


def test_a_bad_number_names_the_option(team_store, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["patient", "measure", "--store", str(team_store), "--user", "IDE1",
              "--patient", "9000101", "--weight", "60,5kg"])  # fmt: skip
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert "erreur : argument --weight : nombre invalide : « 60,5kg » (ex. 60,5 ou 60.5)" in err


def test_prescribe_preview_with_decimal_commas(team_store, capsys):
    conn = connect(team_store)
    cure = planned_cure(conn)
    conn.close()
    code = main(
        ["prescribe", "preview", "--store", str(team_store), "--cure", str(cure),
         "--weight", "64,5", "--height", "165,0", "--creatinine", "70,4", "--json"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    head = json.loads(out)["head"]
    assert (head["weight_kg"], head["height_cm"], head["creatinine_umol_l"]) == (64.5, 165.0, 70.4)
