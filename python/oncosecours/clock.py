"""The application's one clock: real local time, or a stated time for the demo and drills.

Services, the audit trail and the day views ask this module instead of ``datetime.now()``, so a
simulated day (the demo) tells one consistent story without patching anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current local time, timezone-aware."""
    if _source is not None:
        return _source()
    return datetime.now().astimezone()


def today() -> date:
    return now().date()


def now_iso() -> str:
    return now().isoformat(timespec="seconds")


@contextmanager
def use(source: Callable[[], datetime]) -> Iterator[None]:
    """Read the time from ``source`` (an aware-datetime callable) until the block ends."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous
