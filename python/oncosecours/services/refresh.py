"""« Actualiser » : reload the Chimio backups into the store's snapshot, as one audited action.

The backup (one folder, or several made into one snapshot) is read and checked entirely in
memory first (:func:`oncosecours.refresh.engine.load_backup`): a refusal there has not touched
the store at all. Only then one transaction
replaces every ``ref_*`` table and ``snapshot_meta`` and appends the audit event; readers keep
seeing the previous snapshot until the commit (WAL). Crisis data (every other table) is never
touched: it holds natural keys and copies, never a foreign key to the snapshot.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oncosecours.services.core import Actor, action, require_role
from oncosecours.store import audit, history_pack, history_write
from oncosecours.store import snapshot as store
from oncosecours.store import snapshot_digest as digests
from oncosecours.store.circuit import snapshot_meta

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

ROLES = ("pharmacien", "administrateur")
ACTION_FR = "actualiser la sauvegarde Chimio"
CHUNK = 50_000

Progress = Callable[[str], None]


def _current(conn: sqlite3.Connection) -> dict[str, Any] | None:
    meta = snapshot_meta(conn)
    if meta is None:
        return None
    return {
        "date_sauvegarde": meta["backup_date"],
        "chargee_le": meta["loaded_at"],
        "lignes": json.loads(meta["counts_json"]),
        "empreinte": meta["content_sha256"],
    }


NAN = float("nan")


class _Rows:
    """The columns of one table prepared for ``executemany``: ``chunk(rows)`` gives, for a
    slice or an index array of rows, each column's values as a Python list, nulls as NaN.

    SQLite stores a NaN it is given as NULL, and Python's sqlite3 binds floats several times
    faster than None (None goes through the adapter look-up). Integers with nulls travel as
    floats (exact below 2**53): INTEGER columns store 3.0 as the integer 3. Text is dictionary
    encoded once: each distinct value becomes one Python string, shared by its rows.

    Rows go in the order of an INTEGER PRIMARY KEY (SQLite's rowid) when the table has one:
    appended at the end of the table's B-tree instead of inserted at random places, they are
    written noticeably faster, and a rowid table is stored in key order whatever the insertion
    order, so nothing a reader sees changes.
    """

    def __init__(self, table, frame, shape=None) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from oncosecours.refresh.steps import arrow

        columns = {name: arrow(frame[name]) for name in table.names}
        # a column empty on every row is left to its NULL default: nothing to bind
        self.names = [n for n, c in columns.items() if c.null_count < len(c) or not len(c)]
        if not self.names:
            self.names = table.names[:1]
        self.total = len(frame)
        self.order = None
        key = table.key[0] if len(table.key) == 1 else None
        if key and table.by_name[key].kind == "integer" and self.total > 1:
            values = columns[key].to_numpy()
            if not (values[1:] > values[:-1]).all():
                self.order = np.argsort(values, kind="stable")
        self.sources = []
        for name in self.names:
            column = columns[name]
            kind = column.type
            if pa.types.is_null(kind):
                self.sources.append((None, None))
                continue
            if pa.types.is_integer(kind) and column.null_count:
                column, kind = column.cast(pa.float64()), pa.float64()
            if pa.types.is_integer(kind):
                self.sources.append((column.to_numpy(), None))
            elif pa.types.is_floating(kind):
                filled = pc.fill_null(column, NAN) if column.null_count else column
                self.sources.append((filled.to_numpy(), None))
            else:
                encoded = pc.dictionary_encode(column).combine_chunks()
                strings = np.array([*encoded.dictionary.to_pylist(), NAN], dtype=object)
                codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy()
                self.sources.append((codes, strings))
        self.shape = shape

    def digest(self) -> str | None:
        """The table's digest once these rows are inserted, computed from the columns (in a
        thread, while they are being written: the refresh need not read them back); None
        when the store must read it back."""
        if self.shape is None:
            return None
        return digests.from_columns(self.shape, self.names, self.sources, self.total, self.order)

    def chunk(self, start: int, stop: int) -> list:
        """Rows ``start`` to ``stop`` as one flat list, row after row (what a multi-row
        INSERT binds)."""
        import numpy as np

        stop = min(stop, self.total)
        rows = slice(start, stop) if self.order is None else self.order[start:stop]
        block = np.empty((stop - start, len(self.sources)), dtype=object)
        for index, (values, strings) in enumerate(self.sources):
            if values is None:
                block[:, index] = NAN
            elif strings is None:
                block[:, index] = values[rows].tolist()  # Python numbers: bound natively
            else:
                block[:, index] = strings[values[rows]]
        return block.ravel().tolist()


def _packed(rows: Future) -> tuple:
    """The history's rows as its packed tables' (:mod:`oncosecours.store.history_pack`)."""
    prepared = rows.result()
    return history_write.pack(prepared.names, prepared.sources, prepared.total)


def _insert(
    conn: sqlite3.Connection, table, rows: Future, hashing: Executor, packed: Future
) -> Future:
    """Insert the rows of ``table`` (``rows``: the future of its :class:`_Rows`, being
    prepared) in chunks; the next chunk is converted to Python values in a thread while SQLite
    writes the current one (sqlite3 releases the GIL while it steps). Returns the future of the
    table's digest, computed from its columns in ``hashing`` (None: to be read back)."""
    from concurrent.futures import ThreadPoolExecutor

    rows = rows.result()
    digest = hashing.submit(rows.digest)
    if table.sql == history_pack.TABLE:  # packed in the preparing thread
        history_write.write(conn, *packed.result())
        return digest
    names = rows.names
    starts = list(range(0, rows.total, CHUNK))
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(rows.chunk, starts[0], CHUNK) if starts else None
        for index in range(len(starts)):
            values = pending.result()
            if index + 1 < len(starts):
                pending = pool.submit(rows.chunk, starts[index + 1], starts[index + 1] + CHUNK)
            store.insert_flat(conn, table.sql, names, values)
            del values
    return digest


