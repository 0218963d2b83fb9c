"""Writing the backup's history in its packed storage (:mod:`oncosecours.store.history_pack`
says the format and reads it): the refresh's columns packed with numpy and zlib, and the
migration of a register whose history was a table of rows.

Why apart: the reading side sits on the click path (validation) and needs the standard library
only; this side runs in the refresh, with numpy.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from oncosecours.store.history_pack import (
    COLUMNS,
    KEY,
    MASK,
    NAMES,
    PATIENTS,
    ROWS,
    TABLE,
    TEXTS,
    dtype_of,
)

BLOCK_ROWS = 1024
"""Rows of a block (a patient is never split): one zlib call per block instead of one per
patient (a call costs about 20 µs before any byte), and a click decompresses ~100 kB."""
LEVEL = 1
"""zlib level: the records repeat a lot (same cure, same protocol); level 1 already packs
them about fourfold, at a fraction of the higher levels' time."""
_INTEGERS = {"b": 2**7, "h": 2**15, "i": 2**31, "q": 2**63}


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


def _integral(chunk) -> bool:
    """Every value integral (or NaN: null)."""
    import numpy as np

    return bool(((np.floor(chunk) == chunk) | (chunk != chunk)).all())


def _letter(kind: str, values) -> str:
    """The letter of a numeric column (numpy; NaN for null)."""
    import numpy as np

    floats = values.dtype.kind == "f"
    low, high = (np.fmin.reduce(values), np.fmax.reduce(values)) if len(values) else (0, 0)
    if low != low:  # every value null
        return "b"
    integral = not floats or _every(_integral, values)
    if kind == "integer":
        if not integral:
            raise TypeError("entier attendu")
        return _integer_letter(low, high)
    if integral and max(-low, high) < 2**53:
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
    records = np.empty(total, dtype=dtype_of(form))
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


def convert_rows_table(conn: sqlite3.Connection, old: str) -> None:
    """Pack the rows of a history table of the earlier shape (one row per history row), then
    drop it: the migration to this storage (store/migrations/0011). A value that cannot be
    stored is a French refusal; the migration's transaction then leaves the register as it was."""
    from oncosecours.domain.errors import OncoError

    cursor = conn.execute(f"SELECT * FROM {old} ORDER BY row_id")
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    try:
        replace(conn, rows)
    except (TypeError, ValueError) as exc:
        raise OncoError(
            f"Historique de la sauvegarde impossible à convertir au nouveau format ({exc}) : "
            "la base n'a pas été modifiée ; utiliser la version précédente d'OncoSecours, "
            "ou actualiser la sauvegarde Chimio dans une base neuve",
            field=f"{old}",
            rule="HISTORIQUE_NON_CONVERTI",
        ) from None
    conn.execute(f"DROP TABLE {old}")
