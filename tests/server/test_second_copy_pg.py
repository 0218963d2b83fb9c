"""The server PC is lost: the second copy, written in the SQLite format after each action done
on the server, is restored onto a workstation, which goes on alone (a real PostgreSQL)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import pg_engine
from oncosecours.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "production"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not pg_engine.available(), reason="PostgreSQL absent"),
]


def test_copy_of_the_server_restored_on_a_workstation(pg_server, tmp_path, monkeypatch, capsys):
    import production_fixtures as fx

    from oncosecours.server import cluster
    from oncosecours.services.go_ahead import give_go_ahead
    from oncosecours.services.preparation import prepare
    from oncosecours.services.users import authenticate, bootstrap_admin
    from oncosecours.store.db import connect
    from oncosecours.store.integrity import verify_store

    medium = tmp_path / "support"
    medium.mkdir()
    server = pg_engine.Server()  # this test stops it: its own
    try:
        text = server.settings_text("oncosecours").replace(
            'dossier = ""', f'dossier = "{medium.as_posix()}"', 1
        )
        settings = tmp_path / "etablissement.toml"
        settings.write_text(text, encoding="utf-8")
        monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
        monkeypatch.setenv("ONCOSECOURS_PIN", "4826")
        store = tmp_path / "poste" / "oncosecours.sqlite"
        store.parent.mkdir()
        conn = connect(store)
        team = fx.make_team(conn, bootstrap_admin(conn, "ADM", "Admin", "4826"))
        day = fx.make_day(conn, team)
        give_go_ahead(conn, team["DR1"], day["cures"]["martin"], now=fx.at(8))
        lines = fx.lines_of(conn, day["cures"]["martin"])
        prepare(conn, team["PR1"], lines[0]["id"], now=fx.at(9))
        events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
        conn.close()
        # after the first, each copy is brought up to date in place, the snapshot kept
        from oncosecours.store import audit
        from oncosecours.store.replica import open_readonly, sync

        assert sync.last_result["mode"] == "incrémentale"
        copies = list(medium.glob("*.sqlite"))
        assert len(copies) == 1, list(medium.iterdir())
        ro = open_readonly(copies[0])
        assert audit.verify(ro).ok and audit.verify(ro).events == events
        assert ro.execute("SELECT count(*) FROM ref_products").fetchone()[0] > 0
        assert ro.execute("SELECT count(*) FROM preparations").fetchone()[0] == 1
        ro.close()
    finally:
        cluster.stop(server.config)  # the server PC is lost
    # a workstation switches to its own file and restores the copy
    settings.write_text(text.replace('moteur = "postgresql"', 'moteur = "sqlite"'), "utf-8")
    local = tmp_path / "seul" / "oncosecours.sqlite"
    code = main(["backup", "restore", "--from", str(copies[0]), "--store", str(local),
                 "--user", "PH1"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    alone = connect(local)
    assert verify_store(alone).ok
    assert alone.execute("SELECT count(*) FROM audit_event").fetchone()[0] == events + 1
    pr1 = authenticate(alone, "PR1", "4826")
    assert prepare(alone, pr1, lines[1]["id"], now=fx.at(9, 30))["ord_number"] == "2026-000002"
    alone.close()
    server.close()


def test_the_copy_follows_a_new_snapshot_on_the_server(pg_server, tmp_path, monkeypatch):
    """In place, the copy keeps the Chimio snapshot only while it is the server's: after a
    refresh on the server, the copy holds the new one (digest equal to the server's)."""
    from datetime import date

    from oncosecours.refresh.synth import generate
    from oncosecours.services.refresh import refresh_snapshot
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store import ledger
    from oncosecours.store.replica import open_readonly, sync

    medium = tmp_path / "support"
    medium.mkdir()
    text = pg_server.settings_text(pg_server.database()).replace(
        'dossier = ""', f'dossier = "{medium.as_posix()}"', 1
    )
    settings = tmp_path / "etablissement.toml"
    settings.write_text(text, encoding="utf-8")
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
    store = tmp_path / "poste" / "oncosecours.sqlite"
    store.parent.mkdir()
    from oncosecours.store.db import connect

    conn = connect(store)
    admin = bootstrap_admin(conn, "ADM", "Admin", "4826")  # first copy: complete
    for seed in (3, 4):
        backup = tmp_path / f"sauvegarde-{seed}"
        generate(backup, "small", seed=seed, backup_date=date(2026, 3, 1))
        refresh_snapshot(conn, admin, backup)
        assert sync.last_result["mode"] == "incrémentale"
        copy = open_readonly(next(medium.glob("*.sqlite")))
        try:
            assert ledger.snapshot_digest(copy) == ledger.snapshot_digest(conn)
        finally:
            copy.close()
    conn.close()
