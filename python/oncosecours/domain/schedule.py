"""Cycles and day masks -> dated cures and dated administrations.

A protocol has a cycle length (days) and lines given on some days of the cycle (the Chimio day
mask ``JOURADM``: character n is ``O`` when the line is given on day n, so ``ONNNNNNNNNNNNNO`` is
J1 and J15). Cure n starts (J1) ``(n - 1) × cycle`` days after the first J1, shifted by any
postponement of that cure or of an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from oncosecours.domain.errors import OncoError


def days_from_mask(mask: str) -> list[int]:
    """``"NOO"`` -> ``[2, 3]``; refuses a mask with no day or an unknown character."""
    text = (mask or "").strip().upper()
    if not text or set(text) - {"O", "N"}:
        raise OncoError(
            f"Masque de jours invalide : « {mask} » (attendu une suite de O et N)",
            field="jours d'administration",
        )
    days = [i + 1 for i, ch in enumerate(text) if ch == "O"]
    if not days:
        raise OncoError(
            f"Masque de jours sans aucun jour d'administration : « {mask} »",
            field="jours d'administration",
        )
    return days


def check_days(days: Sequence[int]) -> list[int]:
    """A sorted list of distinct days >= 1."""
    clean = sorted({int(d) for d in days})
    if not clean or clean[0] < 1:
        raise OncoError(
            f"Jours d'administration invalides : « {list(days)} »", field="jours d'administration"
        )
    return clean


def choose_cycles(requested: int | None, default: int | None, maximum: int | None) -> int:
    """Number of cycles: the request, else the protocol default (else 1), bounded by the maximum."""
    cycles = requested if requested is not None else (default or 1)
    if cycles < 1:
        raise OncoError(f"Nombre de cycles impossible : {cycles}", field="cycles")
    if maximum and cycles > maximum:
        raise OncoError(
            f"Nombre de cycles {cycles} supérieur au maximum du protocole ({maximum})",
            field="cycles",
            rule="CYCLES_MAX",
        )
    if cycles > 100:
        raise OncoError(f"Nombre de cycles impossible : {cycles} (100 au plus)", field="cycles")
    return cycles


def plan_cures(start: date, cycle_days: int, cycles: int) -> list[date]:
    """J1 of each cure: ``start + (n - 1) × cycle_days``."""
    if cycle_days < 1:
        raise OncoError(f"Durée de cycle impossible : {cycle_days} jours", field="durée de cycle")
    return [start + timedelta(days=cycle_days * n) for n in range(cycles)]


def administration_dates(j1: date, days: Iterable[int]) -> list[tuple[int, date]]:
    """``(day, date)`` of each administration day of a line in a cure starting on ``j1``."""
    return [(day, j1 + timedelta(days=day - 1)) for day in check_days(list(days))]


def cure_last_day(lines_days: Iterable[Iterable[int]]) -> int:
    """The last day (J) of a cure given its lines' days."""
    return max((max(days) for days in lines_days if days), default=1)


@dataclass(frozen=True)
class Shift:
    """A cure moved by a postponement."""

    cycle: int
    before: date
    after: date


def postpone(
    cures: Sequence[tuple[int, date]], cycle: int, new_date: date, movable: Iterable[int]
) -> list[Shift]:
    """Move cure ``cycle`` to ``new_date`` and every later cure by the same number of days.

    ``cures`` are ``(cycle, J1)`` of the inclusion; ``movable`` are the cycles whose state allows a
    change of date. Refuses a date that is not later, or a later cure that cannot move.
    """
    by_cycle = dict(cures)
    if cycle not in by_cycle:
        raise OncoError(f"Cure du cycle {cycle} introuvable", field="cycle")
    current = by_cycle[cycle]
    delta = (new_date - current).days
    if delta <= 0:
        raise OncoError(
            f"Un report doit être postérieur à la date prévue ({current.isoformat()}) : "
            f"{new_date.isoformat()} ne l'est pas",
            field="nouvelle date",
        )
    movable = set(movable)
    shifts = []
    for other, j1 in sorted(by_cycle.items()):
        if other < cycle:
            continue
        if other not in movable:
            raise OncoError(
                f"La cure du cycle {other} ne peut plus changer de date (déjà engagée)",
                field="cycle",
                rule="REPORT",
            )
        shifts.append(Shift(other, j1, j1 + timedelta(days=delta)))
    return shifts
