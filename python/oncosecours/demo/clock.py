"""The demo's simulated day: a clock from 06:30 to 18:30 that the services read while the day is
played, the live second copy paused meanwhile, and the demo's settings file for this process."""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path


class Clock:
    """The simulated time of the day: it only moves forward."""

    def __init__(self, day: date, start: str = "06:30") -> None:
        self.day = day
        self.tz = datetime.now().astimezone().tzinfo
        self.current = self.at(start)

    def at(self, hhmm: str | time) -> datetime:
        moment = hhmm if isinstance(hhmm, time) else time.fromisoformat(hhmm)
        return datetime.combine(self.day, moment, tzinfo=self.tz)

    def set(self, when: str | datetime) -> datetime:
        """Move to ``when`` (``"HH:MM"`` today, or a datetime) unless already later."""
        moment = when if isinstance(when, datetime) else self.at(when)
        self.current = max(self.current, moment)
        return self.current

    def tick(self, minutes: int = 5) -> datetime:
        self.current += timedelta(minutes=minutes)
        return self.current

    def iso(self) -> str:
        return self.current.isoformat(timespec="seconds")


@contextmanager
def simulated_clock(day_clock: Clock):
    """The application clock reads the demo's clock while the day is played."""
    from oncosecours import clock

    with clock.use(lambda: day_clock.current):
        yield


@contextmanager
def copy_paused(settings):
    """No live second copy while the simulated day is played (see the module docstring)."""
    try:
        from oncosecours.store import replica
    except ImportError:  # a version without the second copy
        yield
        return
    from oncosecours.settings import Settings

    sections = settings.as_dict()
    sections["copie_secours"] = {**sections["copie_secours"], "dossier": ""}
    replica.use_settings(Settings(sections, None))
    try:
        yield
    finally:
        replica.use_settings(None)


@contextmanager
def settings_env(path: Path):
    """Make every ``load_settings()`` of this process read the demo's settings file."""
    from oncosecours.settings import ENV_VAR

    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = before
