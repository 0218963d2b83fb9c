"""The Chimio snapshot's digest, column by column (version 2 of ``audit verify``'s proof).

The refresh records one SHA-256 per snapshot table in its audit event; ``audit verify``
recomputes it from the tables. Version 1 hashed ``repr()`` of every row read back, which for the
large snapshot cost more than writing it (a million rows fetched and formatted inside the
refresh's transaction). Version 2 has a definition that can be computed both ways:

* from the tables, by any engine (:func:`read_back`): the proof;
* from the columns the refresh is about to bind (:func:`from_columns`), with numpy, in the
  thread that prepares them, so the refresh does not read its million rows back.

Definition. A column is five byte streams, each hashed: one tag per row (0 null, 1 integer,
2 real, 3 text, 4 anything else), the integers (int64 little-endian), the reals (float64
little-endian, -0.0 written 0.0: SQLite may store an integral real as an integer), the UTF-8
lengths (int64) and the UTF-8 bytes of the texts (and of ``repr()`` of anything else). A table
is its row count and, in column order, each column's name and digest. Rows in rowid order.

The columns-to-be-bound side models SQLite's column affinity only where it is certain
(integers and integral reals into INTEGER, reals and integers below 2**53 into REAL, text into
TEXT); for anything else it says so (``None``) and the table is read back, so a digest can be
slower, never wrong.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from typing import Any

from oncosecours.store import history_pack
from oncosecours.store.ledger import quote_name, snapshot_tables

VERSION_TAG = b"oncosecours/instantane/v2\n"
NULL, INTEGER, REAL, TEXT, OTHER = 0, 1, 2, 3, 4
EXACT = 2**53
"""Below this an integer and its float64 are the same number (SQLite converts both ways)."""
_FETCH = 20_000


class ColumnHash:
    """The five streams of one column, fed in row order in as many pieces as wanted."""

    def __init__(self) -> None:
        self.rows = 0
        self.streams = [hashlib.sha256() for _ in range(5)]

    def add(self, tags, ints, reals, lengths, text: bytes) -> None:
        """A piece of the column: numpy arrays (uint8 tags, int64, float64, int64) and bytes."""
        import numpy as np

        self.rows += len(tags)
        tag_s, int_s, real_s, len_s, text_s = self.streams
        # hashed where they are (contiguous numpy arrays are buffers): no copy
        tag_s.update(np.ascontiguousarray(tags, dtype=np.uint8))
        int_s.update(np.ascontiguousarray(ints, dtype="<i8"))
        real_s.update(np.asarray(reals, dtype="<f8") + 0.0)  # -0.0 -> 0.0
        len_s.update(np.ascontiguousarray(lengths, dtype="<i8"))
        text_s.update(text)

    def add_values(self, values: Sequence[Any]) -> None:
        """A piece of the column as Python values read back from the store."""
        import numpy as np

        kinds = set(map(type, values))
        kinds.discard(type(None))
        try:
            if kinds <= {float}:  # numpy turns None into NaN, and NaN is null here
                reals = np.array(values, dtype=np.float64)
                null = np.isnan(reals)
                self.add(np.where(null, NULL, REAL), (), reals[~null], (), b"")
                return
            if kinds == {int}:
                present = np.array(values, dtype=object)
                null = present == None  # noqa: E711 (element-wise)
                ints = present[~null].astype(np.int64)
                self.add(np.where(null, NULL, INTEGER), ints, (), (), b"")
                return
            if kinds == {str}:
                tags, lengths, text = _texts(values)
                self.add(tags, (), (), lengths, text)
                return
        except (OverflowError, ValueError, UnicodeError, TypeError):
            pass  # a huge integer, a lone surrogate...: value by value below
        self._add_one_by_one(values)

    def _add_one_by_one(self, values: Sequence[Any]) -> None:
        tags = bytearray(len(values))
        ints: list[int] = []
        reals: list[float] = []
        texts: list[bytes] = []
        for index, value in enumerate(values):
            kind = type(value)
            if value is None:
                continue
            if kind is float:
                if value != value:  # NaN: stored as null by SQLite, and so on both sides
                    continue
                tags[index] = REAL
                reals.append(value)
            elif (kind is int or kind is bool) and -(2**63) <= value < 2**63:
                tags[index] = INTEGER
                ints.append(int(value))
            elif kind is str:
                tags[index] = TEXT
                texts.append(value.encode("utf-8", "surrogatepass"))
            else:
                tags[index] = OTHER
                texts.append(repr(value).encode("utf-8", "surrogatepass"))
        self.add(memoryview(tags), ints, reals, [len(t) for t in texts], b"".join(texts))

    def digest(self) -> bytes:
        total = hashlib.sha256(self.rows.to_bytes(8, "little"))
        for stream in self.streams:
            total.update(stream.digest())
        return total.digest()


def _texts(values):
    """(tags, UTF-8 lengths, UTF-8 bytes) of texts and nulls, by pyarrow (no Python loop)."""
    import numpy as np
    import pyarrow as pa

    array = pa.array(values, type=pa.large_string())
    valid = (
        np.ones(len(array), bool)
        if not array.null_count
        else array.is_valid().to_numpy(zero_copy_only=False)
    )
    _, offsets_buffer, data = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    text = memoryview(data)[offsets[0] : offsets[-1]] if data is not None else b""
    return np.where(valid, TEXT, NULL), np.diff(offsets)[valid], text


def table_digest(rows: int, columns: Sequence[tuple[str, ColumnHash]]) -> str:
    total = hashlib.sha256(VERSION_TAG + rows.to_bytes(8, "little"))
    for name, column in columns:
        total.update(name.encode("utf-8") + b"\0" + column.digest())
    return total.hexdigest()


def read_back(conn: sqlite3.Connection, table: str) -> str:
    """The digest of a table as the store holds it (either engine). The history is proven
    by its rows, whatever their storage (:mod:`oncosecours.store.history_pack`)."""
    if table == history_pack.TABLE:
        return _history_read_back(conn)
    return read_back_rows(conn, table)


def read_back_rows(conn: sqlite3.Connection, table: str) -> str:
    """The digest of a table of rows, read back in rowid order."""
    cursor = conn.execute(f"SELECT * FROM main.{quote_name(table)} ORDER BY rowid")
    names = [d[0] for d in cursor.description]
    columns = [(name, ColumnHash()) for name in names]
    rows = 0
    while batch := cursor.fetchmany(_FETCH):
        rows += len(batch)
        for (_, column), values in zip(columns, zip(*batch, strict=True), strict=True):
            column.add_values(values)
    return table_digest(rows, columns)


def _history_read_back(conn: sqlite3.Connection) -> str:
    try:
        rows, values = history_pack.columns(conn)
    except history_pack.Unreadable as exc:
        return f"illisible : {exc}"  # never a digest: verify names the table
    columns = []
    for name, column_values in zip(history_pack.NAMES, values, strict=True):
        column = ColumnHash()
        for start in range(0, rows, _FETCH):
            column.add_values(column_values[start : start + _FETCH])
        columns.append((name, column))
    return table_digest(rows, columns)


# --- from the columns about to be bound (SQLite) -------------------------------------------


def affinity(declared: str) -> str:
    """SQLite's column affinity of a declared type (its documented rules, in order)."""
    kind = (declared or "").upper()
    if "INT" in kind:
        return "INTEGER"
    if "CHAR" in kind or "CLOB" in kind or "TEXT" in kind:
        return "TEXT"
    if "BLOB" in kind or not kind:
        return "BLOB"
    if "REAL" in kind or "FLOA" in kind or "DOUB" in kind:
        return "REAL"
    return "NUMERIC"


