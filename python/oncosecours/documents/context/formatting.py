"""Formatting of printed values: French numbers, dates, durations, units (no rounding beyond
what the dose engine decided: doses keep up to 3 decimals, volumes 2, so what is printed is what
was computed). Doses go through the one dose formatter (:func:`oncosecours.domain.display.fr_dose`),
the same as the CLI and the workbook.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from oncosecours.domain.display import fr_dose

CATEGORIES = {1: "Chimiothérapie", 2: "Prémédication", 3: "Rinçage"}
_HYDRATION_WORDS = (
    "nacl",
    "chlorure de sodium",
    "glucose",
    "g5",
    "hydrat",
    "ringer",
    "bicarbonate",
)


def num(value: Any, decimals: int = 2) -> str:
    """``12.5 -> "12,5"``, ``150.0 -> "150"``; ``None``/"" -> ""."""
    if value is None or value == "":
        return ""
    number = float(value)
    text = f"{number:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", ",")


def dose(value: Any) -> str:
    """A dose as everywhere else (CLI, workbook): ``73.755 -> "73,755"``, ``1470.0 -> "1470"``."""
    return fr_dose(value)


def concentration(value: Any) -> str:
    """Enough decimals to show 3 significant digits of small concentrations."""
    if value is None or value == "":
        return ""
    number = abs(float(value))
    decimals = 2 if number >= 1 else 3 if number >= 0.1 else 4 if number >= 0.01 else 5
    return num(value, decimals)


def parse_when(value: Any) -> dt.datetime | dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value
    text = str(value).strip()
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def date(value: Any) -> str:
    """ISO date or timestamp -> ``JJ/MM/AAAA`` (unknown text is printed as given)."""
    parsed = parse_when(value)
    if parsed is None:
        return "" if value in (None, "") else str(value)
    return parsed.strftime("%d/%m/%Y")


def datetime(value: Any) -> str:
    """ISO timestamp -> ``JJ/MM/AAAA HH:MM`` (local time as recorded)."""
    parsed = parse_when(value)
    if parsed is None:
        return "" if value in (None, "") else str(value)
    if not isinstance(parsed, dt.datetime):
        return parsed.strftime("%d/%m/%Y")
    return parsed.strftime("%d/%m/%Y %H:%M")


def duration(minutes: Any) -> str:
    """``90 -> "1 h 30"``, ``30 -> "30 min"``, ``120 -> "2 h"``."""
    if minutes in (None, ""):
        return ""
    total = int(round(float(minutes)))
    if total < 60:
        return f"{total} min"
    hours, rest = divmod(total, 60)
    return f"{hours} h" if rest == 0 else f"{hours} h {rest:02d}"


def offset(minutes: Any) -> str:
    """Time from T0: ``0 -> "T0"``, ``90 -> "T0 + 1 h 30"``, ``-15 -> "T0 − 15 min"``."""
    if minutes in (None, ""):
        return "T0"
    value = int(round(float(minutes)))
    if value == 0:
        return "T0"
    sign = "+" if value > 0 else "−"
    return f"T0 {sign} {duration(abs(value))}"


def clock(t0: str, minutes: Any) -> str:
    """``clock("08:30", 90) -> "10:00"``; "" when T0 is unknown."""
    if not t0 or minutes in (None, ""):
        return ""
    try:
        hours, mins = (int(part) for part in t0.replace("h", ":").split(":")[:2])
    except ValueError:
        return ""
    total = hours * 60 + mins + int(round(float(minutes)))
    day, total = divmod(total, 24 * 60)
    text = f"{total // 60:02d}:{total % 60:02d}"
    return text if day == 0 else f"{text} (J+{day})"


def parse_t0(text: Any) -> str:
    """The T0 of a plan de soins: « 08:30 », « 8h30 », « 8h » -> "08:30"; "" stays "" (to fill
    in by hand); anything else (25:00, 99:99, abc) is refused in French."""
    import re

    raw = str(text or "").strip()
    if not raw:
        return ""
    match = re.fullmatch(r"(\d{1,2})\s*(?::\s*(\d{2})|[hH]\s*(\d{2})?)", raw)
    hours = int(match.group(1)) if match else 99
    minutes = int(match.group(2) or match.group(3) or 0) if match else 99
    if hours > 23 or minutes > 59:
        from oncosecours.domain.errors import OncoError

        raise OncoError(
            f"Heure de T0 invalide : « {raw} » (attendu HH:MM entre 00:00 et 23:59, ex. 08:30)",
            field="t0",
        )
    return f"{hours:02d}:{minutes:02d}"


def rate(volume_ml: Any, duration_min: Any) -> str:
    """Infusion rate in mL/h from volume and duration; "" when either is missing."""
    if volume_ml in (None, "") or duration_min in (None, "") or float(duration_min) <= 0:
        return ""
    return f"{num(float(volume_ml) * 60.0 / float(duration_min), 1)} mL/h"


def unit(text: Any) -> str:
    """Units as printed: ``mg/m2 -> mg/m²``."""
    if not text:
        return ""
    return str(text).replace("m2", "m²")


def upper_name(text: Any) -> str:
    return str(text or "").strip().upper()


def category(line_type: Any, name: str) -> str:
    """Care-plan category of a line: chemotherapy, premedication, hydration or rinse."""
    kind = int(line_type) if line_type not in (None, "") else 1
    if kind == 2 and any(word in (name or "").lower() for word in _HYDRATION_WORDS):
        return "Hydratation"
    return CATEGORIES.get(kind, "Autre")


def lines(text: Any) -> list[str]:
    """Free text (protocol monitoring, remarks) -> non-empty lines."""
    if not text:
        return []
    return [line.strip() for line in str(text).replace("\r", "\n").split("\n") if line.strip()]