def write_snapshot(
    conn: sqlite3.Connection,
    actor: Actor,
    snapshot,
    *,
    progress: Progress | None = None,
) -> None:
    """Replace the snapshot with ``snapshot`` in one audited transaction."""
    from concurrent.futures import ThreadPoolExecutor

    from oncosecours.refresh import model

    tables = list(model.TABLES.values())
    sql_names = [t.sql for t in tables]
    # The rows are prepared in a thread (numpy and pyarrow, off the store) while the old
    # snapshot is deleted and the first tables are written.
    pool = ThreadPoolExecutor(max_workers=1)
    hashing = ThreadPoolExecutor(max_workers=1)
    shapes = digests.shapes_to_model(conn, sql_names)
    prepared = {
        t.name: pool.submit(_Rows, t, snapshot.tables[t.name], shapes.get(t.sql)) for t in tables
    }
    history = next(t.name for t in tables if t.sql == history_pack.TABLE)
    packed = pool.submit(_packed, prepared[history])  # while the first tables are written
    known: dict[str, Future] = {}
    try:
        with (
            store.bulk_write_settings(conn),
            action(conn, actor, "actualiser_sauvegarde", ROLES, ACTION_FR) as act,
        ):
            before = _current(conn)
            if progress:
                progress("Remplacement de l'instantané dans la base (une seule transaction)…")
            indexes = store.indexes_of(conn, sql_names)
            store.drop_indexes(conn, indexes)  # rebuilt after the load: faster than row by row
            # children first (lines before protocols); the history's parts with it
            store.clear(conn, [*sql_names[::-1], *history_pack.HISTORY_PARTS])
            for number, table in enumerate(tables, 1):
                if progress:
                    progress(f"  {table.label} ({number}/{len(tables)})…")
                known[table.sql] = _insert(conn, table, prepared.pop(table.name), hashing, packed)
            if progress and indexes:
                progress(f"Reconstruction des index ({len(indexes)})…")
            store.create_indexes(conn, indexes)
            counts = snapshot.counts
            store.insert_meta(
                conn,
                {
                    "backup_date": snapshot.backup_date.isoformat(),
                    "loaded_at": audit.now_iso(),
                    "source_dir": snapshot.source_dir,
                    "counts_json": json.dumps(counts),
                    "warnings_json": json.dumps(snapshot.warnings, ensure_ascii=False),
                    "backup_date_source": snapshot.backup_date_source,
                    "files_json": json.dumps(snapshot.files, ensure_ascii=False),
                    "content_sha256": snapshot.sha256,
                    "queries_json": json.dumps(snapshot.queries),
                    "actor": actor.initials,
                },
            )
            act.record(
                "sauvegarde_chimio",
                snapshot.backup_date.isoformat(),
                before,
                {
                    "date_sauvegarde": snapshot.backup_date.isoformat(),
                    "origine_date": snapshot.backup_date_source,
                    "dossier": snapshot.source_dir,
                    "lignes": counts,
                    "avertissements": len(snapshot.warnings),
                    "empreinte": snapshot.sha256,
                    "requetes": snapshot.queries,
                    **({"dossiers": snapshot.folders} if len(snapshot.folders) > 1 else {}),
                    # audit verify proves the tables with these
                    **digests.recorded(conn, {t: f.result() for t, f in known.items()}),
                },
            )
            if progress:
                progress("Validation de la transaction…")
    finally:
        for future in [*prepared.values(), *known.values(), packed]:
            future.cancel()
        pool.shutdown()
        hashing.shutdown()


def refresh_snapshot(
    conn: sqlite3.Connection,
    actor: Actor,
    backups: str | Path | Sequence[str | Path],
    *,
    settings: Any = None,
    queries_dir: str | Path | None = None,
    progress: Progress | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Load the backup folder ``backups`` (or several folders, into one snapshot) and replace
    the snapshot; refuse and write nothing on any problem. Returns ``tables`` (counts),
    ``backup_date``, ``warnings`` (the stale-backup warning first), ``stale``, ``age_days``,
    ``timings``, and ``dossiers`` (each folder and its counts)."""
    from oncosecours.refresh.engine import load_backup
    from oncosecours.refresh.status import snapshot_status

    require_role(actor, ROLES, ACTION_FR)  # before minutes of reading
    if settings is None:  # read now: a broken settings file refuses before anything is written
        from oncosecours.settings import load_settings

        settings = load_settings()
    started = time.perf_counter()
    snapshot = load_backup(backups, queries_dir, progress)
    loaded = time.perf_counter()
    write_snapshot(conn, actor, snapshot, progress=progress)
    written = time.perf_counter()
    status = snapshot_status(conn, settings, today)
    warnings = list(snapshot.warnings)
    if status["stale"]:
        warnings.insert(0, status["message"])
    return {
        "tables": snapshot.counts,
        "backup_date": snapshot.backup_date.isoformat(),
        "warnings": warnings,
        "stale": status["stale"],
        "age_days": status["age_days"],
        "backup_date_source": snapshot.backup_date_source,
        "sha256": snapshot.sha256,
        "timings": {"lecture_s": loaded - started, "ecriture_s": written - loaded},
        "dossiers": snapshot.folders,
    }
