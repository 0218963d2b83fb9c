"""A SQLite store file as an older version of OncoSecours made it: the migration tests' start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from oncosecours.store import db


def older_store(path: Path, below: int) -> sqlite3.Connection:
    """Create ``path`` with the migrations numbered below ``below`` only; a raw connection."""
    raw = sqlite3.connect(path, isolation_level=None)
    for version, script in db._migration_files():
        if version >= below:
            break
        raw.execute("BEGIN")
        for statement in db._statements(script.read_text(encoding="utf-8")):
            raw.execute(statement)
        raw.execute(f"PRAGMA user_version={version}")
        raw.execute("COMMIT")
    return raw
