"""Where the copies of one store go: the ``[copie_secours]`` settings -> :class:`Target`."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

SNAPSHOT_DIR = "instantanes"


STATE_SUFFIX = ".copie-secours.json"


LOCK_SUFFIX = ".copie-secours.lock"


SNAPSHOT_LOCK_SUFFIX = ".instantane.lock"


_settings_override: Any = None


class ReplicaError(Exception):
    """Why the copy failed: ``kind`` in introuvable, plein, acces, verrou, divers."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Target:
    """Where the copies of one store go."""

    store: Path
    folder: Path
    replica: Path
    snapshots: Path
    keep: int

    @property
    def state_file(self) -> Path:
        return self.store.with_name(self.store.name + STATE_SUFFIX)

    @property
    def lock_file(self) -> Path:
        return self.store.with_name(self.store.name + LOCK_SUFFIX)

    @property
    def snapshot_lock_file(self) -> Path:
        return self.store.with_name(self.store.name + SNAPSHOT_LOCK_SUFFIX)

    def snapshot_path(self, day: date) -> Path:
        return self.snapshots / f"{self.store.stem}-{day.isoformat()}{self.store.suffix}"

    def snapshot_files(self) -> list[tuple[date, Path]]:
        """Existing snapshots of this store, oldest first."""
        pattern = re.compile(
            re.escape(self.store.stem)
            + r"-(\d{4}-\d{2}-\d{2})"
            + re.escape(self.store.suffix)
            + "$"
        )
        found = []
        if self.snapshots.is_dir():
            for path in self.snapshots.iterdir():
                match = pattern.match(path.name)
                if match:
                    try:
                        found.append((date.fromisoformat(match.group(1)), path))
                    except ValueError:
                        continue
        return sorted(found)


def use_settings(settings: Any) -> Any:
    """Make the after-commit hook use these settings (default: ``load_settings()`` each time);
    returns the settings used until now (None: the default), to put them back."""
    global _settings_override
    previous = _settings_override
    _settings_override = settings
    return previous


def _section(settings: Any) -> Mapping[str, Any]:
    if settings is None:
        settings = _settings_override
    if settings is None:
        from oncosecours.settings import load_settings

        settings = load_settings()
    return settings["copie_secours"]


def folder_of(settings: Any, store: Path) -> Path | None:
    """The configured second location (``~`` and ``%VAR%``/``$VAR`` expanded; a relative path is
    taken from the store's folder), or None when none is configured."""
    raw = str(_section(settings)["dossier"]).strip()
    if not raw:
        return None
    folder = Path(os.path.expanduser(os.path.expandvars(raw)))
    if not folder.is_absolute():
        folder = store.resolve().parent / folder
    return folder


def target_for(settings: Any, store: str | os.PathLike) -> Target | None:
    store = Path(store).resolve()
    folder = folder_of(settings, store)
    if folder is None:
        return None
    keep = int(_section(settings)["instantanes_conserves"])
    return Target(store, folder, folder / store.name, folder / SNAPSHOT_DIR, keep)


def main_path(conn: sqlite3.Connection) -> Path | None:
    """The file behind a connection's main database (None for an in-memory one)."""
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return Path(row[2]) if row[2] else None
    return None


def settings_source() -> Any:
    """The settings file set by :func:`use_settings` (given to a detached snapshot process)."""
    return getattr(_settings_override, "source", None)