def table_shape(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, bool]]:
    """(name, affinity, has a non-null default) of a table's columns, in order."""
    return [(name, where, default) for name, where, default, _ in _columns(conn, table)]


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, bool, bool]]:
    """(name, affinity, has a non-null default, is the key) of a table's columns."""
    return [
        (name, affinity(declared), default is not None, bool(pk))
        for _, name, declared, _, default, pk in conn.execute(
            f"PRAGMA main.table_info({quote_name(table)})"
        )
    ]


class NotModelled(Exception):
    """The stored values cannot be told for sure from the bound ones: read the table back."""


def _numbers(values, where: str):
    """(tags, ints, reals) of a numeric numpy column bound to a column of affinity ``where``."""
    import numpy as np

    n = len(values)
    if values.dtype.kind in "iu":
        if where == "INTEGER":
            if values.dtype.kind == "u" and n and values.max() >= 2**63:
                raise NotModelled
            return np.full(n, INTEGER, np.uint8), values.astype(np.int64), ()
        if where == "REAL":
            if n and np.abs(values.astype(np.float64)).max() >= EXACT:
                raise NotModelled
            return np.full(n, REAL, np.uint8), (), values.astype(np.float64)
        raise NotModelled
    if values.dtype.kind != "f":
        raise NotModelled
    null = np.isnan(values)
    present = values[~null]
    if where == "REAL":
        return np.where(null, NULL, REAL).astype(np.uint8), (), present
    if where == "INTEGER":
        integral = np.isfinite(present) & (np.floor(present) == present)
        if not integral.all() or (len(present) and np.abs(present).max() >= EXACT):
            raise NotModelled
        return np.where(null, NULL, INTEGER).astype(np.uint8), present.astype(np.int64), ()
    raise NotModelled


