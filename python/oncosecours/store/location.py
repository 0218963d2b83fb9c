"""Where a SQLite store may live: on a disk of this PC, never on a network path.

SQLite in WAL mode keeps its index in shared memory, which only processes of one host share;
its file locks over SMB/NFS are unreliable. A store on a shared folder opened by two PCs can be
corrupted, or two PCs can draw the same ordonnancier number. So a UNC path, a mapped network
drive or a filesystem reported as remote is refused at opening, and the refusal points to the
PostgreSQL mode, which is the supported way to work from several PCs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PureWindowsPath

from oncosecours.domain.errors import OncoError

REMOTE_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb3",
        "smbfs",
        "sshfs",
        "fuse.sshfs",
        "9p",
        "afs",
        "ncpfs",
        "coda",
        "ceph",
        "fuse.ceph",
        "glusterfs",
        "fuse.glusterfs",
        "lustre",
        "gpfs",
        "davfs",
        "fuse.davfs2",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.gvfsd-fuse",
        "webdav",
        "afpfs",
        "drvfs",
    }
)
"""Filesystem types (Linux mountinfo, macOS ``mount``) whose files live on another host."""

DRIVE_REMOTE = 4  # GetDriveTypeW: a mapped network drive


def is_unc(path: str) -> bool:
    r"""``\\server\share\...`` or ``//server/share/...``, also in the long form ``\\?\UNC\``;
    ``\\?\C:\...`` and devices ``\\.\`` are local."""
    text = path.replace("/", "\\")
    if text.upper().startswith("\\\\?\\UNC\\"):
        return True
    if text.startswith("\\\\?\\") or text.startswith("\\\\.\\"):
        return False
    if not text.startswith("\\\\"):
        return False
    parts = [part for part in text[2:].split("\\") if part]
    return len(parts) >= 2


def parse_mountinfo(text: str) -> list[tuple[str, str]]:
    """(mount point, filesystem type) of each line of ``/proc/self/mountinfo``.

    A line reads ``id parent major:minor root mountpoint options [optional...] - type source
    super-options``; spaces in the mount point are written ``\\040``."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 5:
            continue
        separator = fields.index("-")
        if separator + 1 >= len(fields):
            continue
        mounts.append((_unescape(fields[4]), fields[separator + 1]))
    return mounts


def parse_bsd_mount(text: str) -> list[tuple[str, str]]:
    """(mount point, type) of each line of macOS/BSD ``mount``:
    ``//user@server/share on /Volumes/share (smbfs, nodev, nosuid, mounted by user)``."""
    mounts = []
    for line in text.splitlines():
        head, sep, tail = line.rpartition(" (")
        if not sep or " on " not in head:
            continue
        mount_point = head.split(" on ", 1)[1]
        mounts.append((mount_point, tail.split(",")[0].rstrip(")").strip()))
    return mounts


def _unescape(field: str) -> str:
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def filesystem_type(path: str, mounts: list[tuple[str, str]]) -> str | None:
    """The type of the filesystem holding ``path`` (an absolute POSIX path): the one of the
    longest mount point it lies under; the last mount of a point wins (it hides the others)."""
    best: tuple[int, str] | None = None
    for mount_point, kind in mounts:
        prefix = mount_point.rstrip("/") + "/"
        if mount_point == "/" or path == mount_point or path.startswith(prefix):
            length = len(mount_point.rstrip("/"))
            if best is None or length >= best[0]:
                best = (length, kind)
    return best[1] if best else None


def is_remote_filesystem(kind: str | None) -> bool:
    return kind is not None and kind.lower() in REMOTE_FILESYSTEMS


def _existing_ancestor(path: Path) -> Path:
    """The store may not exist yet: its nearest existing folder tells the filesystem."""
    candidate = path
    while not candidate.exists() and candidate.parent != candidate:
        candidate = candidate.parent
    return candidate


def probe_filesystem_type(path: Path) -> str | None:
    """The type of the filesystem holding ``path`` on this POSIX system, or None if unknown."""
    where = str(_existing_ancestor(path.absolute()).resolve())
    if sys.platform.startswith("linux"):
        try:
            text = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        return filesystem_type(where, parse_mountinfo(text))
    import subprocess

    try:
        output = subprocess.run(
            ["mount"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return filesystem_type(where, parse_bsd_mount(output))


def windows_drive_is_remote(path: str) -> bool:
    """A drive letter mapped to a network share (``net use Z: \\\\serveur\\partage``)."""
    import ctypes

    drive = PureWindowsPath(path).drive
    if not drive or is_unc(drive):
        return False
    return ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == DRIVE_REMOTE


def network_reason(path: Path) -> str | None:
    """Why ``path`` is on the network (a short French phrase), or None when it is local."""
    text = str(path)
    resolved = str(path.absolute())
    if is_unc(text) or is_unc(resolved):
        return "chemin réseau (UNC)"
    if os.name == "nt":
        try:
            if windows_drive_is_remote(resolved):
                return f"lecteur réseau {PureWindowsPath(resolved).drive}"
        except (OSError, AttributeError):
            return None
        return None
    kind = probe_filesystem_type(path)
    if is_remote_filesystem(kind):
        return f"système de fichiers distant « {kind} »"
    return None


def refuse_network_store(path: Path) -> None:
    """Refuse a SQLite store on a network path, saying why and what to do instead."""
    reason = network_reason(path)
    if reason is None:
        return
    raise OncoError(
        f"Base SQLite sur un emplacement réseau refusée ({reason}) : SQLite (journal WAL) exige "
        "que tous les programmes qui l'ouvrent soient sur le même PC, et son verrouillage à "
        "travers un partage réseau (SMB, NFS) n'est pas fiable : deux PC pourraient abîmer le "
        "registre ou tirer le même numéro d'ordonnancier",
        file=str(path),
        hint="Placer la base sur un disque de ce PC (un seul poste), ou, pour travailler à "
        'plusieurs postes, utiliser le mode PostgreSQL ([base] moteur = "postgresql", '
        "serveur préparé par « oncosecours server init » ; voir le README, "
        "« Plusieurs postes : PostgreSQL »)",
    )
