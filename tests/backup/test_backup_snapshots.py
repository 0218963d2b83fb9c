"""Daily snapshots: dated, with a SHA-256 checksum beside each, rotated by the setting; a large
store's snapshot is written by a detached process."""

from __future__ import annotations

import hashlib
import time
from datetime import date, timedelta

from oncosecours.store import replica

from .conftest import content, head, some_actions

DAY = date.today() + timedelta(days=10)  # after the snapshot the actions themselves write


def _target(store_path):
    return replica.target_for(None, store_path)


def test_first_action_of_the_day_writes_a_dated_snapshot_with_its_checksum(
    settings, second, conn, team, store_path
):
    some_actions(conn, team, count=1)
    snapshots = _target(store_path).snapshot_files()
    assert [d for d, _p in snapshots] == [date.today()]
    path = snapshots[0][1]
    assert path.name == f"{store_path.stem}-{date.today().isoformat()}{store_path.suffix}"
    digest, name = path.with_name(path.name + ".sha256").read_text(encoding="utf-8").split()
    assert name == path.name and digest == hashlib.sha256(path.read_bytes()).hexdigest()
    some_actions(conn, team, start=3, count=2)  # same day: no second snapshot
    assert len(_target(store_path).snapshot_files()) == 1
    ro = replica.open_readonly(path)  # a snapshot is a store that opens on its own
    assert ro.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ro.close()


def test_snapshots_are_rotated_by_the_setting(configure, second, conn, team, store_path):
    configure(second, keep=3)
    target = _target(store_path)
    for offset in range(6):
        some_actions(conn, team, start=offset, count=1)
        result = replica.replicate(conn, target, today=DAY + timedelta(days=offset))
        assert result["ok"], result
    days = [d for d, _p in target.snapshot_files()]
    assert days == [DAY + timedelta(days=n) for n in (3, 4, 5)]
    kept = sorted(p.name for p in target.snapshots.iterdir())
    assert len([n for n in kept if n.endswith(".sha256")]) == len(days) == 3
    # each kept snapshot is the store as it was on its day: its head is in the store's chain
    for _day, path in target.snapshot_files():
        seq, digest = head(path)
        assert (
            conn.execute("SELECT hash FROM audit_event WHERE seq = ?", (seq,)).fetchone()[0]
            == digest
        )


def test_a_large_store_snapshot_is_written_by_a_detached_process(
    settings, second, conn, team, store_path, monkeypatch
):
    from oncosecours.services.notes import add_note

    [ipp] = some_actions(conn, team, count=1)
    target = _target(store_path)
    for _day, path in target.snapshot_files():  # start the day again
        path.unlink()
        path.with_name(path.name + ".sha256").unlink()
    monkeypatch.setattr(replica.sync, "SNAPSHOT_INLINE_MAX_BYTES", 0)
    # ONE commit, observed right after it: a later commit could find the detached process still
    # holding its lock and rightly start no other (its result has no « instantane_en_cours »)
    add_note(conn, team["DR"], "première action après le changement de jour", patient=ipp)
    pid = replica.sync.last_result.get("instantane_en_cours")
    assert isinstance(pid, int)  # not written inline: a detached process was started
    path = target.snapshot_path(date.today())
    deadline = time.monotonic() + 120
    while not (path.exists() and path.with_name(path.name + ".sha256").exists()):
        assert time.monotonic() < deadline, "l'instantané en arrière-plan n'est jamais arrivé"
        time.sleep(0.1)
    digest = path.with_name(path.name + ".sha256").read_text(encoding="utf-8").split()[0]
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    snap = content(path)
    assert snap["schema"] == content(store_path)["schema"] and snap["rows"]["patients"]


def test_backup_now_writes_the_missing_snapshot_itself(settings, second, conn, team, store_path):
    from oncosecours.cli import main

    some_actions(conn, team, count=1)
    target = _target(store_path)
    for _day, path in target.snapshot_files():
        path.unlink()
    assert main(["backup", "now", "--store", str(store_path)]) == 0
    assert [d for d, _p in target.snapshot_files()] == [date.today()]
    assert head(target.replica) == head(store_path)


def test_the_status_says_when_the_day_has_no_snapshot(settings, second, conn, team, store_path):
    some_actions(conn, team, count=1)
    assert "pas d'instantané" not in replica.replica_status(None, store_path)["message"]
    for _day, path in _target(store_path).snapshot_files():
        path.unlink()
    status = replica.replica_status(None, store_path)
    assert status["niveau"] == "attention" and "pas d'instantané du" in status["message"]