def _entry(value: Any, where: str) -> tuple[int, int, bytes]:
    """(tag, integer, text bytes) stored for one distinct bound value."""
    if isinstance(value, float) and value != value:
        return NULL, 0, b""
    if type(value) is str and where == "TEXT":
        return TEXT, 0, value.encode("utf-8", "surrogatepass")
    if type(value) in (bool, int) and where == "INTEGER" and -(2**63) <= value < 2**63:
        return INTEGER, int(value), b""
    raise NotModelled


def _dictionary(codes, strings, where: str):
    """(tags, ints, lengths, text) of a dictionary-encoded column (``strings[codes]``)."""
    import numpy as np
    import pyarrow as pa

    entries = [_entry(value, where) for value in strings]
    entry_tags = np.array([e[0] for e in entries], dtype=np.uint8)
    entry_ints = np.array([e[1] for e in entries], dtype=np.int64)
    entry_text = pa.array([e[2] for e in entries], type=pa.large_binary())
    tags = entry_tags[codes]
    ints = entry_ints[codes[tags == INTEGER]]
    texts = entry_text.take(pa.array(codes[tags == TEXT]))
    _, offsets_buffer, data = texts.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[: len(texts) + 1]
    text = memoryview(data)[offsets[0] : offsets[-1]] if data is not None and len(texts) else b""
    return tags, ints, np.diff(offsets), text


def from_columns(
    shape: Sequence[tuple[str, str, bool]],
    names: Sequence[str],
    sources: Sequence[tuple[Any, Any]],
    rows: int,
    order=None,
) -> str | None:
    """The digest the table will have once these columns are inserted into the emptied table,
    in ``order`` (an index array, or None for as given); None when it cannot be told for sure.

    ``sources`` are, per bound name, ``(numbers, None)`` (a numpy column, NaN for null),
    ``(codes, values)`` (row ``i`` is ``values[codes[i]]``) or ``(None, None)`` (all null)."""
    import numpy as np

    bound = dict(zip(names, sources, strict=True))
    if set(bound) - {name for name, _, _ in shape}:
        return None
    columns = []
    try:
        for name, where, has_default in shape:
            column = ColumnHash()
            values, strings = bound.get(name, (None, None))
            if name not in bound and has_default:
                raise NotModelled  # SQLite writes the default, not a null
            if values is None:
                column.add(np.zeros(rows, np.uint8), (), (), (), b"")
            else:
                if order is not None:
                    values = values[order]
                if strings is None:
                    tags, ints, reals = _numbers(values, where)
                    column.add(tags, ints, reals, (), b"")
                else:
                    tags, ints, lengths, text = _dictionary(values, strings, where)
                    column.add(tags, ints, (), lengths, text)
            columns.append((name, column))
    except NotModelled:
        return None
    return table_digest(rows, columns)


# --- what the refresh records ---------------------------------------------------------------

VERSION = 2
DIGEST_KEY = "empreinte_tables"
DIGEST_VERSION_KEY = "empreinte_version"
"""Absent: version 1 (``repr`` of the rows, :func:`oncosecours.store.ledger.snapshot_digest`),
recorded before this module; a register keeps it until its next refresh."""


def shapes_to_model(conn: sqlite3.Connection, tables: Sequence[str]) -> dict[str, Any]:
    """The shapes of the tables whose digest the refresh computes from its columns.

    On SQLite, every table: rows are read back in rowid order, the order they were inserted
    in. On PostgreSQL, the tables keyed by one integer: rows are read back in key order, the
    order the refresh writes them in (a text key sorts by the server's collation: read back);
    its bigint, double precision and text columns keep what the modelled cases bind as SQLite's
    INTEGER, REAL and TEXT do (integral reals copied as integers, NaN as null)."""
    from oncosecours.store.engines import on_server

    shapes = {}
    for table in tables:
        if table == history_pack.TABLE:  # its rows, read back in row number order
            shapes[table] = history_pack.SHAPE
            continue
        columns = _columns(conn, table)
        keys = [where for _, where, _, key in columns if key]
        if on_server(conn) and keys != ["INTEGER"]:
            continue
        shapes[table] = [(name, where, default) for name, where, default, _ in columns]
    return shapes


def recorded(conn: sqlite3.Connection, known: dict[str, str | None]) -> dict[str, Any]:
    """What the refresh's audit event says of the snapshot it wrote: every table's digest (the
    ones computed from the columns bound, the others read back: ``snapshot_meta``, anything not
    modelled) and the digest's version."""
    tables = snapshot_tables(conn)
    return {
        DIGEST_KEY: {table: known.get(table) or read_back(conn, table) for table in tables},
        DIGEST_VERSION_KEY: VERSION,
    }


def digest_of(conn: sqlite3.Connection) -> dict[str, str]:
    """Every snapshot table's digest read back: what ``audit verify`` compares."""
    return {table: read_back(conn, table) for table in snapshot_tables(conn)}
