"""Opening the store, forward migrations, and the one-transaction unit of work.

Every write goes through :func:`transaction`: ``BEGIN IMMEDIATE`` so that concurrent processes
queue instead of failing half-way, and a rollback on any exception so a refusal writes nothing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from oncosecours.domain.errors import OncoError
from oncosecours.resources import shipped
from oncosecours.store import ledger

ENV_VAR = "ONCOSECOURS_STORE"
MIGRATIONS = Path(__file__).with_name("migrations")
LEDGER_VERSION = 7
"""The migration that brings the row ledger (a store holding rows gets their state then)."""
HISTORY_PACKED_VERSION = 11
"""The migration that stores the history one row per patient (its rows converted then)."""

AFTER_COMMIT: list[Callable[[sqlite3.Connection], None]] = []
"""Hooks run, in order, after each committed write of :func:`transaction`. The store registers
none itself: the live second copy is registered by :mod:`oncosecours.services`, the layer every
user action goes through."""


def default_store_path() -> Path:
    """``$ONCOSECOURS_STORE``, else ``oncosecours.sqlite`` beside the workbook."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else shipped("workbook", "oncosecours.sqlite")


def resolve(path: str | os.PathLike | None) -> Path:
    return Path(path) if path else default_store_path()


def _migration_files() -> list[tuple[int, Path]]:
    files = []
    for path in sorted(MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        files.append((int(path.name[:4]), path))
    return files


def schema_version() -> int:
    """The version this code expects (the highest migration shipped)."""
    files = _migration_files()
    return files[-1][0] if files else 0


def store_exists(path: str | os.PathLike) -> bool:
    """Whether there is a register to open at ``path``: the file, or, in PostgreSQL mode, the
    unit's server (``path`` then only names the companions' folder)."""
    from oncosecours.store.engines import POSTGRESQL, engine_of, settings_in_use

    return engine_of(settings_in_use()) == POSTGRESQL or Path(path).exists()


def connect(path: str | os.PathLike | None = None, *, create: bool = True) -> sqlite3.Connection:
    """Open (and migrate) the store. Autocommit mode: transactions are explicit.

    With ``[base] moteur = "postgresql"`` the register is the unit's server (``path`` still
    names the folder of the store's companions: second copy, reports); else the SQLite file."""
    target = resolve(path)
    from oncosecours.store.engines import POSTGRESQL, engine_of, postgres_target, settings_in_use

    settings = settings_in_use()
    if engine_of(settings) == POSTGRESQL:
        from oncosecours.store import pg

        conn = pg.connect(postgres_target(settings))
        conn.path = target
        return conn
    return connect_file(target, create=create)


def connect_file(path: str | os.PathLike, *, create: bool = True) -> sqlite3.Connection:
    """Open (and migrate) the SQLite store file ``path``, whatever the settings' engine (the
    one-PC register, or a file written from the server: ``migrate --to sqlite``)."""
    from oncosecours.store.location import refuse_network_store

    target = Path(path)
    refuse_network_store(target)
    if not create and not target.exists():
        raise OncoError(
            f"Base introuvable : {target} (vérifier --store / {ENV_VAR} ; "
            "pour créer une base : oncosecours user init)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(target, isolation_level=None, timeout=30.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise OncoError(
            f"La base n'est pas une base OncoSecours lisible : {exc}", file=str(target)
        ) from None
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Apply every migration newer than ``PRAGMA user_version``, each in its own transaction."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    newest = schema_version()
    if current > newest:
        raise OncoError(
            f"Base créée par une version plus récente d'OncoSecours (schéma {current}, "
            f"ce programme connaît {newest})"
        )
    for version, path in _migration_files():
        if version <= current:
            continue
        script = path.read_text(encoding="utf-8")
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] >= version:
                conn.execute("ROLLBACK")  # another process migrated meanwhile
                continue
            for statement in _statements(script):
                conn.execute(statement)
            _after_migration(conn, version)
            conn.execute(f"PRAGMA user_version={version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _after_migration(conn: sqlite3.Connection, version: int) -> None:
    """What a migration needs computed in Python, in its own transaction."""
    if version == LEDGER_VERSION:
        ledger.baseline(conn)
    if version == HISTORY_PACKED_VERSION:
        from oncosecours.store import history_write

        history_write.convert_rows_table(conn, "ref_history_v10")


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (``executescript`` would commit on its own)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if statement and not all(
                part.strip().startswith("--") or not part.strip() for part in statement.splitlines()
            ):
                yield statement
            buffer = ""
    if buffer.strip() and not buffer.strip().startswith("--"):
        yield buffer


@contextmanager
def plain_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, rolled back on any exception, with no after-commit hook (for the
    operator tools that make the second copy themselves, once, with their own settings). The
    rows it writes are sealed in the row ledger (:mod:`oncosecours.store.ledger`) before the
    commit."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        refuse_if_closed(conn)
        ledger.begin(conn)
        yield conn
        ledger.seal(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction; rolled back on any exception, hooks run after commit."""
    with plain_transaction(conn):
        yield conn
    for hook in AFTER_COMMIT:
        hook(conn)


def refuse_if_closed(conn: sqlite3.Connection) -> None:
    """After « sortie close » the register is frozen: every write is refused here, in one place."""
    try:
        row = conn.execute(
            "SELECT closed_at, closed_by_initials, closed_by_name FROM crisis_closure WHERE id = 1"
        ).fetchone()
    except sqlite3.OperationalError:  # a store still below migration 0008 cannot be closed
        return
    if row is not None:
        raise OncoError(
            f"Registre clos le {row[0][:16].replace('T', ' à ')} par {row[2]} ({row[1]}) : "
            "la crise est terminée, plus aucune écriture n'est acceptée (lecture, exports, "
            "archive et vérifications restent possibles)",
            rule="REGISTRE_CLOS",
        )


def checkpoint(conn: sqlite3.Connection) -> None:
    """Fold the WAL into the main file (so that a file copy or a size measure sees everything)."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def memory_copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    """An in-memory copy of the store, opened like the store, for a preview whose writes must
    never reach the register."""
    scratch = sqlite3.connect(":memory:", isolation_level=None)
    conn.backup(scratch)
    scratch.row_factory = sqlite3.Row
    scratch.execute("PRAGMA foreign_keys=ON")
    return scratch


def open_read_only(path: str | os.PathLike) -> sqlite3.Connection:
    """A store file opened read-only, as it is (no migration, no write): for checking copies
    and archives without changing a byte of them."""
    return sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True)
