"""``[base]``: sqlite by default; postgresql validated, then refused at opening in this version."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.settings import load_settings
from oncosecours.store import engines, replica
from oncosecours.store.db import connect

POSTGRES = """[base]
moteur = "postgresql"
hote = "10.0.0.5"
port = 5433
fichier_mot_de_passe = "oncosecours-pg.motdepasse"
"""


def _settings(tmp_path, text):
    path = tmp_path / "etablissement.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_engine_is_sqlite():
    settings = load_settings()
    assert engines.engine_of(settings) == "sqlite"
    assert settings.base.port == 5432
    assert settings.base.nom_base == "oncosecours"


def test_postgres_target_reads_the_password_file_beside_the_settings(tmp_path):
    settings = load_settings(_settings(tmp_path, POSTGRES))
    target = engines.postgres_target(settings)
    assert target.describe() == "oncosecours@10.0.0.5:5433/oncosecours"
    assert target.password_file == tmp_path.resolve() / "oncosecours-pg.motdepasse"
    with pytest.raises(OncoError, match="Fichier du mot de passe PostgreSQL illisible"):
        target.password()
    (tmp_path / "oncosecours-pg.motdepasse").write_text("s3cret\n", encoding="utf-8")
    assert target.password() == "s3cret"


def test_postgres_password_from_an_environment_variable(tmp_path, monkeypatch):
    text = POSTGRES.replace(
        'fichier_mot_de_passe = "oncosecours-pg.motdepasse"', 'mot_de_passe_variable = "ONCO_PG"'
    )
    target = engines.postgres_target(load_settings(_settings(tmp_path, text)))
    monkeypatch.delenv("ONCO_PG", raising=False)
    with pytest.raises(OncoError, match="variable d'environnement ONCO_PG n'est pas définie"):
        target.password()
    monkeypatch.setenv("ONCO_PG", "autre")
    assert target.password() == "autre"


@pytest.mark.parametrize(
    "text,message,field",
    [
        ('[base]\nmoteur = "mysql"\n', "Valeur hors bornes pour base.moteur", "base.moteur"),
        ("[base]\nport = 70000\n", "Valeur hors bornes pour base.port", "base.port"),
        ('[base]\nport = "5432"\n', "Type incorrect pour base.port", "base.port"),
        ('[base]\nnom_base = ""\n', "Valeur hors bornes pour base.nom_base", "base.nom_base"),
        (
            '[base]\nmot_de_passe_variable = "MOT DE PASSE"\n',
            "un nom de variable",
            "base.mot_de_passe_variable",
        ),
        (
            '[base]\nmot_de_passe = "secret"\n',
            "le mot de passe ne s'écrit jamais dans les paramètres",
            "base.mot_de_passe",
        ),
        (
            '[base]\nmoteur = "postgresql"\nmot_de_passe_variable = "PG"\n',
            "base.hote doit nommer le serveur",
            "base.hote",
        ),
        (
            '[base]\nmoteur = "postgresql"\nhote = "10.0.0.5"\n',
            "aucune n'est renseignée",
            "base.mot_de_passe_variable",
        ),
        (
            '[base]\nmoteur = "postgresql"\nhote = "10.0.0.5"\nmot_de_passe_variable = "PG"\n'
            'fichier_mot_de_passe = "pg.txt"\n',
            "les deux sont renseignées",
            "base.mot_de_passe_variable",
        ),
    ],
)
def test_bad_base_settings_are_refused_in_french(tmp_path, text, message, field):
    with pytest.raises(OncoError, match=message) as caught:
        load_settings(_settings(tmp_path, text))
    assert caught.value.field == field
    assert caught.value.file == str(tmp_path / "etablissement.toml")


def _no_server(tmp_path) -> tuple[Path, int]:
    """Settings naming a PostgreSQL server on a local port where nothing listens."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "oncosecours-pg.motdepasse").write_text("secret", encoding="utf-8")
    text = POSTGRES.replace('hote = "10.0.0.5"', 'hote = "127.0.0.1"').replace(
        "port = 5433", f"port = {port}"
    )
    return _settings(tmp_path, text), port


def test_postgres_mode_with_the_server_down_is_a_french_refusal(tmp_path, monkeypatch):
    pytest.importorskip("psycopg")
    settings, port = _no_server(tmp_path)
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
    store = tmp_path / "oncosecours.sqlite"
    with pytest.raises(OncoError) as caught:
        connect(store)
    message = str(caught.value)
    assert "Le serveur PostgreSQL de l'unité ne répond pas" in message
    assert f"oncosecours@127.0.0.1:{port}/oncosecours" in message
    assert caught.value.rule == "SERVEUR_INJOIGNABLE" and "backup restore" in caught.value.hint
    assert not store.exists()  # no local store started behind the user's back


def test_the_ribbon_settings_choose_the_engine_too(tmp_path, monkeypatch):
    """The ribbon installs the workbook's settings for the action (replica.use_settings)."""
    pytest.importorskip("psycopg")
    monkeypatch.delenv("ONCOSECOURS_SETTINGS", raising=False)
    settings, _port = _no_server(tmp_path)
    previous = replica.use_settings(load_settings(settings))
    try:
        with pytest.raises(OncoError, match="ne répond pas"):
            connect(tmp_path / "oncosecours.sqlite")
    finally:
        replica.use_settings(previous)
    connect(tmp_path / "oncosecours.sqlite").close()  # back to the default: SQLite


def test_cli_says_the_server_is_down_without_traceback(tmp_path, monkeypatch, capsys):
    from oncosecours.cli import EXIT_REFUSED, main

    pytest.importorskip("psycopg")
    settings, _port = _no_server(tmp_path)
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
    code = main(["status", "--store", str(tmp_path / "oncosecours.sqlite")])
    assert code == EXIT_REFUSED
    err = capsys.readouterr().err
    assert err.startswith("Refusé : ") and "ne répond pas" in err
    assert "Traceback" not in err
