"""The backup's treatment history, stored in compressed blocks of fixed-size records.

Why: the history is the one large table of the Chimio snapshot (a million rows in a large unit)
and the checks only ever read it one patient at a time (validation, the patient's page).
Written row by row it made the refresh about five times the bare parse of the backup.

Storage. The rows, patient after patient (as the backup gives them), are cut at patient
boundaries into blocks of about a thousand rows (written by
:mod:`oncosecours.store.history_write`): ``ref_history`` holds each block,
zlib of its format then its records; ``ref_history_patients`` where each patient's rows are
(block, first record, count); ``ref_history_texts`` every text value, by code. A format is a
:mod:`struct` format in ASCII: ``<``, one letter for the null mask (bit ``i``: column ``i`` of
:data:`COLUMNS` is null), then one per column, the narrowest that holds every value of the
column exactly (an integer in 1 to 8 bytes; a real as an integer when every value is integral,
as float32 when every value is one, else float64; a text as its code). Narrow records and
blocks of many patients are what make the write fast: zlib is the bound.

The rows themselves are the snapshot model's history (:data:`ROWS`) and are what
``audit verify`` proves (:func:`columns`), whatever the storage. Reading one patient needs the
standard library only (no numpy on a click path); reading everything (the proof) uses numpy.
"""

from __future__ import annotations

import sqlite3
import struct
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from oncosecours.store.ledger import HISTORY_PARTS
from oncosecours.store.rows import pairs_in

TABLE = "ref_history"
PATIENTS, TEXTS = HISTORY_PARTS
KEY = "patient_id"
ROWS = (
    ("row_id", "integer"), ("patient_id", "text"), ("start_date", "text"), ("concept", "text"),
    ("molecule_id", "integer"), ("product_id", "integer"), ("value", "real"),
    ("protocol_name", "text"), ("protocol_id", "integer"), ("localisation", "text"),
    ("cycle", "integer"), ("day", "integer"), ("dose_prescribed", "real"),
    ("dose_calculated", "real"), ("weight_kg", "real"), ("height_cm", "real"),
    ("creatinine_umol_l", "real"), ("reduction_pct", "real"), ("reduction_reason", "text"),
    ("route", "text"), ("duration_min", "integer"), ("bsa_dubois", "real"), ("bsa_real", "real"),
    ("bsa_boyd", "real"), ("unit_code", "integer"),
)  # fmt: skip
"""The history's columns and their storage kind: the snapshot model's history
(``refresh.model.HISTORY``, dates as text; a test holds the two equal), as the table of
migration 0002 declared them."""
NAMES = tuple(name for name, _ in ROWS)
COLUMNS = tuple((name, kind) for name, kind in ROWS if name != KEY)
"""The columns of a record, in order."""
MASK = "I" if len(COLUMNS) <= 32 else "Q"
_ALLOWED = {
    "integer": "bhiq",
    "real": "bhiqfd",  # as integers only when every value is integral and below 2**53
    "text": "bhi",
}
HEADER = 2 + len(COLUMNS)
"""Characters of the format at the start of each block."""
SHAPE = [(name, kind.upper(), False) for name, kind in ROWS]
"""(name, SQLite affinity, default) of the rows' columns: the shape of the digest's
definition (``store.snapshot_digest``), as when they were a table of their own."""


class Unreadable(Exception):
    """A stored block does not decode (changed outside OncoSecours)."""


def _split(blob: Any) -> tuple[str, bytes]:
    """(format, records) of a stored block; :class:`Unreadable` when it is not one."""
    try:
        data = zlib.decompress(blob)
        form = data[:HEADER].decode("ascii")
    except (zlib.error, TypeError, UnicodeDecodeError) as exc:
        raise Unreadable(str(exc)) from None
    letters = form[2:]
    if (
        len(form) != HEADER
        or form[:2] != "<" + MASK
        or any(c not in _ALLOWED[kind] for c, (_, kind) in zip(letters, COLUMNS, strict=True))
    ):
        raise Unreadable(f"format {form!r}")
    return form, data[HEADER:]


# --- one patient (standard library) ---------------------------------------------------------


def row_count(conn: sqlite3.Connection) -> int:
    """Rows of the history."""
    return int(conn.execute(f"SELECT coalesce(sum(row_count), 0) FROM {TABLE}").fetchone()[0])


def patient_rows(conn: sqlite3.Connection, patient_id: Any) -> list[dict[str, Any]]:
    """The patient's history rows (dicts keyed as the model's columns), by start date then
    row number; empty when the backup has none."""
    row = conn.execute(
        f"SELECT p.first_row, p.row_count, h.rows FROM {PATIENTS} p JOIN {TABLE} h "
        f"ON h.id = p.block WHERE p.{KEY} = ?",
        (patient_id,),
    ).fetchone()
    if row is None:
        return []
    first, count, blob = row
    try:
        form, data = _split(blob)
        size = struct.calcsize(form)
        mine = data[first * size : (first + count) * size]
        if first < 0 or len(mine) != count * size:
            raise Unreadable(f"lignes {first} à {first + count} absentes du bloc")
        records = list(struct.iter_unpack(form, mine))
    except (Unreadable, struct.error) as exc:
        raise _unreadable(patient_id, str(exc)) from None
    text_at = [i for i, (_, kind) in enumerate(COLUMNS, 1) if kind == "text"]
    texts = _texts(conn, {r[i] for r in records for i in text_at})
    out = []
    for record in records:
        mask = record[0]
        values: dict[str, Any] = {KEY: patient_id}
        for index, (name, kind) in enumerate(COLUMNS):
            value = record[index + 1]
            if mask >> index & 1:
                values[name] = None
            elif kind == "real":
                values[name] = float(value)
            elif kind == "integer":
                values[name] = value
            else:
                values[name] = _text(texts, value, patient_id)
        out.append({name: values[name] for name in NAMES})
    out.sort(key=_by_date)
    return out


