"""File utilities of the copy: online backup into a temporary file renamed into place, fsync,
free space, checksums, the rotation of snapshots, read-only opening, the copy lock."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from oncosecours import clock
from oncosecours.store.replica.target import ReplicaError, Target

LOCK_TIMEOUT_S = 10.0


MARGIN_BYTES = 1 << 20


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


def update_from_server(conn: Any, path: Path) -> dict[str, int]:
    """The copy of a register held on the server, brought up to date in place, in one SQLite
    transaction (a copy killed half-way is rolled back by its journal): the crisis tables are
    rewritten, the Chimio snapshot only when the server's differs (store.pg.export)."""
    from oncosecours.store.pg.export import copy_into

    dst = sqlite3.connect(path, isolation_level=None, timeout=LOCK_TIMEOUT_S)
    try:
        dst.execute("PRAGMA synchronous=FULL")
        return copy_into(conn, dst, keep_snapshot=True)
    finally:
        dst.close()


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
