"""One PostgreSQL cluster in one folder of the server PC: init, start, stop, and is it there.

The folder holds the data (``donnees/``), the server's log, ``serveur.toml`` (what ``init`` chose,
read back by the other commands), the superuser's password (kept on the server PC) and the
password of the OncoSecours role (copied beside each workstation's workbook).

The server listens on 127.0.0.1 and on the unit's isolated network address only, never on every
interface; only the OncoSecours role may connect from that network, with SCRAM passwords.
PostgreSQL refuses to run as root: when started by root (a Linux service, a container, CI), its
programs run as a system account (``postgres`` by default) that owns the folder.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import socket
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from oncosecours.domain.errors import OncoError
from oncosecours.server.binaries import find_bin, program, server_version

DATA = "donnees"
CONFIG = "serveur.toml"
LOG = "postgresql.log"
ADMIN_PASSWORD = "admin.motdepasse"
APP_PASSWORD = "oncosecours-pg.motdepasse"
ADMIN_USER = "oncosecours_admin"
DEFAULT_SYSTEM_USER = "postgres"
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class ServerConfig:
    """What ``server init`` chose; saved in ``serveur.toml`` beside the data."""

    folder: Path
    address: str
    port: int
    network: str
    bin: Path
    database: str = "oncosecours"
    user: str = "oncosecours"
    system_user: str = ""
    version: str = field(default="")

    @property
    def data(self) -> Path:
        return self.folder / DATA

    @property
    def log(self) -> Path:
        return self.folder / LOG

    @property
    def app_password_file(self) -> Path:
        return self.folder / APP_PASSWORD

    @property
    def admin_password_file(self) -> Path:
        return self.folder / ADMIN_PASSWORD

    def save(self) -> None:
        values = {
            "adresse": self.address,
            "port": self.port,
            "reseau": self.network,
            "bin": str(self.bin),
            "nom_base": self.database,
            "utilisateur": self.user,
            "utilisateur_systeme": self.system_user,
            "version": self.version,
        }
        lines = ["# Serveur PostgreSQL d'OncoSecours (écrit par « oncosecours server init »)."]
        lines += [
            f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()
        ]
        (self.folder / CONFIG).write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: str | os.PathLike) -> ServerConfig:
        folder = Path(folder).absolute()
        path = folder / CONFIG
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
            return cls(
                folder=folder,
                address=values["adresse"],
                port=int(values["port"]),
                network=values["reseau"],
                bin=Path(values["bin"]),
                database=values["nom_base"],
                user=values["utilisateur"],
                system_user=values.get("utilisateur_systeme", ""),
                version=values.get("version", ""),
            )
        except FileNotFoundError:
            raise OncoError(
                "Dossier du serveur non préparé (serveur.toml absent) : lancer d'abord "
                "« oncosecours server init »",
                file=str(path),
            ) from None
        except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as exc:
            raise OncoError(f"serveur.toml illisible : {exc}", file=str(path)) from None


# --- options -------------------------------------------------------------------------------


def check_address(address: str) -> str:
    """An IP address of this PC on the unit's network (or 127.0.0.1 for a one-PC trial)."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        raise OncoError(
            f"Adresse d'écoute invalide : « {address} » (attendu une adresse IP de ce PC sur le "
            "réseau isolé de l'unité, ex. 10.0.0.5)",
            field="--adresse",
        ) from None
    if parsed.is_unspecified:
        raise OncoError(
            f"Adresse d'écoute refusée : « {address} » écouterait sur tous les réseaux du PC, "
            "y compris celui de l'hôpital ; donner l'adresse du PC sur le réseau isolé de l'unité",
            field="--adresse",
        )
    try:
        with socket.socket(socket.AF_INET6 if parsed.version == 6 else socket.AF_INET) as probe:
            probe.bind((str(parsed), 0))
    except OSError:
        raise OncoError(
            f"Adresse d'écoute « {address} » absente de ce PC (vérifier l'adresse de la carte "
            "réseau reliée au réseau isolé de l'unité : ipconfig / ip addr)",
            field="--adresse",
        ) from None
    return str(parsed)


def check_network(network: str | None, address: str) -> str:
    """The workstations' network (CIDR); by default the /24 around the listening address."""
    if not network:
        prefix = 24 if ipaddress.ip_address(address).version == 4 else 64
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    try:
        parsed = ipaddress.ip_network(network.strip(), strict=False)
    except ValueError:
        raise OncoError(
            f"Réseau des postes invalide : « {network} » (attendu par ex. 10.0.0.0/24)",
            field="--reseau",
        ) from None
    if parsed.prefixlen == 0:
        raise OncoError(
            f"Réseau des postes refusé : « {network} » ouvrirait le serveur à toute adresse",
            field="--reseau",
        )
    return str(parsed)


