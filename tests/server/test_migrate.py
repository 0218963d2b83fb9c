"""``oncosecours migrate``: a live register moved from its SQLite file to the unit's server and
back, verified on arrival, on a real PostgreSQL (the product's scratch server)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import pg_engine
from oncosecours.cli import EXIT_REFUSED, main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "production"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not pg_engine.available(), reason="PostgreSQL absent"),
]


def _cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def test_register_moves_to_the_server_and_back_verified(pg_server, tmp_path, monkeypatch, capsys):
    import production_fixtures as fx

    from oncosecours.services.preparation import prepare
    from oncosecours.services.users import authenticate, bootstrap_admin
    from oncosecours.store import audit
    from oncosecours.store.db import connect, connect_file
    from oncosecours.store.integrity import verify_store

    monkeypatch.delenv("ONCOSECOURS_SETTINGS", raising=False)
    monkeypatch.setenv("ONCOSECOURS_PIN", "4826")
    store = tmp_path / "oncosecours.sqlite"
    conn = connect(store)
    team = fx.make_team(conn, bootstrap_admin(conn, "ADM", "Admin", "4826"))
    day = fx.make_day(conn, team)
    from oncosecours.services.go_ahead import give_go_ahead

    give_go_ahead(conn, team["DR1"], day["cures"]["martin"], now=fx.at(8))
    first = fx.lines_of(conn, day["cures"]["martin"])
    assert prepare(conn, team["PR1"], first[0]["id"], now=fx.at(9))["ord_number"] == "2026-000001"
    events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    conn.close()

    settings = tmp_path / "etablissement-serveur.toml"
    settings.write_text(pg_server.settings_text(pg_server.database()), encoding="utf-8")
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
    code, out = _cli(capsys, "migrate", "--to", "postgresql", "--store", str(store),
                     "--user", "PH1")  # fmt: skip
    assert code == 0, out
    assert f"{events} événement(s) d'audit" in out and "Journal d'audit intègre" in out

    server = connect(store)  # the settings now open the server's register
    assert server.engine == "postgresql"
    assert verify_store(server).ok
    assert server.execute("SELECT count(*) FROM audit_event").fetchone()[0] == events + 1
    last = server.execute("SELECT action FROM audit_event ORDER BY seq DESC LIMIT 1").fetchone()
    assert last[0] == "migrer_registre"
    # work goes on on the server: the next bag gets the next number
    pr1 = authenticate(server, "PR1", "4826")
    assert prepare(server, pr1, first[1]["id"], now=fx.at(9, 5))["ord_number"] == "2026-000002"
    server.close()

    again = _cli(capsys, "migrate", "--to", "postgresql", "--store", str(store), "--user", "PH1")
    assert again[0] == EXIT_REFUSED and "jamais fusionné" in again[1]

    back = tmp_path / "retour.sqlite"
    code, out = _cli(capsys, "migrate", "--to", "sqlite", "--vers", str(back), "--user", "PH1")
    assert code == 0, out
    lite = connect_file(back)
    assert verify_store(lite).ok and audit.verify(lite).ok
    numbers = [r[0] for r in lite.execute("SELECT ord_number FROM preparations ORDER BY id")]
    assert numbers == ["2026-000001", "2026-000002"]
    assert lite.execute("SELECT count(*) FROM audit_event").fetchone()[0] == events + 3
    lite.close()
    refused = _cli(capsys, "migrate", "--to", "sqlite", "--vers", str(back), "--user", "PH1")
    assert refused[0] == EXIT_REFUSED and "rien n'est écrasé" in refused[1]
