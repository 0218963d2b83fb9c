"""The server PC stops in the middle of the day: each workstation is told so in French, nothing
half-written, and work resumes where it was once the server is back (a real cluster)."""

from __future__ import annotations

import pytest

import pg_engine
from oncosecours.cli import EXIT_REFUSED, main
from oncosecours.domain.errors import OncoError

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not pg_engine.available(), reason="PostgreSQL absent"),
]


@pytest.fixture
def own_server(tmp_path, monkeypatch):
    """A server of this test alone (it is stopped and started here)."""
    server = pg_engine.Server()
    settings = tmp_path / "etablissement.toml"
    settings.write_text(server.settings_text("oncosecours"), encoding="utf-8")
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
    monkeypatch.setenv("ONCOSECOURS_PIN", "4826")
    yield server
    server.close()


def _note(store, capsys, text: str) -> tuple[int, str, str]:
    code = main(["note", "add", "--store", str(store), "--user", "IDE1", "--patient",
                 "9100001", "--text", text])  # fmt: skip
    out, err = capsys.readouterr()
    return code, out, err


def test_server_stopped_mid_day_then_back(own_server, tmp_path, capsys):
    from oncosecours.server import cluster
    from oncosecours.services.notes import add_note
    from oncosecours.services.patients import create_patient
    from oncosecours.services.users import authenticate, bootstrap_admin, create_user
    from oncosecours.store import audit
    from oncosecours.store.db import connect

    store = tmp_path / "oncosecours.sqlite"
    conn = connect(store)
    admin = bootstrap_admin(conn, "ADM", "Admin", "4826")
    create_user(conn, admin, "IDE1", "Ivan Infirmier", "infirmier", "4826")
    create_user(conn, admin, "DR1", "Dr Un", "prescripteur", "4826")
    create_patient(conn, authenticate(conn, "DR1", "4826"), birth_name="MARTIN",
                   first_name="Jeanne", birth_date="1958-04-12", sex="F", ipp="9100001")  # fmt: skip
    nurse = authenticate(conn, "IDE1", "4826")
    add_note(conn, nurse, "Avant l'arrêt", patient="9100001")
    assert main(["status", "--store", str(store)]) == 0
    shown = capsys.readouterr().out
    port = own_server.config.port
    assert f"Base : PostgreSQL (plusieurs postes), serveur oncosecours@127.0.0.1:{port}" in shown
    assert ": répond (PostgreSQL 1" in shown

    cluster.stop(own_server.config)
    # a workstation whose connection was open: the next action is refused, in French
    with pytest.raises(OncoError) as caught:
        add_note(conn, nurse, "Pendant l'arrêt (poste ouvert)", patient="9100001")
    assert caught.value.rule == "SERVEUR_INJOIGNABLE"
    assert "Rien n'a été enregistré" in str(caught.value)
    # a click (a fresh process: the CLI) is refused too, without a traceback
    code, out, err = _note(store, capsys, "Pendant l'arrêt (clic)")
    assert code == EXIT_REFUSED and "ne répond pas" in err and "Traceback" not in err
    assert not store.exists()  # no local register started behind the user's back

    cluster.start(own_server.config)
    code, out, err = _note(store, capsys, "Après le retour du serveur")
    assert code == 0, err
    back = connect(store)
    texts = [r[0] for r in back.execute("SELECT text FROM notes ORDER BY id")]
    assert texts == ["Avant l'arrêt", "Après le retour du serveur"]
    assert audit.verify(back).ok
    back.close()
    # the Accueil sheet says which engine and server hold the register
    import openpyxl

    from oncosecours.excel.builder import build_workbook
    from oncosecours.excel.layout import load_layout

    cell = load_layout().sheet("Accueil").field("base").cell
    book = build_workbook(tmp_path / "OncoSecours.xlsm", store=store)
    assert openpyxl.load_workbook(book)["Accueil"][cell].value.startswith(
        f"PostgreSQL (plusieurs postes), serveur oncosecours@127.0.0.1:{port}/oncosecours : répond"
    )


def test_a_wrong_password_is_refused_in_french(pg_server, tmp_path, monkeypatch):
    """A workstation with a wrong password is told the server refuses it, not that it is down."""
    from oncosecours.store.db import connect

    wrong = tmp_path / "mauvais.motdepasse"
    wrong.write_text("pas-le-bon", encoding="utf-8")
    text = pg_server.settings_text("oncosecours")
    text = text.replace(pg_server.config.app_password_file.as_posix(), wrong.as_posix())
    settings = tmp_path / "etablissement.toml"
    settings.write_text(text, encoding="utf-8")
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
    with pytest.raises(OncoError) as caught:
        connect(tmp_path / "oncosecours.sqlite")
    assert caught.value.rule == "SERVEUR_REFUSE"
    assert "refuse ce poste" in str(caught.value) and "mot de passe" in caught.value.hint
    assert not (tmp_path / "oncosecours.sqlite").exists()
