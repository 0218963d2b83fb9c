"""Failures of the copy: classified in French, remembered beside the main store, said at exit
(CLI) or by the shell that asks (:func:`take_pending_warning`, the ribbon)."""

from __future__ import annotations

import atexit
import errno
import json
import os
import sqlite3
import sys
from typing import Any

from oncosecours import clock
from oncosecours.store.replica.target import ReplicaError, Target

WARN_AT_EXIT = True
"""Print a French warning on stderr at process exit when the copy failed (CLI). Shells that show
:func:`replica_status` themselves (the ribbon) may set it to False."""


_pending_warning: str | None = None


_atexit_registered = False


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
