"""The backup's treatment history, stored in compressed blocks of fixed-size records.

Why: the history is the one large table of the Chimio snapshot (a million rows in a large unit)
and the checks only ever read it one patient at a time (validation, the patient's page).
Written row by row it made the refresh about five times the bare parse of the backup.

Storage. The rows, patient after patient (as the backup gives them), are cut at patient
boundaries into blocks of about :data:`BLOCK_ROWS` rows: ``ref_history`` holds each block,
zlib of its format then its records; ``ref_history_patients`` where each patient's rows are
(block, first record, count); ``ref_history_texts`` every text value, by code. A format is a
:mod:`struct` format in ASCII: ``<``, one letter for the null mask (bit ``i``: column ``i`` of
:data:`COLUMNS` is null), then one per column, the narrowest that holds every value of the
column exactly (an integer in 1 to 8 bytes; a real as an integer when every value is integral,
as float32 when every value is one, else float64; a text as its code). Narrow records and
blocks of many patients are what make the write fast: zlib is the bound.

The rows themselves are the snapshot model's history (:data:`ROWS`) and are what
``audit verify`` proves (:func:`columns`), whatever the storage. Reading one patient needs the
standard library only (no numpy on a click path); packing and reading everything use numpy.
"""

from __future__ import annotations

import sqlite3
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from oncosecours.store.ledger import HISTORY_PARTS

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
_INTEGERS = {"b": 2**7, "h": 2**15, "i": 2**31, "q": 2**63}
_ALLOWED = {
    "integer": "bhiq",
    "real": "bhiqfd",  # as integers only when every value is integral and below 2**53
    "text": "bhi",
}
HEADER = 2 + len(COLUMNS)
"""Characters of the format at the start of each block."""
BLOCK_ROWS = 1024
"""Rows of a block (a patient is never split): one zlib call per block instead of one per
patient (a call costs about 20 µs before any byte), and a click decompresses ~100 kB."""
LEVEL = 1
"""zlib level: the records repeat a lot (same cure, same protocol); level 1 already packs
them about fourfold, at a fraction of the higher levels' time."""
SHAPE = [(name, kind.upper(), False) for name, kind in ROWS]
"""(name, SQLite affinity, default) of the rows' columns: the shape of the digest's
definition (``store.snapshot_digest``), as when they were a table of their own."""
_IN = 500
"""Text codes looked up per query (under every engine's bound-value limit)."""


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
    wanted = sorted(codes)
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _IN):
        part = wanted[start : start + _IN]
        marks = ", ".join("?" * len(part))
        found.update(
            (int(code), text)
            for code, text in conn.execute(
                f"SELECT code, text FROM {TEXTS} WHERE code IN ({marks})", part
            )
        )
    return found


# --- packing (numpy) ------------------------------------------------------------------------

_NUMPY = {"b": "i1", "h": "<i2", "i": "<i4", "q": "<i8", "f": "<f4", "d": "<f8", "I": "<u4",
          "Q": "<u8"}  # fmt: skip


def _dtype(form: str):
    """The numpy record type of a block's format."""
    import numpy as np

    names = ["nulls", *(name for name, _ in COLUMNS)]
    return np.dtype([(n, _NUMPY[c]) for n, c in zip(names, form[1:], strict=True)])


def _integer_letter(low: float, high: float) -> str:
    """The narrowest integer letter holding every value from ``low`` to ``high``."""
    for letter, limit in _INTEGERS.items():
        if -limit <= low and high < limit:
            return letter
    raise ValueError(f"entier hors de 64 bits : {low}, {high}")


_CHUNK = 1 << 16
"""Values tested at a time: small temporaries, reused, instead of a column-sized one each."""


def _every(test, values) -> bool:
    """Whether ``test`` holds for every chunk of ``values``."""
    return all(test(values[i : i + _CHUNK]) for i in range(0, len(values), _CHUNK))


