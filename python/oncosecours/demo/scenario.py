"""The crisis day, played end to end through the services (the functions the CLI and ribbon call).

Every change goes through ``oncosecours.services`` (one transaction and one audit event per
action, as for a user); the demo only reads the store to choose what to do next. A refusal that
the story expects (homonym, unjustified alert, out-of-tolerance bag) is caught and reported;
any other refusal stops the demo with its French message.

The day is today, on a simulated clock (:class:`~oncosecours.demo.clock.Clock`, 06:30 to 18:30): its time is passed
to the services as ``now``, and, for the services that take no ``now`` (patients, inclusion,
prescription, validation, notes, users, refresh), it is what ``oncosecours.clock`` returns while
the demo plays. Every record and every audit event of the
demo store therefore tells one consistent day: a fiche de fabrication never shows a validation
made hours after the preparation. The audit chain is verified as usual; the real time of the run
is in ``resume.json``.

The live second copy (``[copie_secours]``, after every commit) is paused while the simulated day
is played: its daily snapshot is dated by the real clock, and a copy taken at real time would be
judged against simulated event times. The copy and the day's snapshot are written once at the
end (as ``oncosecours backup now`` does), then verified like ``oncosecours backup verify``.
"""

from __future__ import annotations

import sqlite3
import sys
import time as clock_time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from oncosecours.demo import identities as ids
from oncosecours.demo.chapters.arrival import ArrivalChapters
from oncosecours.demo.chapters.paper import PaperChapters
from oncosecours.demo.chapters.pharmacy import PharmacyChapters
from oncosecours.demo.chapters.ward import WardChapters
from oncosecours.demo.clock import Clock, copy_paused, settings_env, simulated_clock
from oncosecours.demo.verification import Verification
from oncosecours.demo.workspace import Paths, prepare_output, write_settings

Progress = Callable[[str], None]


def stderr_progress() -> Progress:
    """Progress lines on stderr, with the elapsed time."""
    started = clock_time.perf_counter()

    def show(message: str) -> None:
        elapsed = clock_time.perf_counter() - started
        print(f"[{elapsed:5.1f} s] {message}", file=sys.stderr, flush=True)

    return show


@dataclass
class Story:
    """What happened, for the summary (French texts) and ``resume.json`` (the facts)."""

    events: list[tuple[str, str]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def tell(self, step: str, text: str) -> None:
        self.events.append((step, text))


@dataclass
class Result:
    paths: Paths
    story: Story
    seconds: float


def run_demo(
    out: str | Path = "demo-output",
    *,
    pdf: bool | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> Result:
    """Play the whole demo into ``out`` (fresh); return where everything is and what happened."""
    started = clock_time.perf_counter()
    say = progress or (lambda _message: None)
    paths = prepare_output(out)
    settings_path = write_settings(paths, ids.LES_DEMO_CODE)
    with settings_env(settings_path):
        from oncosecours.settings import load_settings

        day = CrisisDay(paths, load_settings(settings_path), today or date.today(), say)
        try:
            day.play(pdf=pdf)
        finally:
            day.close()
    seconds = clock_time.perf_counter() - started
    day.story.facts["duree_s"] = round(seconds, 2)
    from oncosecours.demo import summary

    summary.write(paths, day.story, seconds)
    return Result(paths, day.story, seconds)


class CrisisDay(ArrivalChapters, PharmacyChapters, WardChapters, PaperChapters, Verification):
    """One crisis day on a fresh store: the chapters (``demo/chapters/``, ``demo/verification.py``)
    are its parts, played in order by :meth:`play`."""

    def __init__(self, paths: Paths, settings, today: date, progress: Progress) -> None:
        from oncosecours.store.db import connect

        self.paths = paths
        self.settings = settings
        self.today = today
        self.say = progress
        self.story = Story()
        self.clock = Clock(today)
        self.conn: sqlite3.Connection = connect(paths.store)
        self.team: dict[str, Any] = {}
        self.patients: dict[str, dict[str, Any]] = {}  # key -> patient row (+ plan)
        self.cures: dict[str, int] = {}
        self.prescriptions: dict[str, int] = {}
        self.preparations: list[dict[str, Any]] = []
        self.story.facts.update(
            {
                "date": today.isoformat(),
                "dossier": str(paths.root),
                "base": str(paths.store),
                "parametres": str(paths.settings),
            }
        )

    def close(self) -> None:
        self.conn.close()

    # -- orchestration ----------------------------------------------------------------------

    def play(self, *, pdf: bool | None) -> None:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("Sauvegarde Chimio synthétique", self.make_backup),
            ("Équipe", self.make_team),
            ("Actualisation des sauvegardes", self.refresh),
            ("Patients", self.admit_patients),
            ("Inclusions", self.include),
            ("Prescriptions", self.prescribe),
            ("Validation pharmaceutique", self.validate),
            ("Feu vert", self.go_ahead),
            ("Fabrication", self.prepare),
            ("Contrôle et libération", self.control_and_release),
            ("Dispensation", self.dispense),
            ("Administration", self.administer),
            ("Notes", self.notes_summary),
            ("Documents", lambda: self.documents(pdf)),
            ("Vérifications", self.verify),
            ("Classeur", self.workbook),  # after the second copy: Accueil shows its state
        ]
        total = len(steps)
        with simulated_clock(self.clock), copy_paused(self.settings):
            for number, (title, step) in enumerate(steps, start=1):
                self.say(f"{number}/{total} {title}…")
                begun = clock_time.perf_counter()
                step()
                self.story.timings[title] = round(clock_time.perf_counter() - begun, 2)
