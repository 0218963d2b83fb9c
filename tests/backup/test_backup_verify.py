"""``oncosecours backup verify``: the copy and the snapshots open, pass integrity_check, have an
intact audit chain, and hold everything the main store held at their time."""

from __future__ import annotations

import os
import sqlite3
import time

from oncosecours.cli import main
from oncosecours.store import replica
from oncosecours.store.backup_check import inspect, verify_all

from .conftest import head, some_actions


def _verify(store_path, capsys) -> tuple[int, str]:
    code = main(["backup", "verify", "--store", str(store_path)])
    return code, capsys.readouterr().out


def test_everything_passes_after_a_day_of_actions(settings, second, conn, team, store_path, capsys):
    some_actions(conn, team, count=3)
    result = verify_all(None, store_path)
    assert result["ok"], result
    assert result["copie"].relation == "identique"
    assert len(result["instantanes"]) == 1 and result["instantanes"][0].checksum == "ok"
    code, out = _verify(store_path, capsys)
    assert code == 0 and "Vérification réussie." in out
    assert "OK     copie de secours" in out and "somme de contrôle ok" in out


def test_a_damaged_snapshot_fails_its_checksum(settings, second, conn, team, store_path, capsys):
    some_actions(conn, team, count=1)
    [(_day, snap)] = replica.target_for(None, store_path).snapshot_files()
    data = bytearray(snap.read_bytes())
    data[len(data) // 2] ^= 0xFF
    snap.write_bytes(bytes(data))
    code, out = _verify(store_path, capsys)
    assert code == 1 and "somme de contrôle SHA-256 différente" in out
    assert "VÉRIFICATION EN ÉCHEC" in out


def test_an_edited_copy_fails_its_audit_chain(settings, second, conn, team, store_path, capsys):
    some_actions(conn, team, count=2)
    copy = replica.target_for(None, store_path).replica
    raw = sqlite3.connect(copy)
    raw.execute("DROP TRIGGER audit_event_no_update")
    raw.execute("UPDATE audit_event SET after_json = '{}' WHERE seq = 3")
    raw.commit()
    raw.close()
    check = inspect(copy)
    assert not check.ok and "journal d'audit altéré" in check.problems[0]
    code, out = _verify(store_path, capsys)
    assert code == 1 and "événement n° 3 : contenu modifié" in out


def test_a_copy_that_is_not_a_database_fails(settings, second, conn, team, store_path):
    some_actions(conn, team, count=1)
    copy = replica.target_for(None, store_path).replica
    copy.write_bytes(b"pas une base" * 1000)
    check = inspect(copy)
    assert not check.ok and (
        "ne s'ouvre pas" in check.problems[0] or "illisible" in check.problems[0]
    )


def test_a_copy_behind_the_store_is_reported(configure, second, conn, team, store_path, capsys):
    configure(second)
    some_actions(conn, team, count=1)
    configure(None)  # the copy is switched off for two actions
    some_actions(conn, team, start=2, count=1)
    configure(second)
    missing = head(store_path)[0] - head(replica.target_for(None, store_path).replica)[0]
    assert missing > 0
    result = verify_all(None, store_path)
    assert not result["ok"]
    assert result["copie"].relation == "préfixe" and result["copie"].behind == missing
    assert f"en retard de {missing} événement(s)" in " ".join(result["copie"].problems)
    status = replica.replica_status(None, store_path)
    assert status["niveau"] == "alerte" and status["retard"] == missing


def test_a_store_that_lost_actions_is_reported_against_its_copy(
    settings, second, conn, team, store_path, tmp_path, capsys
):
    some_actions(conn, team, count=1)
    older = tmp_path / "ancienne.sqlite"
    conn.backup(sqlite3.connect(older))  # the store as it is now
    some_actions(conn, team, start=2, count=1)
    conn.close()
    for suffix in ("", "-wal", "-shm"):  # the store goes back in time behind our back
        try:
            os.remove(str(store_path) + suffix)
        except FileNotFoundError:
            pass
    older.rename(store_path)
    result = verify_all(None, store_path)
    assert not result["ok"] and result["copie"].relation == "en avance"
    assert "absent(s) de la base" in result["copie"].problems[0]


def test_a_snapshot_missing_an_action_done_before_it_is_reported(
    settings, second, conn, team, store_path
):
    some_actions(conn, team, count=1)
    [(_day, snap)] = replica.target_for(None, store_path).snapshot_files()
    some_actions(conn, team, start=2, count=1)
    assert verify_all(None, store_path)["ok"]
    later = time.time() + 3600  # as if written after those actions: then it misses them
    os.utime(snap, (later, later))
    result = verify_all(None, store_path)
    [check] = result["instantanes"]
    assert not check.ok and "incomplète" in check.problems[0]


def test_with_the_store_destroyed_the_snapshots_are_checked_against_the_copy(
    settings, second, conn, team, store_path, capsys
):
    some_actions(conn, team, count=2)
    conn.close()
    store_path.write_bytes(os.urandom(8192))
    result = verify_all(None, store_path)
    assert not result["base"].ok and result["copie"].ok
    assert all(s.ok and s.relation in ("identique", "préfixe") for s in result["instantanes"])
    assert any("backup restore --from" in r for r in result["remarques"])
    code, out = _verify(store_path, capsys)
    assert code == 1 and "ÉCHEC  base principale" in out
