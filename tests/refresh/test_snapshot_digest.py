"""The snapshot's digest (version 2) computed from the columns the refresh binds is the one
``audit verify`` reads back, on the real HEGP extracts, the synthetic set and the edge values;
where the binding cannot be modelled for sure, the table is read back instead."""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pytest

from oncosecours.refresh import model
from oncosecours.refresh.engine import load_backup
from oncosecours.services.refresh import _Rows, refresh_snapshot
from oncosecours.store import ledger
from oncosecours.store import snapshot_digest as digests
from oncosecours.store.engines import on_server
from oncosecours.store.integrity import verify_store

from .conftest import SYNTH_DATE


def _recorded(conn) -> dict:
    (after,) = conn.execute(
        "SELECT after_json FROM audit_event WHERE action = 'actualiser_sauvegarde' "
        "ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return json.loads(after)


@pytest.mark.parametrize("backup", ["hegp", "small_synth"])
def test_the_digest_computed_while_binding_is_the_one_read_back(request, conn, pharmacist, backup):
    folder = request.getfixturevalue(backup)
    refresh_snapshot(conn, pharmacist, folder, today=SYNTH_DATE)
    after = _recorded(conn)
    assert after["empreinte_version"] == 2
    assert after["empreinte_tables"] == digests.digest_of(conn)
    assert set(after["empreinte_tables"]) >= {t.sql for t in model.TABLES.values()}
    report = verify_store(conn)
    assert report.ok and not report.rows.notes, report.text()
    snapshot = load_backup(folder)
    shapes = digests.shapes_to_model(conn, [t.sql for t in model.TABLES.values()])
    # every table of these sets is modelled (on the server: those keyed by an integer)
    expected = {t.sql for t in model.TABLES.values()} - (
        {"ref_patients"} if on_server(conn) else set()
    )
    assert set(shapes) == expected
    for table in model.TABLES.values():
        if table.sql not in shapes:
            continue
        rows = _Rows(table, snapshot.tables[table.name], shapes[table.sql])
        assert rows.digest() is not None, table.sql  # computed, not read back
        assert rows.digest() == digests.read_back(conn, table.sql), table.sql


def _store(tmp_path, ddl: str) -> sqlite3.Connection:
    raw = sqlite3.connect(tmp_path / "bord.sqlite", isolation_level=None)
    raw.execute(ddl)
    return raw


def _bind(raw, names, sources, rows) -> None:
    columns = []
    for values, strings in sources:
        if values is None:
            columns.append([math.nan] * rows)
        elif strings is None:
            columns.append(values.tolist())
        else:
            columns.append(strings[values].tolist())
    marks = ", ".join("?" * len(names))
    raw.executemany(
        f"INSERT INTO t ({', '.join(names)}) VALUES ({marks})", zip(*columns, strict=True)
    )


def _dictionary(*values):
    strings = np.array([*values, math.nan], dtype=object)
    return strings


def test_edge_values_give_the_digest_sqlite_stores(tmp_path):
    raw = _store(
        tmp_path,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, r2 REAL, s TEXT, "
        "b INTEGER, e TEXT)",
    )
    texts = _dictionary("", "é€😀", "a\0b", "Chimio « test »", "x" * 5000)
    flags = _dictionary(True, False)
    sources = [
        (np.array([5, 1, 2, 3, 4, 0], dtype=np.int64), None),  # rowids, out of order
        (np.array([1.0, math.nan, -3.0, 2.0**52, 0.0, -0.0]), None),  # integral reals
        (np.array([-0.0, math.nan, 1.5, 1e300, math.inf, -math.inf]), None),
        (np.array([1, -2, 2**52, 0, 7, -(2**52)], dtype=np.int64), None),  # ints into REAL
        (np.array([0, 1, 2, 3, 4, 5]), texts),  # the last one is the null
        (np.array([0, 1, 2, 0, 1, 2]), flags),
        (None, None),  # a column bound as all null
    ]
    names = ["id", "i", "r", "r2", "s", "b", "e"]
    order = np.argsort(sources[0][0], kind="stable")
    ordered = [(v if v is None else v[order], s) for v, s in sources]
    _bind(raw, names, ordered, 6)
    shape = digests.table_shape(raw, "t")
    computed = digests.from_columns(shape, names, sources, 6, order)
    assert computed is not None
    assert computed == digests.read_back(raw, "t")
    # and it is a digest of the content: one value changed is another digest
    raw.execute("UPDATE t SET r = 1.25 WHERE id = 3")
    assert digests.read_back(raw, "t") != computed


@pytest.mark.parametrize(
    ("ddl", "source"),
    [
        ("i INTEGER", (np.array([1.5, 2.0]), None)),  # a real SQLite keeps as real
        ("i INTEGER", (np.array([0, 1]), _dictionary("12", "x"))),  # text it may convert
        ("r REAL", (np.array([2**53 + 1, 1], dtype=np.int64), None)),  # not exact as float
        ("s TEXT", (np.array([1, 2], dtype=np.int64), None)),  # SQLite formats it
    ],
    ids=["reel-non-entier", "texte-en-entier", "entier-inexact", "nombre-en-texte"],
)
def test_bindings_not_modelled_are_read_back(tmp_path, ddl, source):
    raw = _store(tmp_path, f"CREATE TABLE t ({ddl})")
    name = ddl.split()[0]
    _bind(raw, [name], [source], 2)
    # None: the refresh reads this table back (digests.recorded) instead of guessing
    assert digests.from_columns(digests.table_shape(raw, "t"), [name], [source], 2) is None


def test_a_column_left_to_a_default_is_not_guessed(tmp_path):
    raw = _store(tmp_path, "CREATE TABLE t (a INTEGER, d TEXT DEFAULT 'x')")
    source = (np.array([1, 2], dtype=np.int64), None)
    _bind(raw, ["a"], [source], 2)
    shape = digests.table_shape(raw, "t")
    assert digests.from_columns(shape, ["a"], [source], 2) is None
    raw.execute("CREATE TABLE u (a INTEGER, d TEXT)")  # no default: a null, computed
    raw.executemany("INSERT INTO u (a) VALUES (?)", [(1,), (2,)])
    computed = digests.from_columns(digests.table_shape(raw, "u"), ["a"], [source], 2)
    assert computed == digests.read_back(raw, "u")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # edits the file directly
def test_a_register_refreshed_before_version_2_is_still_verified(
    conn, pharmacist, small_synth, store_path, monkeypatch
):
    """A register whose last refresh recorded the version 1 digest (no ``empreinte_version``)
    is proven with version 1 until its next refresh."""
    monkeypatch.setattr(
        digests,
        "recorded",
        lambda conn, known: {"empreinte_tables": ledger.snapshot_digest(conn)},
    )
    refresh_snapshot(conn, pharmacist, small_synth, today=SYNTH_DATE)
    assert "empreinte_version" not in _recorded(conn)
    report = verify_store(conn)
    assert report.ok, report.text()
    raw = sqlite3.connect(store_path, isolation_level=None)
    raw.execute(  # one start date of the history changed
        "UPDATE ref_history_texts SET text = '1999-01-01' WHERE code = (SELECT min(code) FROM "
        "ref_history_texts WHERE text LIKE '20__-__-__')"
    )
    raw.close()
    text = verify_store(conn).text()
    assert "instantané de la sauvegarde Chimio, table ref_history : contenu différent" in text
