"""The live second copy of the store on another medium (CSP R5132-9: two separate media).

After every committed write (:data:`oncosecours.store.db.AFTER_COMMIT`), *before* the service
returns, the store is copied to ``[copie_secours] dossier``; an action acknowledged to the user is
therefore on both media (when the second one works). Two ways, both consistent:

* **complete** (the first copy, after a refresh or a migration, or whenever the incremental way
  cannot be trusted): SQLite's online backup API reads one consistent image of the live WAL store
  into a temporary file on the second medium, flushed, then renamed over the previous copy — a
  crash leaves the previous copy or the new one, never half a file. Cost: the store's size.
* **incremental** (every other click): triggers created on every crisis table (not the ``ref_*``
  snapshot tables) log ``(table, rowid)`` of each written row in ``replica_log``, inside the
  action's own transaction. The copy knows up to which log id it holds the store (its
  ``sqlite_sequence``); the click copies the rows logged since, reading them in one read
  transaction of the store and writing them in one SQLite transaction on the copy (its own rollback
  journal makes that atomic). The copy is then exactly the store at that instant. Cost: the rows
  the click changed, whatever the size of the store (``oncosecours bench replica`` measures both).

Copies are serialized by a lock file beside the main store: each copy reads the store after the
previous copy finished, so an older state can never replace a newer one. A copy whose audit chain
is not a prefix of the store's (another store's, or a newer one after a restore) is renamed aside,
never overwritten.

Once a day (first action of the day, or ``oncosecours backup now``) a dated snapshot is written to
``instantanes/`` with its ``.sha256`` checksum beside it (by a detached process for a large store);
the newest ``instantanes_conserves`` are kept.

A failing copy (medium missing, full, read-only...) never fails the user's action, which is already
committed: the failure is written beside the main store, shown by :func:`replica_status` (CLI,
Accueil sheet) and on stderr when the process exits; the next action or ``backup now`` catches up.
"""

from __future__ import annotations

import atexit
import errno
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from oncosecours import clock

SNAPSHOT_DIR = "instantanes"
STATE_SUFFIX = ".copie-secours.json"
LOCK_SUFFIX = ".copie-secours.lock"
SNAPSHOT_LOCK_SUFFIX = ".instantane.lock"
SNAPSHOT_INLINE_MAX_BYTES = 16 * 1024 * 1024
"""Up to this store size the daily snapshot is written during the first click of the day;
beyond, by a detached process (a complete copy of a large store takes seconds on a USB key)."""
LOCK_TIMEOUT_S = 10.0
MARGIN_BYTES = 1 << 20

MODE = "auto"
"""``auto``: copy only the rows changed since the copy's position when possible; ``complete``:
always write a whole new copy (kept for measurement: ``oncosecours bench replica`` compares)."""

WARN_AT_EXIT = True
"""Print a French warning on stderr at process exit when the copy failed (CLI). Shells that show
:func:`replica_status` themselves (the ribbon) may set it to False."""

_settings_override: Any = None
last_result: dict[str, Any] | None = None
"""What the last successful copy of this process wrote (mode, rows): for the benchmark."""
_pending_warning: str | None = None
_atexit_registered = False


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


# --- settings -------------------------------------------------------------------------------


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


# --- the hook -------------------------------------------------------------------------------


def after_commit(conn: sqlite3.Connection) -> None:
    """Registered in ``store.db.AFTER_COMMIT``: copy the store if a second location is set.

    Never raises: the user's action is committed whatever happens to its copy."""
    try:
        store = main_path(conn)
        if store is None:
            return
        target = target_for(None, store)
        if target is None or _is_a_copy(target):
            return
    except Exception as exc:  # unreadable settings: say it, do not fail the action
        _note_failure(None, ReplicaError("divers", f"paramètres de copie illisibles : {exc}"))
        return
    replicate(conn, target)


def _is_a_copy(target: Target) -> bool:
    """A store opened from the second location itself is not copied onto itself."""
    try:
        return target.store == target.replica.resolve() or target.snapshots.resolve() in (
            target.store.parents
        )
    except OSError:
        return False