def _letter(kind: str, values) -> str:
    """The letter of a numeric column (numpy; NaN for null)."""
    import numpy as np

    floats = values.dtype.kind == "f"
    low, high = (np.fmin.reduce(values), np.fmax.reduce(values)) if len(values) else (0, 0)
    if low != low:  # every value null
        return "b"
    if kind == "integer":
        if floats and not _every(lambda c: ((np.floor(c) == c) | (c != c)).all(), values):
            raise TypeError("entier attendu")
        return _integer_letter(low, high)
    exact = max(-low, high) < 2**53
    if exact and (not floats or _every(lambda c: ((np.floor(c) == c) | (c != c)).all(), values)):
        return _integer_letter(low, high)
    if not floats:
        return "d"

    def single(c) -> bool:
        with np.errstate(over="ignore"):
            return ((c.astype(np.float32).astype(np.float64) == c) | (c != c)).all()

    return "f" if _every(single, values) else "d"


def pack(
    names: Sequence[str], sources: Sequence[tuple[Any, Any]], total: int
) -> tuple[list[Any], list[Any], list[Any]]:
    """The history rows given as the refresh binds them (per name: ``(numbers, None)``, NaN
    for null; ``(codes, strings)``, the last string being the null sentinel; ``(None, None)``
    all null; a name not given is null) as the three tables' rows, each one flat list:
    texts (code, text), blocks (id, row_count, rows), patients (patient_id, block,
    first_row, row_count)."""
    import numpy as np

    if not total:
        return [], [], []
    bound = dict(zip(names, sources, strict=True))
    patient_codes, patient_strings = bound[KEY]
    if patient_strings is None:
        raise TypeError("patient_id: texte attendu")
    order = None  # a backup is read patient by patient: each patient's rows are together
    if np.count_nonzero(np.diff(patient_codes)) + 1 > len(np.unique(patient_codes)):
        order = np.argsort(patient_codes, kind="stable")
    records, form, texts = _records(bound, order, total)
    # patients: where each one's rows start; blocks: cut where a patient starts past a multiple
    patient_of_row = patient_codes if order is None else patient_codes[order]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(patient_of_row)) + 1])
    counts = np.diff(np.append(starts, total))
    block_of = np.concatenate([[0], np.cumsum(np.diff(starts // BLOCK_ROWS) > 0)])
    cuts = np.append(starts[np.flatnonzero(np.diff(block_of, prepend=-1))], total)
    blobs = _compress(form.encode("ascii"), records.view(np.uint8), records.itemsize,
                      cuts.tolist())  # fmt: skip
    firsts = starts - cuts[block_of]
    ids = patient_strings[patient_of_row[starts]].tolist()
    flat_patients: list[Any] = []
    for row in zip(ids, (block_of + 1).tolist(), firsts.tolist(), counts.tolist(), strict=True):
        flat_patients += row
    flat_blocks: list[Any] = []
    for number, (rows, blob) in enumerate(zip(np.diff(cuts).tolist(), blobs, strict=True), 1):
        flat_blocks += (number, rows, blob)
    flat_texts: list[Any] = []
    for code, text in enumerate(texts):
        flat_texts += (code, text)
    return flat_texts, flat_blocks, flat_patients


def _records(bound: Mapping[str, tuple[Any, Any]], order, total: int) -> tuple[Any, str, list[Any]]:
    """(the records in ``order``, their format (the narrowest), the texts their codes point
    to)."""
    import numpy as np

    columns: list[tuple[str, Any, Any]] = []  # (name, values, null) in record order
    texts: list[Any] = []
    letters = []
    for name, kind in COLUMNS:
        values, strings = bound.get(name, (None, None))
        if values is None:
            columns.append((name, 0, True))
            letters.append("b")
            continue
        if (strings is None) != (kind != "text"):
            raise TypeError(f"{name}: {kind} attendu")
        values = values if order is None else values[order]
        if strings is not None:
            null = values == len(strings) - 1
            values = values + len(texts)
            values[null] = -1
            texts.extend(strings[:-1].tolist())
            letters.append(None)  # once every text is coded
        else:
            null = np.isnan(values) if values.dtype.kind == "f" else None
            try:
                letters.append(_letter(kind, values))
            except TypeError as exc:
                raise TypeError(f"{name}: {exc}") from None
        columns.append((name, values, null))
    text_letter = _integer_letter(-1, len(texts))
    form = "<" + MASK + "".join(letter or text_letter for letter in letters)
    records = np.empty(total, dtype=_dtype(form))
    mask = records["nulls"]
    mask[:] = 0
    for index, (name, values, null) in enumerate(columns):
        field = records[name]
        with np.errstate(invalid="ignore"):  # NaN (null) into an integer: zeroed below
            field[:] = values
        if field.dtype.kind == "f":
            field += 0.0  # -0.0 as 0.0, as SQLite stores an integral real
        if null is None or (null is not True and not null.any()):
            continue
        field[null] = 0
        np.bitwise_or(mask, mask.dtype.type(1 << index), out=mask, where=null)
    return records, form, texts


def _compress(header: bytes, raw, size: int, cuts: Sequence[int]) -> list[bytes]:
    """zlib of each block's format and records, in two threads (zlib releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    def part(first: int, last: int) -> list[bytes]:
        return [
            zlib.compress(header + raw[cuts[i] * size : cuts[i + 1] * size].tobytes(), LEVEL)
            for i in range(first, last)
        ]

    blocks = len(cuts) - 1
    middle = blocks // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        halves = [pool.submit(part, 0, middle), pool.submit(part, middle, blocks)]
        return halves[0].result() + halves[1].result()


def write(
    conn: sqlite3.Connection,
    flat_texts: Sequence[Any],
    flat_blocks: Sequence[Any],
    flat_patients: Sequence[Any],
) -> None:
    """Insert what :func:`pack` gave into the emptied tables."""
    from oncosecours.store.snapshot import insert_flat

    if flat_texts:
        insert_flat(conn, TEXTS, ["code", "text"], flat_texts)
    if flat_blocks:
        insert_flat(conn, TABLE, ["id", "row_count", "rows"], flat_blocks)
    if flat_patients:
        insert_flat(conn, PATIENTS, [KEY, "block", "first_row", "row_count"], flat_patients)


def clear(conn: sqlite3.Connection) -> None:
    for table in (PATIENTS, TABLE, TEXTS):
        conn.execute(f"DELETE FROM {table}")


def sources_of(rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[Any]]:
    """Python rows (dicts keyed as the model's columns, missing keys null) as :func:`pack`'s
    ``names`` and ``sources``: for the migration of a row table and for tests."""
    import numpy as np

    sources = []
    for name, kind in ROWS:
        values = [row.get(name) for row in rows]
        if kind == "text":
            distinct = sorted({v for v in values if v is not None})
            if any(not isinstance(v, str) for v in distinct):
                raise TypeError(f"{name}: texte attendu")
            code = {v: i for i, v in enumerate(distinct)}
            codes = np.array([code.get(v, len(distinct)) for v in values], dtype=np.int64)
            sources.append((codes, np.array([*distinct, float("nan")], dtype=object)))
            continue
        if any(v is not None and not isinstance(v, (int, float)) for v in values):
            raise TypeError(f"{name}: nombre attendu")
        if kind == "integer" and None not in values:
            sources.append((np.array(values, dtype=np.int64), None))
        else:
            floats = [float("nan") if v is None else v for v in values]
            sources.append((np.array(floats, dtype=np.float64), None))
    return list(NAMES), sources


def replace(conn: sqlite3.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Make these rows the history (inside the caller's transaction)."""
    clear(conn)
    names, sources = sources_of(rows)
    write(conn, *pack(names, sources, len(rows)))


# --- every row (numpy): the proof, the migration ------------------------------------------


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
        narrow = np.frombuffer(data, dtype=_dtype(form))
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


def convert_rows_table(conn: sqlite3.Connection, old: str) -> None:
    """Pack the rows of a history table of the earlier shape (one row per history row), then
    drop it: the migration to this storage (store/migrations/0011)."""
    cursor = conn.execute(f"SELECT * FROM {old} ORDER BY row_id")
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    replace(conn, rows)
    conn.execute(f"DROP TABLE {old}")