def check_port_free(address: str, port: int) -> None:
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    with socket.socket(family) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            raise OncoError(
                f"Port {port} déjà utilisé sur {address} (un autre serveur ?) : choisir un autre "
                "port avec --port",
                field="--port",
            ) from None


# --- running PostgreSQL's programs -----------------------------------------------------------


def effective_uid() -> int:
    """-1 on Windows (no root there: PostgreSQL drops Administrator rights by itself)."""
    return os.geteuid() if hasattr(os, "geteuid") else -1


def service_prefix(system_user: str, uid: int) -> list[str]:
    """The command prefix that runs PostgreSQL's programs as ``system_user`` when we are root."""
    if uid != 0:
        return []
    return ["runuser", "-u", system_user, "--"]


def _run(config: ServerConfig, args: list[str], step: str) -> subprocess.CompletedProcess:
    command = service_prefix(config.system_user, effective_uid()) + args
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=START_TIMEOUT_S + 30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OncoError(f"{step} impossible : {exc}", step=step) from None
    return result


def _fail(result: subprocess.CompletedProcess, step: str, config: ServerConfig) -> OncoError:
    tail = (result.stderr or result.stdout or "").strip().splitlines()[-3:]
    hint = None
    if config.log.exists():
        try:
            last = config.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            last = []
        hint = f"Journal du serveur {config.log}" + (" : " + " / ".join(last[-2:]) if last else "")
    return OncoError(
        f"{step} a échoué : {' / '.join(tail) or 'sans message'}", step=step, hint=hint
    )


def _system_account(system_user: str):
    """As root, PostgreSQL runs under this system account: it must exist."""
    import pwd

    try:
        return pwd.getpwnam(system_user)
    except KeyError:
        raise OncoError(
            f"PostgreSQL refuse de tourner en administrateur (root) et le compte système "
            f"« {system_user} » n'existe pas : le créer (adduser --system {system_user}) ou "
            "lancer la commande depuis un compte ordinaire",
            field="--utilisateur-systeme",
        ) from None


