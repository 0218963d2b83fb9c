"""Where the qualification records of a PC are, and the latest one: light on purpose (the
Accueil line reads it after every ribbon click)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

PREFIX = "qualification-"


def pc_name() -> str:
    """The PC's network name (``COMPUTERNAME`` on Windows), without importing socket/platform:
    this runs after every ribbon click."""
    name = os.environ.get("COMPUTERNAME") or (os.uname().nodename if hasattr(os, "uname") else "")
    return name or "poste-inconnu"


def safe_pc(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "poste"


def latest_record(folder: Path, pc: str | None = None) -> dict[str, Any] | None:
    """The most recent qualification JSON of this PC in ``folder`` (None if none)."""
    if not folder.is_dir():
        return None
    name = safe_pc(pc or pc_name())
    best = None
    for path in folder.glob(f"{PREFIX}{name}-*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (
            isinstance(data, dict)
            and data.get("date")
            and (best is None or _when(data) > _when(best))
        ):
            best = {**data, "fichier": str(path)}
    return best


def _when(record: dict[str, Any]) -> tuple[str, str]:
    """A report redone from a run (``report --from``) comes after that run's own report."""
    return record["date"], record.get("refait_le") or ""
