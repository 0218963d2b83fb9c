"""Users and PINs: created by an administrator, PIN kept as a salted scrypt hash.

A new PIN must not be guessable (:func:`oncosecours.domain.pins.weak_pin_reason`); after
``[codes_pin] essais_max`` wrong PINs in a row the user is locked for a delay that doubles with
each lock, every failure and lock audited (never the PIN typed); an administrator can unlock."""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
from datetime import datetime
from typing import Any

from oncosecours import clock
from oncosecours.domain.errors import OncoError
from oncosecours.domain.pins import fr_duration, lock_duration, weak_pin_reason
from oncosecours.services.core import ROLES, Actor, action
from oncosecours.store import audit, pin_locks, users
from oncosecours.store.db import transaction

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def _hash_pin(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, **_SCRYPT)


def _pin_settings(settings: Any) -> Any:
    if settings is None:
        from oncosecours.settings import load_settings

        settings = load_settings()
    return settings["codes_pin"]


def _check_new_user(
    initials: str, name: str, role: str, pin: str, settings: Any = None, demo: bool = False
) -> None:
    if not initials or not initials.isalnum() or len(initials) > 8:
        raise OncoError(
            f"Initiales invalides : « {initials} » (1 à 8 lettres ou chiffres)", field="initiales"
        )
    if not name.strip():
        raise OncoError("Le nom est obligatoire", field="nom")
    if role not in ROLES:
        raise OncoError(f"Rôle inconnu : « {role} » (rôles : {', '.join(ROLES)})", field="rôle")
    reason = weak_pin_reason(pin, int(_pin_settings(settings)["longueur_min"]), demo=demo)
    if reason:
        raise OncoError(f"Code PIN refusé pour « {initials} » : {reason}", field="PIN")


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
    conn: sqlite3.Connection,
    actor: Actor,
    initials: str,
    name: str,
    role: str,
    pin: str,
    *,
    settings: Any = None,
    demo: bool = False,
) -> Actor:
    """An administrator creates a user (``demo``: the demonstration team's fictitious PIN)."""
    _check_new_user(initials, name, role, pin, settings, demo)
    with action(
        conn, actor, "créer_utilisateur", ["administrateur"], "créer un utilisateur"
    ) as act:
        user_id = _insert(conn, initials, name, role, pin)
        act.record("utilisateur", user_id, None, {"initiales": initials, "nom": name, "rôle": role})
    return Actor(user_id, initials, name.strip(), role)


def bootstrap_admin(
    conn: sqlite3.Connection,
    initials: str,
    name: str,
    pin: str,
    *,
    settings: Any = None,
    demo: bool = False,
) -> Actor:
    """The very first user of an empty store is an administrator (nobody could create them)."""
    _check_new_user(initials, name, "administrateur", pin, settings, demo)
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


def authenticate(
    conn: sqlite3.Connection,
    initials: str,
    pin: str,
    *,
    settings: Any = None,
    now: datetime | None = None,
) -> Actor:
    """The user behind initials and PIN; one vague refusal for an unknown user or a wrong PIN.

    A locked user is refused without the PIN being checked; the ``essais_max``-th wrong PIN in a
    row locks (each failure in its own committed transaction, so every process sees it)."""
    row = users.user_by_initials(conn, initials)
    wrong = f"Initiales ou code PIN incorrects pour « {initials} »"
    if row is None:
        _hash_pin(pin or "", b"0" * 16)  # the same time as a wrong PIN
        raise OncoError(wrong, field="utilisateur")
    rules = _pin_settings(settings)
    now = now or clock.now()
    state = pin_locks.state(conn, row["initials"])
    if state.locked_until and now < datetime.fromisoformat(state.locked_until):
        raise _locked(conn, state, now)
    if not hmac.compare_digest(_hash_pin(pin or "", row["pin_salt"]), row["pin_hash"]):
        try:
            locked = _note_wrong_pin(conn, state, now, rules)
        except sqlite3.OperationalError as exc:  # a copy opened read-only (restore check)
            if "readonly" not in str(exc).replace(" ", "").lower():
                raise
            raise OncoError(f"{wrong} (copie en lecture seule)", field="utilisateur") from None
        if locked is not None:
            raise _locked(conn, locked, now)
        left = int(rules["essais_max"]) - pin_locks.state(conn, row["initials"]).failed_pins
        raise OncoError(
            f"{wrong} (encore {left} essai{'s' if left > 1 else ''} avant verrouillage)",
            field="utilisateur",
        )
    if not row["active"]:
        raise OncoError(f"L'utilisateur « {initials} » est désactivé", field="utilisateur")
    if state.failed_pins or state.locks or state.locked_until:
        with transaction(conn):
            pin_locks.clear(conn, state.user_id)
    return Actor(row["id"], row["initials"], row["name"], row["role"])


