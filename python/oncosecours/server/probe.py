"""Does the unit's server answer, and what each workstation must write in its ``[base]``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from oncosecours.domain.errors import OncoError
from oncosecours.server.cluster import ServerConfig

CONNECT_TIMEOUT_S = 3

_PSYCOPG_FR = (
    ("password authentication failed", "mot de passe ou utilisateur refusé par le serveur"),
    ("no pg_hba.conf entry", "ce poste n'est pas autorisé par le serveur (réseau des postes)"),
    ("Connection refused", "connexion refusée (serveur arrêté, ou mauvais port)"),
    ("timeout expired", "pas de réponse dans le délai (PC serveur éteint ou injoignable)"),
    ("does not exist", "base ou utilisateur inconnu du serveur"),
    ("the database system is starting up", "le serveur démarre, réessayer dans un instant"),
    ("the database system is shutting down", "le serveur est en cours d'arrêt"),
    ("No route to host", "PC serveur injoignable (réseau de l'unité)"),
)


@dataclass(frozen=True)
class Answer:
    """The result of one connection attempt, for the status lines and ``--json``."""

    target: str
    ok: bool
    detail: str
    version: str = ""
    milliseconds: float = 0.0

    def line(self) -> str:
        if self.ok:
            return (
                f"connexion {self.target} : RÉPOND (PostgreSQL {self.version}, "
                f"{self.milliseconds:.0f} ms)"
            )
        return f"connexion {self.target} : NE RÉPOND PAS — {self.detail}"

    def as_dict(self) -> dict:
        return {
            "cible": self.target,
            "repond": self.ok,
            "detail": self.detail,
            "version": self.version,
            "ms": round(self.milliseconds, 1),
        }


def french_reason(message: str) -> str:
    for english, french in _PSYCOPG_FR:
        if english in message:
            return french
    first = message.strip().splitlines()[0] if message.strip() else "erreur inconnue"
    return f"erreur de connexion : {first}"


def load_psycopg():
    """psycopg 3, imported only by the server commands; its absence is said in French."""
    try:
        import psycopg
    except ImportError:
        raise OncoError(
            "Pilote PostgreSQL (psycopg) absent de cette installation : installer "
            "« oncosecours[postgresql] » (pip install psycopg[binary])"
        ) from None
    return psycopg


def answer(host: str, port: int, database: str, user: str, password: str) -> Answer:
    """One connection as the OncoSecours role, as a workstation would make it."""
    psycopg = load_psycopg()

    from oncosecours.store.postgres_admin import probe

    target = f"{user}@{host}:{port}/{database}"
    started = time.perf_counter()
    try:
        with psycopg.connect(
            host=host,
            port=port,
            dbname=database,
            user=user,
            password=password,
            connect_timeout=CONNECT_TIMEOUT_S,
        ) as conn:
            found = probe(conn)
    except psycopg.Error as exc:
        return Answer(target, False, french_reason(str(exc)))
    elapsed = (time.perf_counter() - started) * 1000
    return Answer(target, True, "répond", found["version"], elapsed)


def answer_of(config: ServerConfig) -> Answer:
    password = config.app_password_file.read_text(encoding="utf-8").strip()
    return answer(config.address, config.port, config.database, config.user, password)


def answer_of_settings(settings) -> Answer:
    """The server a workstation's ``[base]`` names, reached as that workstation would (a
    missing password is a French refusal, raised)."""
    from oncosecours.store.engines import postgres_target

    target = postgres_target(settings)
    return answer(target.host, target.port, target.database, target.user, target.password())


def base_block(config: ServerConfig) -> str:
    """The ``[base]`` section each workstation puts in its ``etablissement.toml``."""
    return "\n".join(
        [
            "[base]",
            'moteur = "postgresql"',
            f'hote = "{config.address}"',
            f"port = {config.port}",
            f'nom_base = "{config.database}"',
            f'utilisateur = "{config.user}"',
            f'fichier_mot_de_passe = "{config.app_password_file.name}"',
        ]
    )


def workstation_instructions(config: ServerConfig) -> str:
    return "\n".join(
        [
            "Sur chaque poste, dans etablissement.toml à côté du classeur :",
            "",
            base_block(config),
            "",
            f"et copier le fichier {config.app_password_file} à côté du classeur (ou le mot de "
            "passe dans une variable d'environnement nommée par mot_de_passe_variable).",
            f"Postes autorisés : réseau {config.network}.",
        ]
    )
