"""Users and PINs: created by an administrator, PIN kept as a salted scrypt hash."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3

from oncosecours.domain.errors import OncoError
from oncosecours.services.core import ROLES, Actor, action
from oncosecours.store import audit, users
from oncosecours.store.db import transaction

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def _hash_pin(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, **_SCRYPT)


def _check_new_user(initials: str, name: str, role: str, pin: str) -> None:
    if not initials or not initials.isalnum() or len(initials) > 8:
        raise OncoError(
            f"Initiales invalides : {initials!r} (1 à 8 lettres ou chiffres)", field="initiales"
        )
    if not name.strip():
        raise OncoError("Le nom est obligatoire", field="nom")
    if role not in ROLES:
        raise OncoError(f"Rôle inconnu : {role!r} (rôles : {', '.join(ROLES)})", field="rôle")
    if len(pin) < 4 or not pin.isdigit():
        raise OncoError("Le code PIN doit compter au moins 4 chiffres", field="PIN")


def _insert(conn: sqlite3.Connection, initials: str, name: str, role: str, pin: str) -> int:
    if users.user_by_initials(conn, initials) is not None:
        raise OncoError(f"L'utilisateur {initials} existe déjà", field="initiales")
    salt = os.urandom(16)
    return users.insert_user(
        conn,
        initials=initials,
        name=name.strip(),
        role=role,
        pin_salt=salt,
        pin_hash=_hash_pin(pin, salt),
        created_at=audit.now_iso(),
    )


def create_user(
    conn: sqlite3.Connection, actor: Actor, initials: str, name: str, role: str, pin: str
) -> Actor:
    """An administrator creates a user."""
    _check_new_user(initials, name, role, pin)
    with action(
        conn, actor, "créer_utilisateur", ["administrateur"], "créer un utilisateur"
    ) as act:
        user_id = _insert(conn, initials, name, role, pin)
        act.record("utilisateur", user_id, None, {"initiales": initials, "nom": name, "rôle": role})
    return Actor(user_id, initials, name.strip(), role)


def bootstrap_admin(conn: sqlite3.Connection, initials: str, name: str, pin: str) -> Actor:
    """The very first user of an empty store is an administrator (nobody could create them)."""
    _check_new_user(initials, name, "administrateur", pin)
    with transaction(conn):
        if users.any_user(conn):
            raise OncoError(
                "Des utilisateurs existent déjà : un administrateur doit créer les suivants",
                rule="ROLE",
            )
        user_id = _insert(conn, initials, name, "administrateur", pin)
        audit.append(
            conn,
            user_initials=initials,
            role="administrateur",
            action="initialiser_base",
            entity="utilisateur",
            entity_id=user_id,
            after={"initiales": initials, "nom": name, "rôle": "administrateur"},
        )
    return Actor(user_id, initials, name.strip(), "administrateur")


def authenticate(conn: sqlite3.Connection, initials: str, pin: str) -> Actor:
    """The user behind initials and PIN; one vague refusal for unknown user or wrong PIN."""
    row = users.user_by_initials(conn, initials)
    if row is None or not hmac.compare_digest(
        _hash_pin(pin or "", row["pin_salt"]), row["pin_hash"]
    ):
        raise OncoError(
            f"Initiales ou code PIN incorrects pour « {initials} »", field="utilisateur"
        )
    if not row["active"]:
        raise OncoError(f"L'utilisateur {initials} est désactivé", field="utilisateur")
    return Actor(row["id"], row["initials"], row["name"], row["role"])


def list_users(conn: sqlite3.Connection) -> list[dict]:
    """Initials, name, role and active flag of every user (read-only, no PIN material)."""
    return users.all_users(conn)
