"""The copy itself: the commit hook, :func:`replicate` (complete or incremental) and the daily
snapshot (inline, or by a detached process for a large store)."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from datetime import date, datetime
from typing import Any

from oncosecours import clock
from oncosecours.store.engines import on_server
from oncosecours.store.replica.failures import _classify, _note_failure, _note_success
from oncosecours.store.replica.files import (
    _backup_to,
    _check_space,
    _clean_temporaries,
    _CopyLock,
    _store_bytes,
    read_head,
    recover,
    rotate,
    update_from_server,
)
from oncosecours.store.replica.incremental import _apply_delta, _prune_log, ensure_triggers
from oncosecours.store.replica.target import (
    ReplicaError,
    Target,
    main_path,
    settings_source,
    target_for,
)

SNAPSHOT_INLINE_MAX_BYTES = 16 * 1024 * 1024
"""Up to this store size the daily snapshot is written during the first click of the day;
beyond, by a detached process (a complete copy of a large store takes seconds on a USB key)."""


MODE = "auto"
"""``auto``: copy only the rows changed since the copy's position when possible; ``complete``:
always write a whole new copy (kept for measurement: ``oncosecours bench replica`` compares)."""


last_result: dict[str, Any] | None = None
"""What the last successful copy of this process wrote (mode, rows): for the benchmark."""


def after_commit(conn: sqlite3.Connection) -> None:
    """Registered in ``store.db.AFTER_COMMIT`` by :mod:`oncosecours.services`: copy the store if
    a second location is set.

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


def _anchor(conn: sqlite3.Connection, target) -> None:
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
        if delta is None and on_server(conn) and MODE == "auto" and target.replica.exists():
            delta = {"lignes": sum(update_from_server(conn, target.replica).values())}
        elif delta is None:
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
    source = settings_source()
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
