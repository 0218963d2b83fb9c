"""The history stored in packed blocks (store/history_pack.py) is, row for row and value for
value, the table of one row per history line it replaces: on the real HEGP extracts, on the
synthetic backup, on edge values, through the migration of a register made before it; and a
block changed outside OncoSecours is refused in French and named by audit verify."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import zlib
from datetime import date

import pytest

from older_store import older_store
from oncosecours.domain.errors import OncoError
from oncosecours.refresh.engine import load_backup
from oncosecours.services.refresh import refresh_snapshot
from oncosecours.store import db, history_pack, history_write, ledger
from oncosecours.store import snapshot_digest as digests
from oncosecours.store.integrity import verify_store

OLD_TABLE = re.search(
    r"CREATE TABLE ref_history \(.*?\n\);",
    (db.MIGRATIONS / "0002_snapshot.sql").read_text(encoding="utf-8"),
    re.S,
).group(0)
"""The table of one row per history line, as migrations 0002 to 0010 made it."""


def _rows_table(rows: list[dict], name: str = "ref_history") -> sqlite3.Connection:
    """An in-memory SQLite table of the earlier shape holding these rows (SQLite's own
    affinity rules applied to the values), the reference the packed storage must equal."""
    raw = sqlite3.connect(":memory:")
    raw.execute(OLD_TABLE.replace("ref_history", name, 1))
    names = list(history_pack.NAMES)
    raw.executemany(
        f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [[row.get(n) for n in names] for row in rows],
    )
    return raw


def _frame_rows(folder) -> list[dict]:
    """The history rows of a backup as the refresh reads them (Python values, None for null)."""
    frame = load_backup(folder).tables["history"]
    out = []
    for record in frame.astype(object).to_dict("records"):
        out.append({k: (None if v is None or v != v else v) for k, v in record.items()})
    return out


def _assert_same_rows(conn, reference: sqlite3.Connection) -> None:
    """Every row, and each patient's rows, as the reference table gives them."""
    cursor = reference.execute("SELECT * FROM ref_history ORDER BY row_id")
    expected = [tuple(r) for r in cursor]
    count, columns = history_pack.columns(conn)
    found = list(zip(*columns, strict=True)) if count else []
    assert [tuple(map(type, r)) for r in found] == [tuple(map(type, r)) for r in expected]
    assert found == expected
    names = [d[0] for d in cursor.description]
    for (patient,) in reference.execute("SELECT DISTINCT patient_id FROM ref_history"):
        wanted = [
            dict(zip(names, r, strict=True))
            for r in reference.execute(
                "SELECT * FROM ref_history WHERE patient_id = ? ORDER BY start_date, row_id",
                (patient,),
            )
        ]
        assert history_pack.patient_rows(conn, patient) == wanted
    # the digest of the rows is the one of the table (both versions of the proof)
    assert digests.read_back(conn, "ref_history") == digests.read_back_rows(
        reference, "ref_history"
    )
    v1 = hashlib.sha256()
    for record in expected:
        v1.update(repr(record).encode("utf-8") + b"\n")
    assert ledger.snapshot_digest(conn)["ref_history"] == v1.hexdigest()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("backup", ["hegp", "small_synth"])
def test_a_refreshed_history_is_the_table_it_replaces_row_for_row(
    conn, pharmacist, backup, request
):
    folder = request.getfixturevalue(backup)
    rows = _frame_rows(folder)
    refresh_snapshot(conn, pharmacist, folder, today=date(2026, 3, 3))
    reference = _rows_table(rows)
    assert history_pack.row_count(conn) == len(rows) > 400
    _assert_same_rows(conn, reference)
    # the digest recorded by the refresh (computed from the columns, never read back) is the
    # table's, and verify proves it
    recorded = conn.execute(
        "SELECT after_json FROM audit_event WHERE action = 'actualiser_sauvegarde' "
        "ORDER BY seq DESC LIMIT 1"
    ).fetchone()[0]
    assert digests.read_back_rows(reference, "ref_history") in recorded
    assert verify_store(conn).ok