def _prepare_for_system_user(folder: Path, system_user: str) -> None:
    """As root: the system account must own the folder and reach it (every parent traversable)."""
    account = _system_account(system_user)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid)
    probe = subprocess.run(
        service_prefix(system_user, 0) + ["test", "-w", str(folder), "-a", "-x", str(folder)],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        raise OncoError(
            f"Le compte système « {system_user} » qui fait tourner PostgreSQL ne peut pas "
            f"atteindre ce dossier (un dossier parent lui est fermé) : choisir un dossier "
            f"accessible (ex. /srv/oncosecours-pg) ou ouvrir les dossiers parents (chmod o+x)",
            file=str(folder),
        )


def _write_private(path: Path, text: str) -> None:
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(0o600)


def _append_settings(config: ServerConfig) -> None:
    listen = "127.0.0.1" if config.address == "127.0.0.1" else f"127.0.0.1,{config.address}"
    lines = [
        "",
        "# --- OncoSecours (oncosecours server init) ---",
        f"listen_addresses = '{listen}'",
        f"port = {config.port}",
        "unix_socket_directories = ''",
        "password_encryption = 'scram-sha-256'",
        "max_connections = 60",
        "fsync = on",
        "synchronous_commit = on",
        "",
    ]
    with (config.data / "postgresql.conf").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    hba = [
        "# OncoSecours : qui peut se connecter (écrit par « oncosecours server init »).",
        f"host all {ADMIN_USER} 127.0.0.1/32 scram-sha-256",
        f"host {config.database} {config.user} 127.0.0.1/32 scram-sha-256",
        f"host {config.database} {config.user} {config.network} scram-sha-256",
    ]
    (config.data / "pg_hba.conf").write_text("\n".join(hba) + "\n", encoding="utf-8")


def init(
    folder: str | os.PathLike,
    address: str,
    port: int = 5432,
    network: str | None = None,
    bin_folder: str | os.PathLike | None = None,
    system_user: str = DEFAULT_SYSTEM_USER,
) -> ServerConfig:
    """Create the cluster, its role and database; the server is left stopped."""
    folder = Path(folder).absolute()
    if (folder / CONFIG).exists() or (folder / DATA).exists():
        raise OncoError(
            "Serveur déjà préparé dans ce dossier (rien n'est écrasé) : « oncosecours server "
            "start » pour le démarrer",
            file=str(folder),
        )
    address = check_address(address)
    network = check_network(network, address)
    if not 1 <= port <= 65535:
        raise OncoError(f"Port invalide : {port} (attendu 1 à 65535)", field="--port")
    check_port_free(address, port)
    binaries = find_bin(bin_folder)
    from oncosecours.server.probe import load_psycopg

    load_psycopg()  # needed to create the role: refused now, before anything is written
    root = effective_uid() == 0
    config = ServerConfig(
        folder=folder,
        address=address,
        port=port,
        network=network,
        bin=binaries,
        system_user=system_user if root else "",
        version=server_version(binaries),
    )
    if root:
        _system_account(system_user)  # refused now, before anything is written
    created = [path for path in (folder, *folder.parents) if not path.exists()]
    try:
        _build(config)
    except BaseException:
        _undo(config, created)
        raise
    return config


def _build(config: ServerConfig) -> None:
    """Write the folder, run initdb, configure, create the role and database, stop."""
    config.folder.mkdir(parents=True, exist_ok=True)
    _write_private(config.admin_password_file, secrets.token_urlsafe(24))
    _write_private(config.app_password_file, secrets.token_urlsafe(24))
    config.save()
    if config.system_user:
        _prepare_for_system_user(config.folder, config.system_user)
    step = "initdb (création du serveur)"
    result = _run(
        config,
        [
            program(config.bin, "initdb"),
            "-D",
            str(config.data),
            "-U",
            ADMIN_USER,
            f"--pwfile={config.admin_password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        ],
        step,
    )
    if result.returncode != 0:
        raise _fail(result, step, config)
    _append_settings(config)
    start(config)
    try:
        _create_role_and_database(config)
    finally:
        stop(config)


def _undo(config: ServerConfig, created: list[Path]) -> None:
    """A failed init leaves nothing behind, so that it can simply be run again."""
    import shutil

    try:
        if config.data.exists() and is_running(config):
            stop(config)
    except OncoError:
        pass
    for name in (DATA, CONFIG, LOG, ADMIN_PASSWORD, APP_PASSWORD):
        path = config.folder / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
    for path in created:  # the folders init made, deepest first, if still empty
        try:
            path.rmdir()
        except OSError:
            break


def _admin_connection(config: ServerConfig):
    from oncosecours.server.probe import load_psycopg

    return load_psycopg().connect(
        host="127.0.0.1",
        port=config.port,
        dbname="postgres",
        user=ADMIN_USER,
        password=config.admin_password_file.read_text(encoding="utf-8").strip(),
        autocommit=True,
        connect_timeout=10,
    )


def _create_role_and_database(config: ServerConfig) -> None:
    from oncosecours.store.postgres_admin import create_role_and_database

    with _admin_connection(config) as admin:
        create_role_and_database(
            admin,
            config.user,
            config.app_password_file.read_text(encoding="utf-8").strip(),
            config.database,
        )


def is_running(config: ServerConfig) -> bool:
    """``pg_ctl status``: 0 running, 3 stopped, 4 no data folder."""
    result = _run(config, [program(config.bin, "pg_ctl"), "status", "-D", str(config.data)], "état")
    return result.returncode == 0


def _check_binaries(config: ServerConfig) -> None:
    if not (config.bin / ("pg_ctl.exe" if os.name == "nt" else "pg_ctl")).exists():
        raise OncoError(
            f"Programmes PostgreSQL {config.version} introuvables là où « server init » les a "
            f"pris : {config.bin} (le dossier de données ne s'ouvre qu'avec cette version)",
            file=str(config.folder / CONFIG),
        )


def start(config: ServerConfig) -> bool:
    """Start the server and wait until it accepts connections; False if it was already running."""
    _check_binaries(config)
    if is_running(config):
        return False
    check_port_free(config.address, config.port)
    step = "démarrage du serveur (pg_ctl start)"
    result = _run(
        config,
        [
            program(config.bin, "pg_ctl"),
            "start",
            "-D",
            str(config.data),
            "-l",
            str(config.log),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "-s",
        ],
        step,
    )
    if result.returncode != 0:
        raise _fail(result, step, config)
    return True


def stop(config: ServerConfig) -> bool:
    """Stop the server (fast mode: open transactions are rolled back, committed work is kept);
    False if it was not running."""
    _check_binaries(config)
    if not is_running(config):
        return False
    step = "arrêt du serveur (pg_ctl stop)"
    result = _run(
        config,
        [program(config.bin, "pg_ctl"), "stop", "-D", str(config.data), "-m", "fast", "-w", "-s"],
        step,
    )
    if result.returncode != 0:
        raise _fail(result, step, config)
    return True
