"""The live second copy of the store on another medium (CSP R5132-9: two separate media).

After every committed write (:data:`oncosecours.store.db.AFTER_COMMIT`) the whole store is copied
to ``[copie_secours] dossier`` with SQLite's online backup API: one backup step reads a consistent
image of the live WAL database into a fresh temporary file on the second medium, which is flushed
to disk and then renamed over the previous copy. A crash at any moment leaves either the previous
copy or the new one, never a half-written file. The copy runs *before* the service returns, so an
action acknowledged to the user is on both media (when the second one works); its cost is measured
by ``oncosecours bench-replica``.

Copies are serialized by a lock file beside the main store: every copy takes its image after the
previous copy was renamed, so a slower, older image can never replace a newer one.

Once a day (first action of the day, or ``oncosecours backup now``) a dated snapshot is written to
``instantanes/`` with its ``.sha256`` checksum beside it; the newest ``instantanes_conserves`` are kept.

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

SNAPSHOT_DIR = "instantanes"
STATE_SUFFIX = ".copie-secours.json"
LOCK_SUFFIX = ".copie-secours.lock"
LOCK_TIMEOUT_S = 10.0
MARGIN_BYTES = 1 << 20

MODE = "auto"
"""``auto``: rewrite only the changed pages of an existing copy; ``complete``: always write a
whole new copy (kept for measurement: ``oncosecours bench-replica`` compares both)."""

WARN_AT_EXIT = True
"""Print a French warning on stderr at process exit when the copy failed (CLI). Shells that show
:func:`replica_status` themselves (the ribbon) may set it to False."""

_settings_override: Any = None
last_result: dict[str, Any] | None = None
"""What the last successful copy of this process wrote (mode, pages): for the benchmark."""
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


def use_settings(settings: Any) -> None:
    """Make the after-commit hook use these settings (default: ``load_settings()`` each time)."""
    global _settings_override
    _settings_override = settings


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
    snapshot: bool = True,
) -> dict[str, Any]:
    """Copy now; returns ``ok``, ``message`` and what was written. Never raises."""
    started = time.perf_counter()
    try:
        result = _sync(conn, target, today or date.today(), snapshot)
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
    result["ok"] = True
    result["duree_ms"] = (time.perf_counter() - started) * 1000
    global last_result
    last_result = result
    return result


def _sync(conn: sqlite3.Connection, target: Target, today: date, snapshot: bool) -> dict:
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
    with _CopyLock(target.lock_file):
        _clean_temporaries(folder, target.replica.name)
        size = _store_bytes(conn)
        need_snapshot = snapshot and not target.snapshot_path(today).exists()
        copies = (0 if target.replica.exists() else 1) + (1 if need_snapshot else 0)
        _check_space(folder, size * copies)
        recover(target.replica)
        set_aside = _set_aside_if_diverged(conn, target)
        changed = _update_in_place(conn, target.replica) if MODE == "auto" else None
        if changed is None:
            _backup_to(conn, target.replica)
        written = {
            "copie": str(target.replica),
            "octets": size,
            "mode": "complète" if changed is None else "incrémentale",
            "pages_ecrites": changed,
            "mise_de_cote": set_aside,
        }
        if need_snapshot:
            target.snapshots.mkdir(exist_ok=True)
            _clean_temporaries(target.snapshots, None)
            path = target.snapshot_path(today)
            _backup_to(conn, path, checksum=True)
            written["instantane"] = str(path)
            written["instantanes_supprimes"] = [str(p) for p in rotate(target)]
    return written


def _backup_to(conn: sqlite3.Connection, final: Path, *, checksum: bool = False) -> None:
    """Online backup into a temporary file beside ``final``, flushed, then renamed over it."""
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        copy_pages(conn, tmp)
        _fsync_file(tmp)
        if checksum:
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


# --- incremental copy: only the pages that changed, under a real SQLite rollback journal ----

JOURNAL_MAGIC = bytes.fromhex("d9d505f920a163d7")
JOURNAL_SECTOR = 512
_COMPARE_CHUNK = 1 << 20


def image_of(conn: sqlite3.Connection) -> bytes:
    """A consistent image of the live store: one backup step into memory, then its bytes."""
    memory = sqlite3.connect(f"file:oncosecours-image-{id(conn)}?vfs=memdb", uri=True)
    try:
        conn.backup(memory)
        return memory.serialize()  # a plain copy of the memdb buffer
    finally:
        memory.close()


def _update_in_place(conn: sqlite3.Connection, replica: Path) -> int | None:
    """Bring an existing copy up to date by rewriting only the pages that differ from a fresh
    image of the store; returns how many pages were written, or None when a complete copy is
    needed instead (no copy yet, another page size, a copy not in rollback-journal mode).

    Crash safety is SQLite's own: the original content of every page about to change is first
    written to ``<copie>-journal`` in SQLite's rollback-journal format and flushed, then the new
    pages are written and flushed, then the journal is deleted. Killed in between, the copy has a
    hot journal and the next opening by SQLite (any program) rolls it back to the previous copy.
    The copy is held under an SQLite EXCLUSIVE lock meanwhile, so no reader sees it half-written.
    """
    if not replica.is_file():
        return None
    image = image_of(conn)
    page_size = _page_size(image)
    if page_size is None or len(image) % page_size:
        return None
    guard = sqlite3.connect(replica, isolation_level=None, timeout=LOCK_TIMEOUT_S)
    try:
        guard.execute("BEGIN EXCLUSIVE")  # also rolls back a hot journal left by a crash
        try:
            with open(replica, "r+b") as handle:
                old_size = os.fstat(handle.fileno()).st_size
                header = handle.read(100)
                if (
                    len(header) < 100
                    or _page_size(header) != page_size
                    or old_size % page_size
                    or header[18:20] != b"\x01\x01"
                ):
                    return None
                first = _rollback_header_page(image, header, page_size)
                old_pages, new_pages = _diff(handle, image, first, old_size, page_size)
                if new_pages:
                    _write_journal(replica, old_pages, old_size // page_size, page_size)
                    for pgno, data in new_pages:
                        handle.seek((pgno - 1) * page_size)
                        handle.write(data)
                    if len(image) < old_size:
                        handle.truncate(len(image))
                    handle.flush()
                    os.fsync(handle.fileno())
                    journal_path(replica).unlink()  # the commit point, as in SQLite
                return len(new_pages)
        finally:
            guard.execute("ROLLBACK")  # nothing was written through SQLite: just unlock
    finally:
        guard.close()


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


def _page_size(header: bytes) -> int | None:
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        return None
    value = int.from_bytes(header[16:18], "big")
    return 65536 if value == 1 else value


def _rollback_header_page(image: bytes, old_header: bytes, page_size: int) -> bytes:
    """Page 1 of the image with the header a rollback-journal file of it has: format versions 1
    (not WAL), change counter one past the old copy's (so that readers notice the change), and
    the in-header page count valid for that counter."""
    counter = (int.from_bytes(old_header[24:28], "big") + 1) & 0xFFFFFFFF
    first = bytearray(image[:page_size])
    first[18:20] = b"\x01\x01"
    first[24:28] = counter.to_bytes(4, "big")
    first[28:32] = (len(image) // page_size).to_bytes(4, "big")
    first[92:96] = counter.to_bytes(4, "big")
    return bytes(first)


def _diff(handle, image: bytes, first: bytes, old_size: int, page_size: int):
    """(original pages to journal, new pages to write), page 1 being ``first``: pages that
    differ, pages beyond the old end (new only), and pages cut off when the store shrank
    (journaled, so that a rollback restores them)."""
    old_pages: list[tuple[int, bytes]] = []
    new_pages: list[tuple[int, bytes]] = []
    handle.seek(0)
    old_first = handle.read(page_size)
    if old_first != first:
        old_pages.append((1, old_first))
        new_pages.append((1, first))
    offset = page_size
    while offset < old_size:
        old_chunk = handle.read(min(_COMPARE_CHUNK, old_size - offset))
        if not old_chunk:
            break
        new_chunk = image[offset : offset + len(old_chunk)]
        if old_chunk != new_chunk:
            for start in range(0, len(old_chunk), page_size):
                before = old_chunk[start : start + page_size]
                after = new_chunk[start : start + page_size]
                if before != after:
                    pgno = (offset + start) // page_size + 1
                    old_pages.append((pgno, before))
                    if len(after) == page_size:
                        new_pages.append((pgno, after))
        offset += len(old_chunk)
    for start in range(max(old_size, page_size), len(image), page_size):
        new_pages.append((start // page_size + 1, image[start : start + page_size]))
    return old_pages, new_pages


def _write_journal(
    replica: Path, old_pages: list[tuple[int, bytes]], original_pages: int, page_size: int
) -> None:
    """A rollback journal as SQLite writes one: header (magic, record count, checksum nonce,
    original page count, sector size, page size) padded to a sector, then for each page its
    number, its original content and a checksum (nonce plus every 200th byte). Written with a
    zero record count and flushed, then the count is set and flushed again, as SQLite does."""
    nonce = int.from_bytes(os.urandom(4), "big")
    header = bytearray(JOURNAL_SECTOR)
    header[0:8] = JOURNAL_MAGIC
    header[12:16] = nonce.to_bytes(4, "big")
    header[16:20] = original_pages.to_bytes(4, "big")
    header[20:24] = JOURNAL_SECTOR.to_bytes(4, "big")
    header[24:28] = page_size.to_bytes(4, "big")
    parts = [bytes(header)]
    for pgno, data in old_pages:
        checksum = nonce
        for index in range(page_size - 200, 0, -200):
            checksum += data[index]
        parts.append(pgno.to_bytes(4, "big") + data + (checksum & 0xFFFFFFFF).to_bytes(4, "big"))
    fd = os.open(
        journal_path(replica), os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    )
    try:
        os.write(fd, b"".join(parts))
        os.fsync(fd)
        os.lseek(fd, 8, os.SEEK_SET)
        os.write(fd, len(old_pages).to_bytes(4, "big"))
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(replica.parent)


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


def open_readonly(path: str | os.PathLike) -> sqlite3.Connection:
    """Open a store file read-only (never creates, never migrates, never writes)."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
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
    now = datetime.now().astimezone().isoformat(timespec="seconds")
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
    ``copie_seq``, ``retard`` (acknowledged actions missing from the copy), ``derniere_copie``,
    ``echec`` (the remembered failure or None), ``instantanes`` (count), ``dernier_instantane``,
    ``libre_octets``. Reads only; never raises for a missing medium."""
    from oncosecours.store.db import resolve

    today = today or date.today()
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
                alerts.append(f"copie en retard de {lag} action{'s' if lag > 1 else ''}")
            elif lag < 0:
                alerts.append(
                    f"la copie contient {-lag} action(s) absente(s) de la base : "
                    "vérifier avec « oncosecours backup verify »"
                )
    snaps = target.snapshot_files()
    status["instantanes"] = len(snaps)
    if snaps:
        status["dernier_instantane"] = snaps[-1][0].isoformat()
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


def _same_device(folder: Path, store: Path) -> bool:
    try:
        return store.exists() and os.stat(folder).st_dev == os.stat(store).st_dev
    except OSError:
        return False
