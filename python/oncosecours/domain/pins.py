"""PIN rules: which new PINs are too easy to guess, and how long a user stays locked.

Pure (no I/O): the service reads the hospital's settings (``[codes_pin]``) and the store.
"""

from __future__ import annotations

from datetime import timedelta

DEMO_PIN = "1234"
"""The fictitious PIN of the demonstration team (only the demo may create users with it)."""

MAX_LOCK = timedelta(hours=24)

COMMON = frozenset(
    {"1212", "1122", "1313", "2580", "0852", "1004", "2000", "6969", "1010", "2020", "7777",
     "123123", "112233", "121212", "159753", "147258", "258369", "000000", "123456", "654321"}
)  # fmt: skip
"""Frequent PINs that no simple rule below catches (keypad columns, repeated pairs)."""


def _run(pin: str, step: int) -> bool:
    return all((int(b) - int(a)) == step for a, b in zip(pin, pin[1:], strict=False))


def weak_pin_reason(pin: str, min_length: int, *, demo: bool = False) -> str | None:
    """Why ``pin`` may not be chosen (French), or None when it may."""
    if not pin.isdigit():
        return "il ne doit contenir que des chiffres"
    if len(pin) < min_length:
        return f"il doit compter au moins {min_length} chiffres ({len(pin)} saisis)"
    if demo and pin == DEMO_PIN:
        return None
    if len(set(pin)) == 1:
        return "un même chiffre répété se devine"
    if _run(pin, 1) or _run(pin, -1):
        return "une suite de chiffres (1234, 9876…) se devine"
    if len(pin) == 4 and 1900 <= int(pin) <= 2099:
        return "une année (de naissance…) se devine"
    if pin in COMMON or (len(pin) % 2 == 0 and pin == pin[:2] * (len(pin) // 2)):
        return "c'est l'un des codes les plus courants"
    return None


def lock_duration(locks_before: int, first_minutes: int) -> timedelta:
    """The lock after the ``locks_before + 1``-th series of wrong PINs: doubled each time since
    the last successful login, at most 24 h."""
    return min(timedelta(minutes=first_minutes * (2 ** min(locks_before, 16))), MAX_LOCK)


def fr_duration(delta: timedelta) -> str:
    """« 5 min », « 1 h 20 min », « moins d'une minute »."""
    minutes = int(-(-delta.total_seconds() // 60))
    if minutes <= 0:
        return "moins d'une minute"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest:02d} min" if rest else "")
