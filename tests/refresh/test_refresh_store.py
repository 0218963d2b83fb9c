"""The refresh in the store: one audited transaction, readers see the old snapshot until the
commit, crisis data never touched, a failure half-way writes nothing."""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.refresh.model import TABLES
from oncosecours.services.refresh import refresh_snapshot
from oncosecours.store import audit, history_pack

SNAPSHOT_TABLES = {t.sql for t in TABLES.values()} | {"snapshot_meta"}


def _crisis_dump(path) -> list[str]:
    """Every row of every table that is not the snapshot nor the audit trail."""
    raw = sqlite3.connect(path)
    tables = [
        name
        for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if name not in SNAPSHOT_TABLES and not name.startswith(("audit_", "sqlite_", "ref_"))
    ]
    rows = [f"{t}: {r}" for t in sorted(tables) for r in raw.execute(f"SELECT * FROM {t}")]
    raw.close()
    return rows


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # reads the file with sqlite3
def test_refresh_fills_every_table_and_records_meta_and_audit(conn, pharmacist, hegp):
    result = refresh_snapshot(conn, pharmacist, hegp, today=date(2023, 9, 8))
    counts = {name: conn.execute(f"SELECT count(*) FROM {t.sql}").fetchone()[0]
              for name, t in TABLES.items() if name != "history"}  # fmt: skip
    counts["history"] = history_pack.row_count(conn)
    assert counts == result["tables"] == {
        "molecules": 8, "products": 42, "protocols": 5, "protocol_lines": 53, "patients": 5,
        "history": 493,
    }  # fmt: skip
    assert result["backup_date"] == "2023-09-07" and not result["stale"]
    meta = dict(conn.execute("SELECT * FROM snapshot_meta").fetchone())
    assert meta["backup_date"] == "2023-09-07"
    assert json.loads(meta["counts_json"]) == result["tables"]
    assert json.loads(meta["warnings_json"]) == result["warnings"]
    assert meta["actor"] == "PH1" and len(meta["content_sha256"]) == 64
    assert set(json.loads(meta["queries_json"])) == {
        "molecules.toml", "products.toml", "protocols.toml", "patients.toml", "history.toml",
    }  # fmt: skip
    event = conn.execute(
        "SELECT * FROM audit_event WHERE action = 'actualiser_sauvegarde'"
    ).fetchone()
    assert event["user_initials"] == "PH1" and event["entity_id"] == "2023-09-07"
    assert json.loads(event["after_json"])["lignes"]["history"] == 493
    assert audit.verify(conn).ok
    # typed values as stored
    row = conn.execute(
        "SELECT unit, days_json, duration_min, typeof(dose) FROM ref_protocol_lines "
        "WHERE line_id = 18629"
    ).fetchone()
    assert tuple(row) == ("mg", "[1, 15]", 15, "real")
    assert (
        conn.execute(
            "SELECT diluents_json FROM ref_molecules WHERE name = 'Oxaliplatine'"
        ).fetchone()[0]
        == '["Glucose 5 %"]'
    )
    assert (
        conn.execute(
            "SELECT count(*) FROM ref_protocol_lines WHERE molecule_id IS NULL"
        ).fetchone()[0]
        == 35
    )  # DCCLEUNIK -1 in the extract


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # reads the file with sqlite3
def test_refresh_replaces_the_snapshot_and_keeps_crisis_data(
    conn, pharmacist, hegp, small_synth, store_path
):
    refresh_snapshot(conn, pharmacist, hegp)
    conn.execute("BEGIN IMMEDIATE")  # crisis data keeps natural keys and copies, no FK
    conn.execute("CREATE TABLE crisis_note (id INTEGER PRIMARY KEY, molecule_id INTEGER, "
                 "molecule_name TEXT, text TEXT)")  # fmt: skip
    conn.execute("INSERT INTO crisis_note VALUES (1, 31, 'Oxaliplatine', 'G5 % seulement')")
    conn.execute("COMMIT")
    before = _crisis_dump(store_path)
    assert "crisis_note: (1, 31, 'Oxaliplatine', 'G5 % seulement')" in before
    result = refresh_snapshot(conn, pharmacist, small_synth)
    assert result["tables"]["patients"] == 300
    assert conn.execute("SELECT count(*) FROM ref_patients").fetchone()[0] == 300
    assert not conn.execute("SELECT 1 FROM ref_molecules WHERE molecule_id = 31 AND "
                            "name = 'Oxaliplatine'").fetchone()  # fmt: skip
    assert _crisis_dump(store_path) == before
    assert audit.verify(conn).ok
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "ref_protocol_lines_protocol" in indexes


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # a second sqlite3 reader of the file
def test_readers_see_the_old_snapshot_until_the_commit(conn, pharmacist, hegp, small_synth,
                                                       store_path):  # fmt: skip
    refresh_snapshot(conn, pharmacist, hegp)
    seen = []

    def watch(message: str) -> None:
        if message.startswith("Validation"):  # inside the transaction, all rows written
            reader = sqlite3.connect(store_path)
            seen.append(reader.execute("SELECT count(*) FROM ref_patients").fetchone()[0])
            seen.append(reader.execute("SELECT backup_date FROM snapshot_meta").fetchone()[0])
            reader.close()

    refresh_snapshot(conn, pharmacist, small_synth, progress=watch)
    assert seen == [5, "2023-09-07"]
    assert conn.execute("SELECT count(*) FROM ref_patients").fetchone()[0] == 300


def test_failure_while_writing_leaves_the_store_as_it_was(
    conn, pharmacist, hegp, small_synth, store_path, fingerprint, monkeypatch
):
    import oncosecours.services.refresh as service

    refresh_snapshot(conn, pharmacist, hegp)
    before = fingerprint(store_path)
    calls = []
    original = service._insert

    def failing(conn_, table, *rest):
        calls.append(table.name)
        if table.name == "protocol_lines":
            raise sqlite3.OperationalError("disque plein (simulé)")
        return original(conn_, table, *rest)

    monkeypatch.setattr(service, "_insert", failing)
    with pytest.raises(sqlite3.OperationalError):
        refresh_snapshot(conn, pharmacist, small_synth)
    assert calls[-1] == "protocol_lines" and "molecules" in calls
    assert fingerprint(store_path) == before


def test_only_pharmacists_and_administrators_refresh(conn, admin, hegp, store_path, fingerprint):
    from oncosecours.services.users import authenticate, create_user

    create_user(conn, admin, "IDE", "Infirmière", "infirmier", "8264")
    nurse = authenticate(conn, "IDE", "8264")
    before = fingerprint(store_path)
    with pytest.raises(OncoError, match="ROLE"):
        refresh_snapshot(conn, nurse, hegp)
    assert fingerprint(store_path) == before
    assert refresh_snapshot(conn, admin, hegp)["tables"]["patients"] == 5


def test_stale_backup_is_the_first_warning(conn, pharmacist, hegp):
    result = refresh_snapshot(conn, pharmacist, hegp, today=date(2023, 9, 20))
    assert result["stale"] and result["age_days"] == 13
    assert result["warnings"][0].startswith("SAUVEGARDE ANCIENNE : Chimio du 07/09/2023")
