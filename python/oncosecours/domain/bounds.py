"""How a refusal says a value and its allowed range, the same way everywhere.

"entre 0 et 350" reads as if 0 were allowed; the range says which bounds are included:
``poids > 0 et ≤ 350 kg``. Values typed by the user are quoted with « ».
"""

from __future__ import annotations


def quoted(value: object, unit: str = "") -> str:
    """« 400 » kg: the value as typed between « », the unit after (numbers without useless
    decimals)."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"« {text} »{' ' + unit if unit else ''}"


def bounds_fr(
    name: str,
    low: float,
    high: float,
    unit: str = "",
    *,
    low_included: bool = True,
    high_included: bool = True,
) -> str:
    """``poids > 0 et ≤ 350 kg`` (``≥``/``>`` and ``≤``/``<`` as the bounds are or are not
    allowed); thousands with a narrow space as elsewhere in French."""

    def number(value: float) -> str:
        return f"{value:,.10g}".replace(",", "\u202f")

    low_sign = "≥" if low_included else ">"
    high_sign = "≤" if high_included else "<"
    suffix = f" {unit}" if unit else ""
    return f"{name} {low_sign} {number(low)} et {high_sign} {number(high)}{suffix}"


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")  # fmt: skip


def impossible_date(year: int, month: int, day: int | None = None) -> str | None:
    """Why a date written with these numbers does not exist (« le 31/02/2026 n'existe pas
    (février 2026 compte 28 jours) »), or None when it does."""
    import calendar

    if not 1 <= month <= 12:
        return f"le mois « {month:02d} » n'existe pas (mois de 01 à 12)"
    if not 1 <= year <= 9999:
        return f"l'année « {year} » n'est pas valable"
    if day is None:
        return None
    length = calendar.monthrange(year, month)[1]
    if not 1 <= day <= length:
        return (
            f"le {day:02d}/{month:02d}/{year} n'existe pas "
            f"({MONTHS_FR[month - 1]} {year} compte {length} jours)"
        )
    return None


def date_parts(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of ``JJ/MM/AAAA`` or ``AAAA-MM-JJ`` (with or without a time after),
    without checking them; None when the text has neither shape."""
    import re

    match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})\b", text)
    if match:
        return int(match[3]), int(match[2]), int(match[1])
    match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})\b", text)
    if match:
        return int(match[1]), int(match[2]), int(match[3])
    return None


def date_refusal(label: str, text: str, expected: str, reason: str | None = None) -> str:
    """« Date invalide : « 31/02/2026 » — le 31/02/2026 n'existe pas (février 2026 compte 28
    jours) » for a well-shaped but impossible date, else the shapes expected."""
    parts = date_parts(text)
    reason = reason or (impossible_date(*parts) if parts else None)
    tail = f" — {reason}" if reason else f" (attendu {expected})"
    return f"{label} : « {text} »{tail}"