def replicate(
    conn: sqlite3.Connection,
    target: Target,
    *,
    today: date | None = None,
    snapshot: str = "auto",
) -> dict[str, Any]:
    """Copy now; returns ``ok``, ``message`` and what was written. Never raises.

    ``snapshot``: ``auto`` (today's snapshot if missing, in the background for a large store),
    ``maintenant`` (if missing, in this process), ``non``."""
    started = time.perf_counter()
    try:
        result = _sync(conn, target, today or clock.today(), snapshot)
    except KeyboardInterrupt:
        error = ReplicaError("divers", "copie interrompue")
        _note_failure(target, error)
        return {"ok": False, "type": error.kind, "message": error.message}
    except ReplicaError as error:
        _note_failure(target, error)
        return {"ok": False, "type": error.kind, "message": error.message}
    except Exception as exc:
        error = _classify(exc, target)
        _note_failure(target, error)
        return {"ok": False, "type": error.kind, "message": error.message}
    _note_success(target)
    _anchor(conn, target)
    result["ok"] = True
    result["duree_ms"] = (time.perf_counter() - started) * 1000
    global last_result
    last_result = result
    return result


def _anchor(conn: sqlite3.Connection, target: Target) -> None:
    """The chain heads beside the copy (store/anchors.py): a rewritten chain will not match."""
    from oncosecours.store import anchors

    try:
        anchors.record(conn, target.replica)
    except (OSError, sqlite3.Error) as exc:
        _note_failure(target, ReplicaError("divers", f"ancre du journal non écrite : {exc}"))


def _sync(conn: sqlite3.Connection, target: Target, today: date, snapshot: str) -> dict:
    folder = target.folder
    if not folder.is_dir():
        if folder.parent.is_dir() and not folder.exists():
            folder.mkdir()  # one level only: never build a path on the wrong medium
        else:
            raise ReplicaError(
                "introuvable",
                f"le dossier de la copie de secours « {folder} » est introuvable "
                "(support débranché ou lecteur absent ?)",
            )
    size = _store_bytes(conn)
    need_snapshot = snapshot != "non" and not target.snapshot_path(today).exists()
    background = need_snapshot and snapshot == "auto" and size > SNAPSHOT_INLINE_MAX_BYTES
    with _CopyLock(target.lock_file):
        _clean_temporaries(folder, target.replica.name)
        copies = (0 if target.replica.exists() else 1) + (need_snapshot and not background)
        _check_space(folder, size * copies)
        recover(target.replica)
        set_aside = _set_aside_if_diverged(conn, target)
        fresh_triggers = ensure_triggers(conn)
        delta = None
        if MODE == "auto" and not fresh_triggers and not set_aside:
            delta = _apply_delta(target.store, target.replica)
        if delta is None:
            _backup_to(conn, target.replica)
        written = {
            "copie": str(target.replica),
            "octets": size,
            "mode": "complète" if delta is None else "incrémentale",
            "lignes": None if delta is None else delta["lignes"],
            "mise_de_cote": set_aside,
        }
        _prune_log(conn, target.replica)
    if need_snapshot and not background:
        written.update(write_snapshot(conn, target, today))
    elif background and not _snapshot_running(target):
        written["instantane_en_cours"] = _spawn_snapshot(target)
    return written


def write_snapshot(conn: sqlite3.Connection, target: Target, today: date) -> dict[str, Any]:
    """Today's dated snapshot (if it is missing) with its checksum, then the rotation. One
    snapshot writer at a time (its own lock, so that copies are not held up meanwhile)."""
    lock = _CopyLock(target.snapshot_lock_file, timeout=0)
    try:
        lock.__enter__()
    except ReplicaError:
        return {"instantane_en_cours": True}  # another process is writing it
    try:
        path = target.snapshot_path(today)
        if path.exists():
            return {}
        target.snapshots.mkdir(exist_ok=True)
        _clean_temporaries(target.snapshots, None)
        _check_space(target.snapshots, _store_bytes(conn))
        _backup_to(conn, path, checksum=True)
        return {"instantane": str(path), "instantanes_supprimes": [str(p) for p in rotate(target)]}
    finally:
        lock.__exit__()


