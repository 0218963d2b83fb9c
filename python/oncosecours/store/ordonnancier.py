"""The ordonnancier sequence: unique, chronological numbers, never reused and never skipped.

A number is allocated by :func:`allocate` INSIDE the write transaction that inserts the
preparation (``BEGIN IMMEDIATE`` serialises writers across processes): the next number of the
series is read and the row inserted before the commit, so two processes can never draw the same
number, and a preparation that is rolled back takes its number with it. The table's triggers
(migration 0004) refuse any insert that is not exactly the next number, any deletion and any
change to a recorded entry; :func:`check_sequence` re-reads the whole register.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncosecours.domain.errors import OncoError
from oncosecours.domain.production import (
    aware,
    check_ordonnancier_format,
    format_ordonnancier,
    fr_datetime,
    ordonnancier_scope,
)

CLOCK_TOLERANCE = timedelta(minutes=5)
"""How far behind the last entry a workstation's clock may be (clocks of shared PCs drift)."""


@dataclass(frozen=True)
class Allocation:
    """The number drawn for one preparation (to insert in the same transaction)."""

    scope: str
    seq: int
    year: int
    number: str


def allocate(conn: sqlite3.Connection, at: datetime, fmt: str, yearly_reset: bool) -> Allocation:
    """Draw the next number of the series for a preparation made at ``at``.

    Must run inside the write transaction that inserts the preparation. Refuses (rule
    ORDONNANCIER_HORLOGE) when this computer's clock is more than 5 minutes behind the last
    entry: the register must stay chronological.
    """
    if not conn.in_transaction:
        raise RuntimeError("ordonnancier.allocate must run inside the preparation's transaction")
    at = aware(at)
    check_ordonnancier_format(fmt, yearly_reset)
    last = conn.execute(
        "SELECT ord_number, prepared_at FROM preparations ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if last is not None:
        last_at = datetime.fromisoformat(last[1])
        if at < last_at - CLOCK_TOLERANCE:
            raise OncoError(
                f"L'horloge de ce poste ({fr_datetime(at)}) est en retard sur la dernière entrée "
                f"de l'ordonnancier (n° {last[0]} du {fr_datetime(last_at)}) : "
                "l'ordonnancier doit rester chronologique",
                rule="ORDONNANCIER_HORLOGE",
                hint="Remettre à l'heure l'horloge de ce poste puis recommencer",
            )
    scope = ordonnancier_scope(at.year, yearly_reset)
    seq = (
        conn.execute(
            "SELECT coalesce(max(ord_seq), 0) FROM preparations WHERE ord_scope = ?", (scope,)
        ).fetchone()[0]
        + 1
    )
    number = format_ordonnancier(fmt, at.year, seq)
    clash = conn.execute(
        "SELECT prepared_at FROM preparations WHERE ord_number = ?", (number,)
    ).fetchone()
    if clash is not None:
        raise OncoError(
            f"Le numéro d'ordonnancier {number} existe déjà (préparation du "
            f"{fr_datetime(datetime.fromisoformat(clash[0]))}) : le format ou la remise à zéro "
            "annuelle a changé en cours d'année",
            rule="ORDONNANCIER_DOUBLON",
            field="production.format_ordonnancier",
        )
    return Allocation(scope, seq, at.year, number)


@dataclass(frozen=True)
class SequenceReport:
    """Result of re-reading the register: ``ok`` and the problems found (French)."""

    ok: bool
    entries: int
    series: dict[str, int]
    problems: list[str]

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "series": self.series,
            "problems": self.problems,
        }


def check_sequence(conn: sqlite3.Connection) -> SequenceReport:
    """Every series numbered 1..n without gap nor duplicate, in chronological order."""
    problems: list[str] = []
    expected: dict[str, int] = {}
    seen_numbers: set[str] = set()
    last_at: datetime | None = None
    last_number = None
    count = 0
    for row in conn.execute(
        "SELECT id, ord_scope, ord_seq, ord_number, prepared_at FROM preparations ORDER BY id"
    ):
        count += 1
        scope, seq, number = row[1], row[2], row[3]
        want = expected.get(scope, 0) + 1
        if seq != want:
            problems.append(
                f"série {scope} : n° {number} porte le rang {seq}, attendu {want} "
                + ("(numéro sauté)" if seq > want else "(numéro réutilisé)")
            )
        expected[scope] = max(want, seq)
        if number in seen_numbers:
            problems.append(f"n° {number} attribué deux fois")
        seen_numbers.add(number)
        at = datetime.fromisoformat(row[4])
        if last_at is not None and at < last_at - CLOCK_TOLERANCE:
            problems.append(
                f"n° {number} ({fr_datetime(at)}) antérieur au n° {last_number} "
                f"({fr_datetime(last_at)}) : ordre non chronologique"
            )
        if last_at is None or at > last_at:
            last_at = at
        last_number = number
    return SequenceReport(not problems, count, expected, problems)
