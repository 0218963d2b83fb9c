"""``--help`` of every command and sub-command: exit 0, no traceback, French only; argparse's
own refusals in French."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pytest

from oncosecours.cli import build_parser, french_error, main

ENGLISH = re.compile(
    r"(\busage:|\b(?:show this help|positional arguments|optional arguments|choose from|"
    r"REASON|WEIGHT|HEIGHT|WARD|RECIPIENT|INITIALS|NAME|ROLE|START|END|LINE|INCIDENT|ACCESS|"
    r"COMMENT|DATE_FROM|DATE_TO|COUNT|RUNS|SEED|PREP|CURE|AT|DILUENT|CONTAINER|BAG_VOLUME|"
    r"STABILITY_H|JUSTIFICATION)\b)"
)


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, (*path, name))


COMMANDS = [path for path, _parser in _walk(build_parser())]


def test_the_tree_is_walked():
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "prepare make", "prepare lots", "user add", "backup restore", "bench refresh"} <= (
        names
    )
    assert len(COMMANDS) > 60


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "oncosecours")
def test_help_of_every_command_is_french(path, capsys):
    with pytest.raises(SystemExit) as stop:
        main([*path, "--help"])
    out, err = capsys.readouterr()
    assert stop.value.code == 0, err
    assert out.startswith("utilisation : oncosecours") and not err
    assert "Traceback" not in out
    english = ENGLISH.findall(out)
    assert not english, f"anglais visible : {english}\n{out}"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "oncosecours")
def test_every_value_has_a_french_metavar(path):
    """An option without ``metavar`` shows its English destination (``--reason REASON``)."""
    parser = dict(_walk(build_parser()))[path]
    for action in parser._actions:
        if action.nargs == 0 or isinstance(action, argparse._SubParsersAction):
            continue
        assert action.metavar is not None or action.choices, (
            f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest} : "
            f"pas de metavar (argparse afficherait {action.dest.upper()})"
        )


def test_prepare_help_in_a_real_process():
    """The percent sign of the lot example used to crash ``--help`` with a traceback."""
    for sub in ("make", "lots"):
        done = subprocess.run(
            [sys.executable, "-m", "oncosecours", "prepare", sub, "--help"],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            timeout=60,
        )
        assert done.returncode == 0 and not done.stderr, done.stderr
        assert "Glucose 5 %:G77" in done.stdout


def test_argparse_refusals_in_french(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["control", "--prep", "1", "--user", "X", "--weight", "300", "--visual", "ok"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert "argument --visual : choix invalide : 'ok' (choix possibles : 'conforme', " in err
    assert "choose from" not in err and "invalid choice" not in err

    with pytest.raises(SystemExit):
        main(["prepare", "fabriquer"])
    err = capsys.readouterr().err
    assert "choix invalide : 'fabriquer' (choix possibles : 'make', " in err

    with pytest.raises(SystemExit):
        main(["control", "--prep", "1"])
    err = capsys.readouterr().err
    assert "arguments obligatoires manquants : --user, --weight, --visual" in err

    with pytest.raises(SystemExit):
        main(["administer", "--user", "X", "--start", "08:00", "--end", "09:00"])
    err = capsys.readouterr().err
    assert "l'un des arguments --prep --line est obligatoire" in err

    with pytest.raises(SystemExit):
        main(["status", "--bidule"])
    assert "arguments non reconnus : --bidule" in capsys.readouterr().err


def test_unknown_argparse_messages_are_left_alone():
    assert french_error("something else") == "something else"
    assert french_error("argument --x: expected one argument") == (
        "argument --x : une valeur est attendue"
    )