def _snapshot_running(target: Target) -> bool:
    probe = _CopyLock(target.snapshot_lock_file, timeout=0)
    try:
        probe.__enter__()
    except ReplicaError:
        return True
    probe.__exit__()
    return False


def _spawn_snapshot(target: Target) -> int | None:
    """A large store's daily snapshot is written by a detached process (``oncosecours backup
    snapshot``), so that the first click of the day does not wait for a complete copy."""
    import subprocess

    command = [sys.executable, "-m", "oncosecours", "backup", "snapshot", "--store"]
    command.append(str(target.store))
    source = getattr(_settings_override, "source", None)
    if source:
        command += ["--settings", str(source)]
    options: dict[str, Any] = {
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "close_fds": True,
    }
    if os.name == "nt":  # pragma: no cover - Windows
        options["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
    try:
        return subprocess.Popen(command, **options).pid
    except OSError:
        return None


def _backup_to(conn: sqlite3.Connection, final: Path, *, checksum: bool = False) -> None:
    """Online backup into a temporary file beside ``final``, flushed, then renamed over it."""
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        copy_pages(conn, tmp)
        _fsync_file(tmp)
        if checksum:  # a snapshot: dated on the application's clock, like its events
            stamp = clock.now().timestamp()
            os.utime(tmp, (stamp, stamp))
            digest = sha256_file(tmp)
            sidecar = checksum_path(final)
            side_tmp = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.tmp")
            side_tmp.write_text(f"{digest}  {final.name}\n", encoding="utf-8")
            _fsync_file(side_tmp)
            os.replace(side_tmp, sidecar)
        _replace(tmp, final)
        _fsync_dir(final.parent)
    finally:
        if tmp.exists():
            try:
                tmp.unlink()
            except OSError:
                pass


def copy_pages(conn: sqlite3.Connection, path: Path) -> None:
    """One backup step of every page (a consistent image), written without a journal into a new
    file that only becomes the copy once complete; the copy is left in rollback-journal mode so
    that it opens read-only without side files."""
    dst = sqlite3.connect(path, isolation_level=None)
    try:
        dst.execute("PRAGMA journal_mode=OFF")
        dst.execute("PRAGMA synchronous=OFF")
        conn.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()


# --- incremental copy: the rows changed since the copy's position ---------------------------

LOG_TABLE = "replica_log"
UNTRACKED_PREFIX = "ref_"
"""The snapshot tables (bulk, replaced only by a refresh, which also rewrites ``snapshot_meta``
and the indexes): not tracked row by row; a refresh makes the next copy a complete one."""
PRUNE_AFTER = 5000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def tracked_tables(conn: sqlite3.Connection, schema: str = "main") -> list[str] | None:
    """Tables whose rows are tracked, or None when one cannot be (a WITHOUT ROWID table: then
    every copy is a complete one)."""
    names = []
    for name, sql in conn.execute(
        f"SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name"
    ):
        if name.startswith("sqlite_") or name == LOG_TABLE or name.startswith(UNTRACKED_PREFIX):
            continue
        if re.search(r"\)\s*WITHOUT\s+ROWID", sql or "", re.IGNORECASE):
            return None
        names.append(name)
    return names


def _trigger_sql(table: str) -> dict[str, str]:
    q, lit = _quote(table), "'" + table.replace("'", "''") + "'"
    log = f"INSERT INTO {LOG_TABLE} (tbl, rid)"
    return {
        f"replica_log_i_{table}": f"AFTER INSERT ON {q} BEGIN {log} VALUES ({lit}, NEW.rowid); END",
        f"replica_log_u_{table}": (
            f"AFTER UPDATE ON {q} BEGIN {log} VALUES ({lit}, NEW.rowid); "
            f"{log} SELECT {lit}, OLD.rowid WHERE OLD.rowid IS NOT NEW.rowid; END"
        ),
        f"replica_log_d_{table}": f"AFTER DELETE ON {q} BEGIN {log} VALUES ({lit}, OLD.rowid); END",
    }


def ensure_triggers(conn: sqlite3.Connection) -> bool:
    """Create the change-log triggers that are missing; True when some were (the changes made
    before them are not in the log: the next copy must be a complete one)."""
    tables = tracked_tables(conn)
    if (
        tables is None
        or not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LOG_TABLE,)
        ).fetchone()
    ):
        return True
    existing = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'replica_log_%'"
        )
    }
    wanted = {name: sql for t in tables for name, sql in _trigger_sql(t).items()}
    missing = {name: sql for name, sql in wanted.items() if name not in existing}
    if not missing:
        return False
    conn.execute("BEGIN IMMEDIATE")  # a plain transaction: no after-commit hook for this one
    try:
        for name, body in missing.items():
            conn.execute(f"CREATE TRIGGER IF NOT EXISTS {_quote(name)} {body}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return True


def _schema(conn: sqlite3.Connection, schema: str) -> list[tuple]:
    return sorted(
        tuple(r)
        for r in conn.execute(
            f"SELECT type, name, tbl_name, sql FROM {schema}.sqlite_master "
            "WHERE name NOT LIKE 'sqlite_autoindex%'"
        )
    )


def _position(conn: sqlite3.Connection, schema: str) -> int:
    row = conn.execute(
        f"SELECT seq FROM {schema}.sqlite_sequence WHERE name = ?", (LOG_TABLE,)
    ).fetchone()
    return int(row[0]) if row else 0


def _columns(conn: sqlite3.Connection, table: str) -> tuple[list[str], bool]:
    """Stored columns of ``table`` and whether its INTEGER PRIMARY KEY is the rowid."""
    info = conn.execute(f"PRAGMA main.table_xinfo({_quote(table)})").fetchall()
    columns = [r[1] for r in info if r[6] in (0, 1)]  # 2, 3: generated columns
    keys = [r for r in info if r[5]]
    alias = len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER"
    return columns, alias


def _apply_delta(store: Path, replica: Path) -> dict[str, Any] | None:
    """Copy the rows changed since the copy's position, in one transaction on the copy that reads
    one snapshot of the store: the copy becomes exactly the store at that instant. Returns None
    when the copy cannot be brought up to date this way (no copy, other schema, a refresh, a gap
    in the log): a complete copy is needed."""
    if not replica.is_file():
        return None
    copy = sqlite3.connect(
        sqlite_uri(replica), uri=True, isolation_level=None, timeout=LOCK_TIMEOUT_S
    )
    try:
        if copy.execute("PRAGMA journal_mode").fetchone()[0] != "delete":
            return None
        copy.execute("PRAGMA synchronous=FULL")
        copy.execute("ATTACH DATABASE ? AS source", (sqlite_uri(store, "ro"),))
        copy.execute("BEGIN")
        try:
            result = _replay(copy)
        except BaseException:
            copy.execute("ROLLBACK")
            raise
        if result is None:
            copy.execute("ROLLBACK")
            return None
        copy.execute("COMMIT")
        return result
    finally:
        copy.close()


def _replay(copy: sqlite3.Connection) -> dict[str, Any] | None:
    if _schema(copy, "main") != _schema(copy, "source"):
        return None
    tables = tracked_tables(copy, "source")
    if tables is None:
        return None
    done, upto = _position(copy, "main"), _position(copy, "source")
    if upto < done:
        return None
    head = copy.execute("SELECT last_seq FROM main.audit_head").fetchone()[0]
    pending = copy.execute(
        f"SELECT count(*) FROM source.{LOG_TABLE} WHERE id > ?", (done,)
    ).fetchone()[0]
    if pending != upto - done:
        return None  # entries pruned before this copy got them
    for name in _untracked(copy):
        if copy.execute(f"SELECT max(rowid) FROM main.{_quote(name)}").fetchone() != (
            copy.execute(f"SELECT max(rowid) FROM source.{_quote(name)}").fetchone()
        ):
            return None
    changed = [
        r[0]
        for r in copy.execute(
            f"SELECT DISTINCT tbl FROM source.{LOG_TABLE} WHERE id > ? ORDER BY tbl", (done,)
        )
    ]
    if "snapshot_meta" in changed or any(t not in tables for t in changed):
        return None
    triggers = copy.execute(
        "SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name IN "
        f"({', '.join('?' * len(changed))})",
        changed,
    ).fetchall()
    for name, _sql in triggers:  # the copy's own rules would refuse a replay (e.g. a row
        copy.execute(f"DROP TRIGGER main.{_quote(name)}")  # inserted at its final state)
    rows = 0
    for table in changed:
        columns, alias = _columns(copy, table)
        names = ([] if alias else ["rowid"]) + [_quote(c) for c in columns]
        ids = f"SELECT rid FROM source.{LOG_TABLE} WHERE tbl = ? AND id > ?"
        q = _quote(table)
        cursor = copy.execute(
            f"INSERT OR REPLACE INTO main.{q} ({', '.join(names)}) "
            f"SELECT {', '.join(names)} FROM source.{q} WHERE rowid IN ({ids})",
            (table, done),
        )
        rows += max(cursor.rowcount, 0)
        cursor = copy.execute(
            f"DELETE FROM main.{q} WHERE rowid IN ({ids}) "
            f"AND rowid NOT IN (SELECT rowid FROM source.{q} WHERE rowid IN ({ids}))",
            (table, done, table, done),
        )
        rows += max(cursor.rowcount, 0)
    for _name, sql in triggers:
        copy.execute(sql)
    copy.execute(f"DELETE FROM main.{LOG_TABLE}")
    copy.execute("DELETE FROM main.sqlite_sequence")
    copy.execute("INSERT INTO main.sqlite_sequence SELECT * FROM source.sqlite_sequence")
    new_head = copy.execute("SELECT last_seq, last_hash FROM source.audit_head").fetchone()
    if copy.execute("SELECT last_seq, last_hash FROM main.audit_head").fetchone() != new_head:
        return None
    events = copy.execute(
        "SELECT count(*) FROM main.audit_event WHERE seq > ?", (head,)
    ).fetchone()[0]
    if events != new_head[0] - head:
        return None
    return {"lignes": rows, "tables": changed, "journal": upto - done}


def _untracked(copy: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in copy.execute("SELECT name FROM source.sqlite_master WHERE type = 'table'")
        if r[0].startswith(UNTRACKED_PREFIX)
    ]


def _prune_log(conn: sqlite3.Connection, replica: Path) -> None:
    """Forget the store's log entries the copy already holds, now and then (a plain
    transaction: no after-commit hook)."""
    low = conn.execute(f"SELECT min(id) FROM {LOG_TABLE}").fetchone()[0]
    if low is None:
        return
    head = read_position(replica)
    if head is None or head - low < PRUNE_AFTER:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"DELETE FROM {LOG_TABLE} WHERE id <= ?", (head,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def read_position(path: Path) -> int | None:
    try:
        ro = open_readonly(path)
    except sqlite3.Error:
        return None
    try:
        return _position(ro, "main")
    except sqlite3.Error:
        return None
    finally:
        ro.close()


def journal_path(path: Path) -> Path:
    return Path(str(path) + "-journal")


def recover(path: Path) -> None:
    """If a copy was left with a hot journal (copy killed half-way), let SQLite roll it back."""
    if journal_path(path).exists() and path.exists():
        conn = sqlite3.connect(path, isolation_level=None, timeout=LOCK_TIMEOUT_S)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()


def _replace(tmp: Path, final: Path) -> None:
    """``os.replace``, retried briefly: on Windows a reader holding the copy open blocks it."""
    for attempt in range(20):
        try:
            os.replace(tmp, final)
            return
        except PermissionError:
            if attempt == 19:
                raise
            time.sleep(0.05)


def _store_bytes(conn: sqlite3.Connection) -> int:
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    return int(pages) * int(conn.execute("PRAGMA page_size").fetchone()[0])


def _check_space(folder: Path, need: int) -> None:
    free = free_bytes(folder)
    if free is not None and free < need + MARGIN_BYTES:
        raise ReplicaError(
            "plein",
            f"le support de la copie de secours « {folder} » est plein "
            f"({_mb(free)} libres, {_mb(need + MARGIN_BYTES)} nécessaires)",
        )


def free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _mb(value: int) -> str:
    return f"{value / 1e6:.1f} Mo".replace(".", ",")


def _set_aside_if_diverged(conn: sqlite3.Connection, target: Target) -> str | None:
    """Never overwrite a copy that holds actions the main store lacks (e.g. after restoring an
    older snapshot): rename it aside first. A copy that does not open is set aside too."""
    if not target.replica.exists():
        return None
    head = read_head(target.replica)
    if head is not None:
        seq, digest = head
        if seq == 0:
            return None
        row = conn.execute("SELECT hash FROM audit_event WHERE seq = ?", (seq,)).fetchone()
        if row is not None and row[0] == digest:
            return None
        label = "ecartee"
    else:
        label = "illisible"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = target.replica.with_name(
        f"{target.replica.stem}.{label}-{stamp}{target.replica.suffix}"
    )
    os.replace(target.replica, aside)
    return str(aside)


def read_head(path: Path) -> tuple[int, str] | None:
    """(last seq, last hash) of a copy's audit chain, or None if it does not open."""
    try:
        recover(path)
        ro = open_readonly(path)
    except sqlite3.Error:
        return None
    try:
        row = ro.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
        return (int(row[0]), str(row[1])) if row else None
    except sqlite3.Error:
        return None
    finally:
        ro.close()


def sqlite_uri(path: str | os.PathLike, mode: str | None = None) -> str:
    """An SQLite ``file:`` URI for a path, network shares included (``//serveur/partage/...``
    becomes ``file:////serveur/partage/...``: SQLite refuses a URI authority)."""
    from urllib.parse import quote

    text = Path(path).resolve().as_posix()
    uri = "file://" + ("" if text.startswith("/") else "/") + quote(text, safe="/:")
    return uri + (f"?mode={mode}" if mode else "")


def open_readonly(path: str | os.PathLike) -> sqlite3.Connection:
    """Open a store file read-only (never creates, never migrates, never writes)."""
    uri = sqlite_uri(path, "ro")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def rotate(target: Target) -> list[Path]:
    """Delete the oldest snapshots beyond ``instantanes_conserves`` (and their checksums)."""
    snapshots = target.snapshot_files()
    removed = []
    for _day, path in snapshots[: max(0, len(snapshots) - target.keep)]:
        for victim in (path, checksum_path(path)):
            try:
                victim.unlink()
            except FileNotFoundError:
                pass
        removed.append(path)
    return removed


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _clean_temporaries(folder: Path, name: str | None) -> None:
    """Temporary files of copies killed half-way (we hold the lock: nobody else is writing)."""
    prefix = f".{name}." if name else "."
    for path in folder.glob(f"{prefix}*.tmp"):
        try:
            path.unlink()
        except OSError:
            pass


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # NTFS/FAT metadata: the rename is flushed with the volume
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _CopyLock:
    """An OS file lock beside the main store; released by the OS if the process dies."""

    def __init__(self, path: Path, timeout: float = LOCK_TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout
        self.handle = None

    def __enter__(self) -> _CopyLock:
        self.handle = open(self.path, "a+b")  # noqa: SIM115 - closed in __exit__
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                _lock(self.handle)
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.handle.close()
                    raise ReplicaError(
                        "verrou",
                        f"une autre copie de secours est en cours depuis plus de "
                        f"{self.timeout:.0f} s",
                    ) from None
                time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        try:
            _unlock(self.handle)
        finally:
            self.handle.close()


if os.name == "nt":  # pragma: no cover - exercised on Windows
    import msvcrt

    def _lock(handle) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- failures: remembered beside the main store, said at exit --------------------------------


def _classify(exc: BaseException, target: Target) -> ReplicaError:
    folder = target.folder
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return ReplicaError("plein", f"le support de la copie de secours « {folder} » est plein")
    if isinstance(exc, sqlite3.Error) and "full" in text.lower():
        return ReplicaError("plein", f"le support de la copie de secours « {folder} » est plein")
    if isinstance(exc, PermissionError) or (
        isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    ):
        return ReplicaError(
            "acces", f"écriture refusée dans le dossier de la copie de secours « {folder} »"
        )
    if isinstance(exc, sqlite3.Error) and (
        "readonly" in text.lower() or "unable to open" in text.lower()
    ):
        return ReplicaError(
            "acces", f"écriture impossible dans le dossier de la copie de secours « {folder} »"
        )
    if isinstance(exc, FileNotFoundError) or (
        isinstance(exc, OSError) and exc.errno in (errno.ENOENT, errno.ENODEV, errno.EIO)
    ):
        return ReplicaError(
            "introuvable",
            f"le dossier de la copie de secours « {folder} » a disparu pendant la copie "
            "(support débranché ?)",
        )
    return ReplicaError("divers", f"copie de secours impossible : {exc}")


def _note_failure(target: Target | None, error: ReplicaError) -> None:
    global _pending_warning
    now = clock.now_iso()
    state: dict[str, Any] = {}
    if target is not None:
        state = read_state(target) or {}
        state = {
            "depuis": state.get("depuis", now),
            "derniere_tentative": now,
            "type": error.kind,
            "message": error.message,
            "echecs": int(state.get("echecs", 0)) + 1,
            "dossier": str(target.folder),
        }
        try:
            tmp = target.state_file.with_name(f".{target.state_file.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, target.state_file)
        except OSError:
            pass
    _pending_warning = warning_text(error.message, state.get("echecs", 1))
    _register_exit_warning()


def _note_success(target: Target) -> None:
    global _pending_warning
    _pending_warning = None
    try:
        target.state_file.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass


def read_state(target: Target) -> dict[str, Any] | None:
    try:
        return json.loads(target.state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def warning_text(message: str, failures: int = 1) -> str:
    times = f" ({failures} échecs de suite)" if failures > 1 else ""
    return (
        f"ATTENTION : copie de secours non faite{times} — {message}. L'action est bien "
        "enregistrée dans la base principale ; la copie reprendra à la prochaine action "
        "ou avec « oncosecours backup now »."
    )


def pending_warning() -> str | None:
    """The warning of this process's last failed copy, None once a later copy succeeded."""
    return _pending_warning


def take_pending_warning() -> str | None:
    """:func:`pending_warning`, then forgotten: for a shell that shows it to the user itself (the
    ribbon's confirmation), so that it is not printed again at exit."""
    global _pending_warning
    warning, _pending_warning = _pending_warning, None
    return warning


def _register_exit_warning() -> None:
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_warn_at_exit)
        _atexit_registered = True


def _warn_at_exit() -> None:
    if WARN_AT_EXIT and _pending_warning:
        try:
            print(_pending_warning, file=sys.stderr)
        except (OSError, ValueError):
            pass


# --- status: one dict for the CLI and the Accueil sheet --------------------------------------


def replica_status(
    settings: Any = None,
    store: str | os.PathLike | None = None,
    *,
    today: date | None = None,
) -> dict[str, Any]:
    """State of the second copy of ``store`` (default: the usual store).

    Keys: ``configure``, ``niveau`` (ok / attention / alerte), ``message`` (one French line to
    show on every screen), ``details`` (French lines), ``dossier``, ``copie``, ``base_seq``,
    ``copie_seq``, ``retard`` (audit events of the store missing from the copy), ``derniere_copie``,
    ``echec`` (the remembered failure or None), ``instantanes`` (count), ``dernier_instantane``,
    ``libre_octets``. Reads only; never raises for a missing medium."""
    from oncosecours.store.db import resolve

    today = today or clock.today()
    store_path = resolve(store).resolve()
    target = target_for(settings, store_path)
    status: dict[str, Any] = {
        "configure": target is not None,
        "niveau": "ok",
        "message": "",
        "details": [],
        "dossier": str(target.folder) if target else None,
        "copie": str(target.replica) if target else None,
        "base_seq": None,
        "copie_seq": None,
        "retard": None,
        "derniere_copie": None,
        "echec": None,
        "instantanes": 0,
        "dernier_instantane": None,
        "libre_octets": None,
    }
    if target is not None and _is_a_copy(target):
        status["niveau"] = "alerte"
        status["message"] = (
            "VOUS TRAVAILLEZ SUR LA COPIE DE SECOURS ELLE-MÊME : plus de second support. "
            f"Restaurer la base sur le poste (oncosecours backup restore --from {store_path} "
            "--store BASE_DU_POSTE) pour retrouver deux supports"
        )
        return status
    if target is None:
        status["niveau"] = "attention"
        status["message"] = (
            "AUCUNE COPIE DE SECOURS : renseigner [copie_secours] dossier dans les paramètres "
            "(un second support est obligatoire pour l'ordonnancier)"
        )
        return status
    main_head = read_head(store_path) if store_path.exists() else None
    status["base_seq"] = main_head[0] if main_head else None
    alerts: list[str] = []
    notices: list[str] = []
    failure = read_state(target)
    status["echec"] = failure
    if failure:
        since = failure.get("depuis", "")[11:16]
        alerts.append(f"{failure.get('message')} (en échec depuis {since})")
    if not target.folder.is_dir():
        if not failure:
            alerts.append(f"dossier de la copie de secours « {target.folder} » introuvable")
    else:
        free = free_bytes(target.folder)
        status["libre_octets"] = free
        size = store_path.stat().st_size if store_path.exists() else 0
        if free is not None and free < 3 * size + MARGIN_BYTES:
            notices.append(f"support presque plein ({_mb(free)} libres)")
        if _same_device(target.folder, store_path):
            notices.append(
                "la copie est sur le même disque que la base : elle ne protège pas "
                "d'une panne de ce disque"
            )
    copy_head = read_head(target.replica) if target.replica.exists() else None
    if target.replica.exists():
        status["derniere_copie"] = datetime.fromtimestamp(target.replica.stat().st_mtime).isoformat(
            timespec="seconds"
        )
        if copy_head is None:
            alerts.append(f"la copie « {target.replica} » ne s'ouvre pas")
    elif target.folder.is_dir() and main_head and main_head[0] > 0:
        alerts.append("aucune copie encore écrite (prochaine action ou « oncosecours backup now »)")
    if copy_head is not None:
        status["copie_seq"] = copy_head[0]
        if main_head is not None:
            lag = main_head[0] - copy_head[0]
            status["retard"] = max(lag, 0)
            if lag > 0:
                alerts.append(f"copie en retard de {lag} événement(s) d'audit")
            elif lag < 0:
                alerts.append(
                    f"la copie contient {-lag} événement(s) d'audit absent(s) de la base : "
                    "vérifier avec « oncosecours backup verify »"
                )
    snaps = target.snapshot_files()
    status["instantanes"] = len(snaps)
    if snaps:
        status["dernier_instantane"] = snaps[-1][0].isoformat()
    worked = _last_event_day(store_path) if main_head and main_head[0] else None
    if worked is not None and (not snaps or snaps[-1][0] < worked) and target.folder.is_dir():
        notices.append(
            f"pas d'instantané du {worked:%d/%m/%Y} (« oncosecours backup now » pour l'écrire)"
        )
    if alerts:
        status["niveau"] = "alerte"
        status["message"] = "COPIE DE SECOURS EN ÉCHEC : " + " ; ".join(alerts)
    else:
        when = status["derniere_copie"]
        stamp = f"{when[8:10]}/{when[5:7]} {when[11:16]}" if when else "—"
        last = f", dernier le {snaps[-1][0]:%d/%m/%Y}" if snaps else ", aucun encore"  # noqa: E501
        status["message"] = (
            f"Copie de secours à jour ({target.replica}, {stamp}) ; "
            f"{len(snaps)} instantané{'s' if len(snaps) > 1 else ''}{last}"
        )
        if notices:
            status["niveau"] = "attention"
            status["message"] += " — " + " ; ".join(notices)
    status["details"] = alerts + notices
    return status


def _last_event_day(store: Path) -> date | None:
    """Local day of the store's last audit event."""
    try:
        ro = open_readonly(store)
    except sqlite3.Error:
        return None
    try:
        row = ro.execute("SELECT at FROM audit_event ORDER BY seq DESC LIMIT 1").fetchone()
        return datetime.fromisoformat(row[0]).astimezone().date() if row else None
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        ro.close()


def _same_device(folder: Path, store: Path) -> bool:
    try:
        return store.exists() and os.stat(folder).st_dev == os.stat(store).st_dev
    except OSError:
        return False
