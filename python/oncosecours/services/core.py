"""What every service shares: the acting user, the role check, and the audited transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.store import audit
from oncosecours.store.db import transaction

ROLES = ("prescripteur", "pharmacien", "préparateur", "infirmier", "administrateur")


@dataclass(frozen=True)
class Actor:
    """The authenticated user on whose behalf an action runs."""

    id: int
    initials: str
    name: str
    role: str


def require_role(actor: Actor, allowed: Iterable[str], action_fr: str) -> None:
    """Refuse (rule ROLE) unless the actor's role is allowed for this action."""
    allowed = tuple(allowed)
    if actor.role not in allowed:
        raise OncoError(
            f"{actor.initials} ({actor.role}) ne peut pas {action_fr} : "
            f"action réservée au rôle {' ou '.join(allowed)}",
            rule="ROLE",
        )


def squeeze(text: object) -> str:
    """Free text typed by a user, with runs of blanks (tabs, newlines) collapsed to one space."""
    return " ".join(str(text or "").split())


def optional_text(text: object) -> str | None:
    """Like :func:`squeeze`, but ``None`` when nothing is left (an optional comment)."""
    return squeeze(text) or None


def required_reason(reason: object, what: str) -> str:
    """The reason of an action, blanks collapsed; refused when empty ("Le motif {what} ...")."""
    text = squeeze(reason)
    if not text:
        raise OncoError(f"Le motif {what} est obligatoire", field="motif")
    return text


class Action:
    """The open transaction of one user action; ``record`` appends its audit event."""

    def __init__(self, conn: sqlite3.Connection, actor: Actor, name: str) -> None:
        self.conn = conn
        self.actor = actor
        self.name = name
        self.recorded = 0

    def record(
        self, entity: str, entity_id: Any = None, before: Any = None, after: Any = None
    ) -> int:
        self.recorded += 1
        return audit.append(
            self.conn,
            user_initials=self.actor.initials,
            role=self.actor.role,
            action=self.name,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )


@contextmanager
def action(
    conn: sqlite3.Connection, actor: Actor, name: str, allowed: Iterable[str], action_fr: str
) -> Iterator[Action]:
    """Check the role, then run the body in one transaction that must append an audit event."""
    require_role(actor, allowed, action_fr)
    with transaction(conn):
        act = Action(conn, actor, name)
        yield act
        if not act.recorded:
            raise RuntimeError(f"action {name} wrote no audit event")
