"""``include cancel``, ``include stop`` and ``goahead withdraw`` as a user types them (real clock)."""

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


@pytest.fixture
def cli_day(conn, team, store_path, monkeypatch):
    monkeypatch.setenv("ONCOSECOURS_PIN", "4826")
    load_snapshot(conn)
    cures = [prescribe_and_validate(conn, team, row, on=date.today()) for row in PATIENTS[:2]]
    return conn, store_path, cures


def test_cli_withdraw_cancel_and_stop(cli_day, capsys):
    conn, store, (martin, durand) = cli_day
    s = ("--store", store)
    run(capsys, "goahead", "give", *s, "--user", "DR1", "--cure", martin)
    code, out, err = run(
        capsys, "goahead", "withdraw", *s, "--user", "DR1", "--cure", martin, "--reason", "fièvre"
    )
    assert code == 0, err
    assert f"Feu vert retiré pour la cure n° {martin}" in out and "fièvre" in out
    code, out, err = run(capsys, "goahead", "list", *s)
    assert "feu vert retiré : fièvre" in out
    code, out, err = run(capsys, "status", *s)
    assert "FEU VERT REFUSÉ" in out and "feu vert retiré par DR1 : fièvre" in out
    code, out, err = run(
        capsys, "goahead", "withdraw", *s, "--user", "DR1", "--cure", martin, "--reason", "x"
    )
    assert code == 2 and "Refusé : [TRANSITION]" in err

    code, out, err = run(
        capsys, "include", "cancel", *s, "--user", "IDE1", "--cure", martin, "--reason", "x"
    )
    assert code == 2 and "Refusé : [ROLE]" in err
    code, out, err = run(
        capsys, "include", "cancel", *s, "--user", "DR1", "--cure", martin, "--reason", "décès"
    )
    assert code == 0, err
    assert f"Cure n° {martin} (cycle 1)" in out and "annulée : décès" in out
    code, out, err = run(capsys, "status", *s)
    assert "motif de l'annulation de la cure : décès" in out

    inclusion = conn.execute("SELECT inclusion_id FROM cures WHERE id = ?", (durand,)).fetchone()[0]
    code, out, err = run(
        capsys,
        "include",
        "stop",
        *s,
        "--user",
        "PH1",
        "--inclusion",
        inclusion,
        "--reason",
        "progression",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["state"] == "stopped" and result["cancelled_cures"][0]["cure_id"] == durand
    code, out, err = run(
        capsys, "include", "stop", *s, "--user", "PH1", "--inclusion", inclusion, "--reason", "x"
    )
    assert code == 2 and "déjà arrêtée" in err
    code, out, err = run(capsys, "include", "show", *s, "--inclusion", inclusion)
    assert "ARRÊTÉE le" in out and ": progression" in out
    assert "(motif : arrêt du protocole : progression)" in out
    code, out, err = run(capsys, "patient", "show", *s, "--patient", PATIENTS[0][6])
    assert code == 0, err
    assert "annulée, prescription n°" in out and "motif : décès" in out
    code, out, err = run(capsys, "audit", "verify", *s)
    assert code == 0, err


def test_cli_help_is_french(capsys):
    for argv in (("include", "cancel"), ("include", "stop"), ("goahead", "withdraw")):
        with pytest.raises(SystemExit):
            main([*argv, "--help"])
        out = capsys.readouterr().out
        assert "motif" in out and "--reason" in out
