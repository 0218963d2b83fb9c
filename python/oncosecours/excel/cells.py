"""Values on their way into and out of cells: dates, numbers, and user text that stays text.

Formula injection: a note that starts with ``=``, ``+``, ``-`` or ``@`` must stay the text the user
wrote. openpyxl would store such a string as a formula, and Excel evaluates a string assigned
through COM (``Range.Value``) the same way; so the builder forces the string type and the xlwings
adapter prefixes every string with Excel's text marker (an apostrophe, which Excel keeps out of the
value and the display). Stdlib only.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

TEXT_MARK = "'"
"""Excel's prefix character: the rest of the cell is text, never a formula, number or date."""

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_date_format(number_format: str | None) -> bool:
    return bool(number_format) and "yy" in number_format


CELL_LIMIT = 32_767
TRUNCATED = " … [affichage tronqué : texte complet dans la base]"


def clean_text(text: str) -> str:
    """Control characters cannot live in a cell; they are shown as � (the store keeps the
    original). A text longer than a cell can hold is cut, and says so."""
    text = _ILLEGAL.sub("\ufffd", text)
    if len(text) > CELL_LIMIT:
        text = text[: CELL_LIMIT - len(TRUNCATED)] + TRUNCATED
    return text


def display_value(value: Any, number_format: str | None = None) -> Any:
    """A value from the store as a cell should hold it (ISO dates become dates for date columns)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (int, float, datetime, date, time)):
        return value
    if isinstance(value, (list, tuple)):
        value = "\n".join(str(v) for v in value)
    text = str(value)
    if is_date_format(number_format):
        parsed = parse_iso(text)
        if parsed is not None:
            return parsed
    return clean_text(text)


def parse_iso(text: str) -> date | datetime | None:
    """ISO date or timestamp -> date / naive local datetime (Excel has no time zones)."""
    if _ISO_DATE.match(text):
        return date.fromisoformat(text)
    if _ISO_STAMP.match(text):
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return stamp.replace(tzinfo=None)
    return None


def for_excel(value: Any) -> Any:
    """A display value as written through COM: strings carry the text marker."""
    if isinstance(value, str):
        return TEXT_MARK + value
    return value


def from_excel(value: Any) -> Any:
    """A value read from a cell, normalised: stripped text, None for blanks, whole floats as int."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def as_text(value: Any) -> str | None:
    """User input as text (an IPP typed as a number stays its digits)."""
    value = from_excel(value)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def as_iso_date(value: Any) -> str | None:
    """A date cell (or a typed ``jj/mm/aaaa`` / ISO text) as ISO ``YYYY-MM-DD``."""
    value = from_excel(value)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day).isoformat()
    if _ISO_DATE.match(text):
        return text
    return text  # the service refuses it with its own French message


def as_number(value: Any) -> Any:
    """A number cell; text with a decimal comma is accepted; anything else is returned as is
    so that the service refuses it with the value in its message."""
    value = from_excel(value)
    if value is None or isinstance(value, (int, float)):
        return value
    text = str(value).replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return value
    return int(number) if number.is_integer() else number


def as_bool(value: Any) -> bool:
    value = from_excel(value)
    if isinstance(value, str):
        return value.strip().lower() in {"oui", "o", "vrai", "true", "x", "1", "yes"}
    return bool(value)