def _edge_rows(nul: str) -> list[dict]:
    long_text = "x" * 5000
    rows = [
        {"row_id": 1, "patient_id": "P2", "start_date": "2026-01-05", "value": 1e300,
         "molecule_id": 2**40, "concept": "é😀", "dose_prescribed": 0.1, "cycle": -3},
        {"row_id": 2, "patient_id": "P1", "start_date": "2026-01-01", "value": -0.0,
         "concept": "", "protocol_name": f"a{nul}b \"q\" 'r'", "dose_prescribed": 3,
         "weight_kg": 2.5, "unit_code": 2**62},
        {"row_id": 9, "patient_id": "P2", "start_date": "2025-12-31", "value": 2.5,
         "concept": long_text, "dose_prescribed": 1 / 3, "height_cm": 170.0},
        # P1 again after P2: a patient's rows need not be together in the backup
        {"row_id": 4, "patient_id": "P1", "start_date": "2026-01-01", "value": 3,
         "localisation": "SEIN", "bsa_dubois": 1.73, "duration_min": 0},
        {"row_id": 5, "patient_id": "P3", "start_date": "2026-02-01"},
    ]  # fmt: skip
    # a patient with more rows than a block holds
    rows += [
        {"row_id": 100 + i, "patient_id": "P4", "start_date": f"2026-03-{1 + i % 28:02d}",
         "value": float(i), "cycle": i % 7, "reduction_pct": None if i % 3 else 25.0}
        for i in range(history_write.BLOCK_ROWS * 2 + 17)
    ]  # fmt: skip
    rows.append({"row_id": 7, "patient_id": "P5", "start_date": "2026-04-01"})  # next block
    return rows


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_edge_values_come_back_as_sqlite_stored_them(conn, engine):
    rows = _edge_rows("\x00" if engine == "sqlite" else "")  # no NUL in a PostgreSQL text
    with db.plain_transaction(conn):
        history_write.replace(conn, rows)
    _assert_same_rows(conn, _rows_table(rows))
    p4 = history_pack.patient_rows(conn, "P4")
    assert len(p4) == history_write.BLOCK_ROWS * 2 + 17
    # a patient is never split: P4 fills the first block past its size, P5 opens the second
    assert conn.execute("SELECT count(*) FROM ref_history").fetchone()[0] == 2
    assert history_pack.patient_rows(conn, "P9") == []
    with db.plain_transaction(conn):
        history_write.replace(conn, [])
    assert history_pack.row_count(conn) == 0 and history_pack.columns(conn) == (
        0,
        [[] for _ in history_pack.NAMES],
    )


def _tamper_block(raw: sqlite3.Connection, change) -> None:
    blob = raw.execute("SELECT rows FROM ref_history WHERE id = 1").fetchone()[0]
    data = bytearray(zlib.decompress(blob))
    change(data)
    raw.execute("UPDATE ref_history SET rows = ? WHERE id = 1", (zlib.compress(bytes(data)),))


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # edits the file directly
@pytest.mark.parametrize(
    "edit,why",
    [
        (
            lambda raw: raw.execute("UPDATE ref_history SET rows = x'00112233' WHERE id = 1"),
            "illisible",
        ),
        (
            lambda raw: _tamper_block(raw, lambda d: d.__setitem__(-1, d[-1] ^ 0x01)),
            "contenu différent",
        ),
        (
            lambda raw: raw.execute(
                "UPDATE ref_history_patients SET first_row = first_row + 1 "
                "WHERE patient_id = '1111111111'"
            ),
            "contenu différent",
        ),
    ],  # fmt: skip
)
def test_a_block_changed_outside_is_named_by_verify(conn, pharmacist, hegp, store_path, edit,
                                                    why):  # fmt: skip
    refresh_snapshot(conn, pharmacist, hegp, today=date(2023, 9, 8))
    assert verify_store(conn).ok
    raw = sqlite3.connect(store_path, isolation_level=None)
    edit(raw)
    raw.close()
    report = verify_store(conn)
    assert not report.ok
    assert "table ref_history : contenu différent" in report.text()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # edits the file directly