def _note_wrong_pin(
    conn: sqlite3.Connection, state: pin_locks.LockState, now: datetime, rules: Any
) -> pin_locks.LockState | None:
    """Count the failure (audited, without the PIN); lock at the limit. The lock, or None."""
    limit = int(rules["essais_max"])
    with transaction(conn):
        failures = pin_locks.note_failure(conn, state.user_id)
        event = {"echecs_de_suite": failures, "maximum": limit}
        audit.append(conn, user_initials=state.initials, role=state.role, action="échec_pin",
                     entity="utilisateur", entity_id=state.user_id, after=event)  # fmt: skip
        if failures < limit:
            return None
        delay = lock_duration(state.locks, int(rules["verrouillage_minutes"]))
        until = (now + delay).isoformat(timespec="seconds")
        pin_locks.lock(conn, state.user_id, until)
        audit.append(
            conn,
            user_initials=state.initials,
            role=state.role,
            action="verrouiller_utilisateur",
            entity="utilisateur",
            entity_id=state.user_id,
            after={"jusqu_a": until, "minutes": int(delay.total_seconds() // 60),
                   "verrouillage_n": state.locks + 1, "echecs_de_suite": failures},
        )  # fmt: skip
    return pin_locks.state(conn, state.initials)


def _locked(conn: sqlite3.Connection, state: pin_locks.LockState, now: datetime) -> OncoError:
    until = datetime.fromisoformat(state.locked_until or now.isoformat())
    admins = [a for a in pin_locks.administrators(conn) if a.upper() != state.initials.upper()]
    who = f"un administrateur ({', '.join(admins)})" if admins else "un administrateur"
    return OncoError(
        f"Utilisateur « {state.initials} » verrouillé après trop de codes PIN erronés : "
        f"réessayer dans {fr_duration(until - now)} (à {until:%H:%M} le {until:%d/%m/%Y}), "
        f"ou demander à {who} de le déverrouiller (oncosecours user unlock {state.initials})",
        field="utilisateur",
        rule="PIN_VERROUILLE",
    )


def unlock_user(conn: sqlite3.Connection, actor: Actor, initials: str) -> dict[str, Any]:
    """An administrator lifts a lock (or a count of wrong PINs) before its end."""
    with action(
        conn, actor, "déverrouiller_utilisateur", ["administrateur"], "déverrouiller un utilisateur"
    ) as act:
        state = pin_locks.state(conn, initials)
        if state is None:
            raise OncoError(f"Utilisateur « {initials} » inconnu", field="initiales")
        if not state.locked_until and not state.failed_pins:
            raise OncoError(
                f"L'utilisateur « {state.initials} » n'est pas verrouillé (aucun code PIN "
                "erroné en attente)",
                field="initiales",
            )
        before = {"jusqu_a": state.locked_until, "echecs_de_suite": state.failed_pins}
        pin_locks.clear(conn, state.user_id)
        act.record("utilisateur", state.user_id, before, {"jusqu_a": None, "echecs_de_suite": 0})
    return {"initiales": state.initials, "etait_verrouille_jusqu_a": state.locked_until}


def list_users(conn: sqlite3.Connection) -> list[dict]:
    """Initials, name, role and active flag of every user (read-only, no PIN material)."""
    return users.all_users(conn)
