"""Issue 9 on the CLI: ``oncosecours status`` opens with the state of the second copy (first line
of the text, ``copie_secours`` in --json)."""

from __future__ import annotations

import json

from oncosecours.cli import main
from oncosecours.store import replica

from .conftest import some_actions


def _status(capsys, store, *extra):
    code = main(["status", "--store", str(store), *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_status_says_the_second_location_is_missing(
    configure, tmp_path, conn, team, store_path, capsys
):
    absent = tmp_path / "cle-absente" / "OncoSecours"
    configure(absent)
    some_actions(conn, team, count=1)  # the copy fails: the work goes on

    data = json.loads(_status(capsys, store_path, "--json"))
    copy = data["copie_secours"]
    assert copy["niveau"] == "alerte" and copy["dossier"] == str(absent)
    assert copy["message"].startswith("COPIE DE SECOURS EN ÉCHEC")
    assert "introuvable" in copy["message"]
    assert data["lignes"] == []  # no cure today: the day's lines are still there, empty

    first, *rest = _status(capsys, store_path).splitlines()
    assert first == copy["message"]
    assert "Aucune cure ce jour." in rest


def test_status_shows_a_working_second_location_as_ok(
    settings, second, conn, team, store_path, capsys, monkeypatch
):
    monkeypatch.setattr(
        replica.status, "_same_device", lambda folder, store: False
    )  # another medium
    some_actions(conn, team, count=1)

    copy = json.loads(_status(capsys, store_path, "--json"))["copie_secours"]
    assert copy["niveau"] == "ok" and copy["retard"] == 0
    assert copy["message"].startswith("Copie de secours à jour")
    first = _status(capsys, store_path).splitlines()[0]
    assert first == copy["message"]


def test_status_without_a_second_location_says_so(configure, conn, admin, store_path, capsys):
    configure(None)
    first = _status(capsys, store_path).splitlines()[0]
    assert first.startswith("AUCUNE COPIE DE SECOURS")