def _by_date(row: Mapping[str, Any]) -> tuple:
    """Start date, then row number (a row without one first)."""
    date, number = row["start_date"], row["row_id"]
    return (date is not None, date or "", number is not None, number or 0)


def _text(texts: Mapping[int, str], code: int, patient_id: Any) -> str:
    try:
        return texts[code]
    except KeyError:
        raise _unreadable(patient_id, f"texte n° {code} absent") from None


def _unreadable(patient_id: Any, why: str) -> Exception:
    """The French refusal when a patient's stored history does not decode: the checks must
    not go on without it."""
    from oncosecours.domain.errors import OncoError

    return OncoError(
        f"Historique de la sauvegarde illisible pour le patient {patient_id} ({why}) : "
        "lancer « oncosecours audit verify », puis actualiser la sauvegarde",
        rule="HISTORIQUE_ILLISIBLE",
    )


def _texts(conn: sqlite3.Connection, codes: Iterable[int]) -> dict[int, str]:
    return pairs_in(conn, f"SELECT code, text FROM {TEXTS} WHERE code IN ({{}})", codes)


# --- every row (numpy): the proof ----------------------------------------------------------

_NUMPY = {"b": "i1", "h": "<i2", "i": "<i4", "q": "<i8", "f": "<f4", "d": "<f8", "I": "<u4",
          "Q": "<u8"}  # fmt: skip


def dtype_of(form: str):
    """The numpy record type of a block's format."""
    import numpy as np

    names = ["nulls", *(name for name, _ in COLUMNS)]
    return np.dtype([(n, _NUMPY[c]) for n, c in zip(names, form[1:], strict=True)])


def columns(conn: sqlite3.Connection) -> tuple[int, list[list[Any]]]:
    """(row count, each column of :data:`NAMES` as Python values) of the whole history in
    row number order: what a table of these rows would read back. :class:`Unreadable` when a
    block does not decode or the patients do not cover its records exactly once."""
    import numpy as np

    wide = np.dtype(
        [("nulls", "<u8")] + [(name, "<f8" if kind == "real" else "<i8") for name, kind in COLUMNS]
    )
    parts = [np.zeros(0, dtype=wide)]
    offsets: dict[int, tuple[int, int]] = {}  # block id -> (first record overall, rows)
    done = 0
    for block, count, blob in conn.execute(f"SELECT id, row_count, rows FROM {TABLE} ORDER BY id"):
        try:
            form, data = _split(blob)
        except Unreadable as exc:
            raise Unreadable(f"bloc {block} : {exc}") from None
        if not isinstance(count, int) or len(data) != count * struct.calcsize(form):
            raise Unreadable(f"bloc {block} : {len(data)} octets pour {count} lignes")
        narrow = np.frombuffer(data, dtype=dtype_of(form))
        records = np.empty(len(narrow), dtype=wide)
        for name in wide.names:
            records[name] = narrow[name]
        parts.append(records)
        offsets[block] = (done, count)
        done += count
    records = np.concatenate(parts)
    owner = _owners(conn, offsets, done)
    order = np.argsort(records["row_id"], kind="stable")
    records, owner = records[order], owner[order]
    text_of = dict(conn.execute(f"SELECT code, text FROM {TEXTS}").fetchall())
    out: dict[str, list[Any]] = {KEY: owner.tolist()}
    for index, (name, kind) in enumerate(COLUMNS):
        null = (records["nulls"] >> np.uint64(index)) & np.uint64(1) == 1
        if kind == "text":
            values = _decoded(records[name], null, text_of)
        else:
            values = records[name].tolist()
        if null.any():
            values = [None if n else v for v, n in zip(values, null.tolist(), strict=True)]
        out[name] = values
    return len(records), [out[name] for name in NAMES]


def _owners(conn: sqlite3.Connection, offsets: Mapping[int, tuple[int, int]], total: int):
    """The patient of each record (in block order), from ``ref_history_patients``."""
    import numpy as np

    owner = np.full(total, None, dtype=object)
    taken = np.zeros(total, dtype=bool)
    for patient_id, block, first, count in conn.execute(
        f"SELECT {KEY}, block, first_row, row_count FROM {PATIENTS}"
    ):
        start, rows = offsets.get(block, (0, -1))
        if not (isinstance(first, int) and isinstance(count, int)) or not (
            0 <= first and 0 < count and first + count <= rows
        ):
            raise Unreadable(f"patient {patient_id} : lignes hors de son bloc {block}")
        where = slice(start + first, start + first + count)
        if taken[where].any():
            raise Unreadable(f"patient {patient_id} : lignes d'un autre patient")
        taken[where] = True
        owner[where] = patient_id
    if not taken.all():
        raise Unreadable(f"{int((~taken).sum())} lignes sans patient")
    return owner


def _decoded(codes, null, text_of: Mapping[int, str]) -> list[Any]:
    """The texts of a column's codes (None where null)."""
    import numpy as np

    known = np.array(sorted(text_of), dtype=np.int64)
    texts = np.array([text_of[k] for k in known.tolist()] + [None], dtype=object)
    at = np.searchsorted(known, codes)
    found = np.zeros(len(codes), dtype=bool)
    if len(known):
        found = known[np.minimum(at, len(known) - 1)] == codes
    if not (found | null).all():
        raise Unreadable(f"texte n° {int(codes[~(found | null)][0])} absent de {TEXTS}")
    at[~found] = len(known)
    return texts[at].tolist()
