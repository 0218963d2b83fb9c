"""``oncosecours server``: a real PostgreSQL cluster in a temporary folder (skipped without the
binaries or psycopg). Run as root (CI), PostgreSQL's programs run as the ``postgres`` account."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from oncosecours.cli import EXIT_REFUSED, main
from oncosecours.domain.errors import OncoError
from oncosecours.server import binaries, cluster

psycopg = pytest.importorskip("psycopg")

try:
    BIN = binaries.find_bin()
except OncoError:
    BIN = None

ROOT = cluster.effective_uid() == 0


def _system_account_missing() -> bool:
    if not ROOT:
        return False
    import pwd

    try:
        pwd.getpwnam(cluster.DEFAULT_SYSTEM_USER)
    except KeyError:
        return True
    return False


needs_postgres = pytest.mark.skipif(
    BIN is None or _system_account_missing(),
    reason="programmes PostgreSQL absents (ou, en root, pas de compte système postgres)",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server_folder():
    """A folder the ``postgres`` account can reach when we are root (pytest's tmp is 0700)."""
    parent = Path(tempfile.mkdtemp(prefix="oncosecours-pg-"))
    parent.chmod(0o755)
    folder = parent / "serveur"
    yield folder
    if (folder / cluster.CONFIG).exists():
        try:
            cluster.stop(cluster.ServerConfig.load(folder))
        except OncoError:
            pass
    shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.slow
@needs_postgres
def test_init_start_status_stop_on_a_real_cluster(server_folder, capsys, tmp_path):
    port = _free_port()
    code = main(
        [
            "server",
            "init",
            "--dossier",
            str(server_folder),
            "--adresse",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert f"écoute 127.0.0.1:{port}" in out
    assert 'moteur = "postgresql"' in out and f"port = {port}" in out
    config = cluster.ServerConfig.load(server_folder)
    assert config.network == "127.0.0.0/24"
    assert config.version.split(".")[0] == (config.data / "PG_VERSION").read_text().strip()
    for secret in (config.app_password_file, config.admin_password_file):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert config.app_password_file.read_text() != config.admin_password_file.read_text()
    hba = (config.data / "pg_hba.conf").read_text()
    assert "trust" not in hba and "host oncosecours oncosecours 127.0.0.0/24 scram-sha-256" in hba
    assert not cluster.is_running(config)  # init leaves it stopped

    assert main(["server", "status", "--dossier", str(server_folder)]) == 1
    assert "NE RÉPOND PAS — connexion refusée" in capsys.readouterr().out

    assert main(["server", "start", "--dossier", str(server_folder)]) == 0
    assert "Serveur démarré" in capsys.readouterr().out
    assert main(["server", "start", "--dossier", str(server_folder)]) == 0
    assert "déjà démarré" in capsys.readouterr().out
    assert main(["server", "status", "--dossier", str(server_folder)]) == 0
    status = capsys.readouterr().out
    assert "processus : démarré" in status and ": RÉPOND (PostgreSQL 15" in status

    # A workstation: the printed [base] block and the copied password file reach the server.
    block = out[out.index("[base]") :].split("\n\n")[0]
    settings = tmp_path / "etablissement.toml"
    settings.write_text(block + "\n", encoding="utf-8")
    shutil.copy(config.app_password_file, tmp_path / config.app_password_file.name)
    assert main(["server", "status", "--settings", str(settings), "--json"]) == 0
    assert '"repond": true' in capsys.readouterr().out

    # The OncoSecours role owns its database but is no superuser.
    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        dbname="oncosecours",
        user="oncosecours",
        password=config.app_password_file.read_text().strip(),
    ) as conn:
        conn.execute("CREATE TABLE essai (n integer)")
        assert (
            conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
            is False
        )
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host="127.0.0.1",
            port=port,
            dbname="oncosecours",
            user="oncosecours",
            password="mauvais",
            connect_timeout=5,
        )

    assert main(["server", "stop", "--dossier", str(server_folder)]) == 0
    assert "Serveur arrêté." in capsys.readouterr().out
    assert not cluster.is_running(config)
    assert main(["server", "stop", "--dossier", str(server_folder)]) == 0
    assert "déjà arrêté" in capsys.readouterr().out

    # A second init never overwrites the register.
    assert main(["server", "init", "--dossier", str(server_folder), "--adresse", "127.0.0.1"]) == (
        EXIT_REFUSED
    )
    assert "Serveur déjà préparé dans ce dossier" in capsys.readouterr().err


@needs_postgres
def test_port_in_use_is_refused_before_anything_is_written(server_folder, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(
            [
                "server",
                "init",
                "--dossier",
                str(server_folder),
                "--adresse",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        )
    assert code == EXIT_REFUSED
    assert f"Port {port} déjà utilisé sur 127.0.0.1" in capsys.readouterr().err
    assert not server_folder.exists()


@pytest.mark.parametrize(
    "address,message",
    [
        ("0.0.0.0", "écouterait sur tous les réseaux du PC"),
        ("dix.zero.zero.cinq", "Adresse d'écoute invalide"),
        ("192.0.2.77", "absente de ce PC"),  # TEST-NET-1: never configured here
    ],
)
def test_listening_address_is_checked(address, message):
    with pytest.raises(OncoError, match=message):
        cluster.check_address(address)


def test_network_of_the_workstations():
    assert cluster.check_network(None, "10.0.0.5") == "10.0.0.0/24"
    assert cluster.check_network("10.0.0.0/16", "10.0.0.5") == "10.0.0.0/16"
    with pytest.raises(OncoError, match="ouvrirait le serveur à toute adresse"):
        cluster.check_network("0.0.0.0/0", "10.0.0.5")
    with pytest.raises(OncoError, match="Réseau des postes invalide"):
        cluster.check_network("10.0.0/33", "10.0.0.5")


def test_root_runs_postgres_programs_as_the_system_account():
    assert cluster.service_prefix("postgres", 0) == ["runuser", "-u", "postgres", "--"]
    assert cluster.service_prefix("postgres", 1000) == []
    assert cluster.service_prefix("postgres", -1) == []  # Windows


@pytest.mark.skipif(not ROOT, reason="seulement en root")
@needs_postgres
def test_as_root_a_missing_system_account_is_refused(tmp_path):
    folder = tmp_path / "serveur"
    with pytest.raises(OncoError, match="compte système « oncosecours-absent » n'existe pas"):
        cluster.init(folder, "127.0.0.1", port=_free_port(), system_user="oncosecours-absent")
    assert not folder.exists()


@pytest.mark.skipif(not ROOT, reason="seulement en root")
@needs_postgres
def test_as_root_a_folder_the_system_account_cannot_reach_is_refused(tmp_path, capsys):
    closed = tmp_path / "ferme"
    closed.mkdir(mode=0o700)
    folder = closed / "serveur"
    code = main(
        [
            "server",
            "init",
            "--dossier",
            str(folder),
            "--adresse",
            "127.0.0.1",
            "--port",
            str(_free_port()),
        ]
    )
    assert code == EXIT_REFUSED
    assert "ne peut pas atteindre ce dossier" in capsys.readouterr().err
    assert not folder.exists()  # nothing left behind: init can simply be run again
    assert closed.exists()


def test_missing_binaries_are_refused_with_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setattr(binaries, "candidates", lambda: [("essai", tmp_path)])
    with pytest.raises(OncoError, match=r"introuvables .* essai : "):
        binaries.find_bin()
    with pytest.raises(OncoError, match="incomplet"):
        binaries.find_bin(tmp_path)


def test_binaries_from_the_environment_come_first(tmp_path, monkeypatch):
    monkeypatch.setenv(binaries.ENV_VAR, str(tmp_path / "kit-pg"))
    assert binaries.candidates()[0] == (f"${binaries.ENV_VAR}", tmp_path / "kit-pg")


def test_start_in_an_unprepared_folder_is_refused(tmp_path, capsys):
    assert main(["server", "start", "--dossier", str(tmp_path)]) == EXIT_REFUSED
    assert "serveur.toml absent" in capsys.readouterr().err


def test_status_in_sqlite_mode_says_there_is_no_server(capsys, monkeypatch):
    monkeypatch.delenv("ONCOSECOURS_SETTINGS", raising=False)
    assert main(["server", "status"]) == 0
    assert "Mode SQLite" in capsys.readouterr().out


def test_server_commands_keep_psycopg_off_the_cli_import(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, oncosecours.cli as c; c.build_parser(); "
        "print('psycopg' in sys.modules, 'oncosecours.server.cluster' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    ).stdout
    assert out.split() == ["False", "False"]
