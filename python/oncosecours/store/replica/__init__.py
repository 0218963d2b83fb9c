"""The live second copy of the store on another medium (CSP R5132-9: two separate media).

After every committed write (:data:`oncosecours.store.db.AFTER_COMMIT`, hooked by
:mod:`oncosecours.services`), *before* the service returns, the store is copied to
``[copie_secours] dossier``; an action acknowledged to the user is therefore on both media (when
the second one works). Two ways, both consistent:

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

The parts: :mod:`.target` (settings -> where the copies go), :mod:`.sync` (the hook, the copy,
the snapshots), :mod:`.incremental` (the row log and its replay), :mod:`.files` (file
utilities, the lock), :mod:`.failures` (remembered and said), :mod:`.status` (one dict for the
shells). The names below are the package's public API. The process-wide knobs and results
(``sync.MODE``, ``sync.last_result``, ``failures.WARN_AT_EXIT``) are read and set on their own
module.
"""

from oncosecours.store.replica.failures import (
    pending_warning,
    read_state,
    take_pending_warning,
    warning_text,
)
from oncosecours.store.replica.files import (
    checksum_path,
    copy_pages,
    free_bytes,
    journal_path,
    open_readonly,
    read_head,
    recover,
    rotate,
    sha256_file,
    sqlite_uri,
)
from oncosecours.store.replica.incremental import ensure_triggers, read_position, tracked_tables
from oncosecours.store.replica.status import replica_status
from oncosecours.store.replica.sync import after_commit, replicate, write_snapshot
from oncosecours.store.replica.target import (
    SNAPSHOT_DIR,
    ReplicaError,
    Target,
    folder_of,
    main_path,
    target_for,
    use_settings,
)

__all__ = [
    "SNAPSHOT_DIR",
    "ReplicaError",
    "Target",
    "after_commit",
    "checksum_path",
    "copy_pages",
    "ensure_triggers",
    "folder_of",
    "free_bytes",
    "journal_path",
    "main_path",
    "open_readonly",
    "pending_warning",
    "read_head",
    "read_position",
    "read_state",
    "recover",
    "replica_status",
    "replicate",
    "rotate",
    "sha256_file",
    "sqlite_uri",
    "take_pending_warning",
    "target_for",
    "tracked_tables",
    "use_settings",
    "warning_text",
    "write_snapshot",
]