def test_an_unreadable_block_is_a_french_refusal_not_a_traceback(conn, pharmacist, hegp,
                                                                 store_path):  # fmt: skip
    refresh_snapshot(conn, pharmacist, hegp, today=date(2023, 9, 8))
    raw = sqlite3.connect(store_path, isolation_level=None)
    raw.execute("UPDATE ref_history SET rows = x'00112233'")
    raw.close()
    with pytest.raises(OncoError) as refused:
        history_pack.patient_rows(conn, "1111111111")
    assert refused.value.rule == "HISTORIQUE_ILLISIBLE"
    assert "Historique de la sauvegarde illisible pour le patient 1111111111" in str(refused.value)


def test_a_register_with_the_row_table_is_migrated_row_for_row(tmp_path, small_synth, hegp):
    """A register made before the packed storage (schema 10) keeps every history row, and the
    digest its last refresh recorded still proves them."""
    rows = _frame_rows(hegp) + _frame_rows(small_synth)
    store_path = tmp_path / "oncosecours.sqlite"
    raw = older_store(store_path, below=db.HISTORY_PACKED_VERSION)
    names = list(history_pack.NAMES)
    raw.executemany(
        f"INSERT INTO ref_history ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [[row.get(n) for n in names] for row in rows],
    )
    before = digests.read_back_rows(raw, "ref_history")  # what its last refresh recorded
    raw.close()
    reference = _rows_table(rows)

    conn = db.connect(store_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.schema_version()
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "ref_history_v10" not in tables
    assert history_pack.row_count(conn) == len(rows)
    _assert_same_rows(conn, reference)
    assert digests.read_back(conn, "ref_history") == before
    conn.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"], indirect=True)
def test_a_register_opened_by_the_new_version_is_converted_on_either_engine(
    engine, store_path, hegp, monkeypatch
):
    """The register (a file, or the unit's server) at schema 10 with its history rows: the
    first connect of this version converts them, row for row, digest unchanged."""
    rows = _frame_rows(hegp)
    every = db._migration_files()
    monkeypatch.setattr(
        db, "_migration_files", lambda: [m for m in every if m[0] < db.HISTORY_PACKED_VERSION]
    )
    conn = db.connect(store_path)  # made by the previous version
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 10
    names = list(history_pack.NAMES)
    with db.plain_transaction(conn):
        conn.executemany(
            f"INSERT INTO ref_history ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [[row.get(n) for n in names] for row in rows],
        )
    before = digests.read_back_rows(conn, "ref_history")
    conn.close()

    monkeypatch.setattr(db, "_migration_files", lambda: every)
    conn = db.connect(store_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.schema_version()
    assert history_pack.row_count(conn) == len(rows) == 493
    _assert_same_rows(conn, _rows_table(rows))
    assert digests.read_back(conn, "ref_history") == before
    conn.close()


def test_a_history_that_cannot_be_converted_is_refused_in_french_and_left_as_it_was(tmp_path):
    store_path = tmp_path / "oncosecours.sqlite"
    raw = older_store(store_path, below=db.HISTORY_PACKED_VERSION)
    raw.execute(  # a text where a number belongs: SQLite kept it, the packed records cannot
        "INSERT INTO ref_history (row_id, patient_id, start_date, cycle) "
        "VALUES (1, 'P1', '2026-01-01', 'deux')"
    )
    raw.close()
    with pytest.raises(OncoError) as refused:
        db.connect(store_path)
    assert refused.value.rule == "HISTORIQUE_NON_CONVERTI"
    assert "cycle: nombre attendu" in str(refused.value)
    raw = sqlite3.connect(store_path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == db.HISTORY_PACKED_VERSION - 1
    assert raw.execute("SELECT cycle FROM ref_history").fetchall() == [("deux",)]
    raw.close()
