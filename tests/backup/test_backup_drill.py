"""The drill: a day of actions in a real process, the main store deleted or corrupted at random
moments (including in the middle of a write: inside an action's transaction, between its commit
and its copy, inside the copy), a restore from the second copy, and every action that was
acknowledged to the user found again.

Acknowledged = the service returned before the kill; the worker logs each acknowledgement to a
file (flushed to disk) right after the return. The audit chain is the ground truth: each
acknowledgement records the chain head (number and hash) the action left.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from oncosecours.store import audit, replica
from oncosecours.store.db import connect

from .conftest import content, head

WORKER = Path(__file__).with_name("drill_worker.py")
PIN = "4826"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A store after a refresh of a small synthetic Chimio backup, with its team."""
    from oncosecours.refresh import synth
    from oncosecours.services.refresh import refresh_snapshot
    from oncosecours.services.users import bootstrap_admin, create_user

    folder = tmp_path_factory.mktemp("modele")
    previous = os.environ.pop("ONCOSECOURS_SETTINGS", None)
    try:
        synth.generate(
            folder / "sauvegarde", "small", seed=3, backup_date=date.today() - timedelta(days=1)
        )
        conn = connect(folder / "modele.sqlite")
        admin = bootstrap_admin(conn, "ADM", "Administrateur", "7391")
        for initials, role in (
            ("DR1", "prescripteur"),
            ("PH1", "pharmacien"),
            ("IDE1", "infirmier"),
        ):
            create_user(conn, admin, initials, f"Équipe {initials}", role, PIN)
        refresh_snapshot(
            conn, create_user.__globals__["authenticate"](conn, "PH1", PIN), folder / "sauvegarde"
        )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    finally:
        if previous is not None:
            os.environ["ONCOSECOURS_SETTINGS"] = previous
    return folder / "modele.sqlite"


def _fresh_store(template: Path, folder: Path) -> Path:
    store = folder / "oncosecours.sqlite"
    src = sqlite3.connect(template)
    dst = sqlite3.connect(store)
    src.backup(dst)
    dst.close()
    src.close()
    return store


def _acks(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def _start(store: Path, ack: Path, seed: int, pause: str = "") -> subprocess.Popen:
    command = [sys.executable, str(WORKER), str(store), str(ack), str(seed)] + (
        [pause] if pause else []
    )
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "pret", child.stderr.read()
    return child


def _wait_acks(child: subprocess.Popen, ack: Path, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(_acks(ack)) < count:
        assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline, "le poste de travail n'avance plus"
        time.sleep(0.01)


def _kill(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait()


def _damage(store: Path, how: str, rng: random.Random) -> None:
    wal = Path(str(store) + "-wal")
    if how == "supprimer":
        for path in (store, wal, Path(str(store) + "-shm")):
            if path.exists():
                path.unlink()
    elif how == "corrompre":
        data = bytearray(store.read_bytes())
        pages = len(data) // 4096
        for page in rng.sample(range(pages), max(1, pages // 3)):
            data[page * 4096 : (page + 1) * 4096] = os.urandom(4096)
        data[100:4096] = os.urandom(3996)
        store.write_bytes(bytes(data))
        if wal.exists() and wal.stat().st_size:
            wal.write_bytes(os.urandom(wal.stat().st_size))
    elif how == "tronquer":
        with open(store, "r+b") as handle:
            handle.truncate(store.stat().st_size // 2)
        if wal.exists():
            wal.unlink()
    elif how == "perdre_wal":  # the last transactions of the main store are lost
        if wal.exists():
            wal.unlink()
    else:  # pragma: no cover
        raise AssertionError(how)


def _restore(store: Path, source: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "oncosecours", "backup", "restore", "--from", str(source)]
        + ["--store", str(store), "--user", "PH1"],
        env=dict(os.environ, ONCOSECOURS_PIN=PIN),
        capture_output=True,
        text=True,
    )


def _check_everything_acknowledged_is_there(store: Path, acks: list[dict]) -> None:
    conn = connect(store, create=False)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        report = audit.verify(conn)
        assert report.ok, report
        missing = []
        for ack in acks:
            row = conn.execute(
                "SELECT hash FROM audit_event WHERE seq = ?", (ack["seq"],)
            ).fetchone()
            if row is None or row[0] != ack["hash"]:
                missing.append(ack)
                continue
            if ack["kind"] == "patient":
                found = conn.execute(
                    "SELECT 1 FROM patients WHERE ipp = ?", (ack["key"],)
                ).fetchone()
            elif ack["kind"] == "note":
                found = conn.execute("SELECT 1 FROM notes WHERE id = ?", (ack["key"],)).fetchone()
            elif ack["kind"] == "prescription":
                found = conn.execute(
                    "SELECT 1 FROM prescriptions WHERE id = ?", (ack["key"],)
                ).fetchone()
            else:
                found = True
            if not found:
                missing.append(ack)
        assert not missing, f"actions acquittées perdues : {missing}"
    finally:
        conn.close()


def _work_goes_on(store: Path, second_copy: Path) -> None:
    from oncosecours.services.notes import add_note
    from oncosecours.services.users import authenticate

    conn = connect(store, create=False)
    try:
        ipp = conn.execute("SELECT ipp FROM patients ORDER BY id DESC LIMIT 1").fetchone()
        if ipp:
            add_note(
                conn, authenticate(conn, "IDE1", PIN), "reprise après restauration", patient=ipp[0]
            )
    finally:
        conn.close()
    assert head(second_copy) == head(store)
    assert content(second_copy)["rows"] == content(store)["rows"]


SCENARIOS = [
    # (seed, where the worker is killed, how the main store is damaged)
    (1, "hasard", "supprimer"),
    (2, "hasard", "corrompre"),
    (3, "txn", "corrompre"),
    (4, "txn", "supprimer"),
    (5, "hook", "perdre_wal"),
    (6, "copy", "supprimer"),
    (7, "hasard", "tronquer"),
    (8, "copy", "corrompre"),
]


@pytest.mark.slow
@pytest.mark.parametrize("seed,where,how", SCENARIOS)
def test_drill_every_acknowledged_action_survives(template, tmp_path, configure, seed, where, how):
    rng = random.Random(seed)
    second = tmp_path / "cle-usb" / "OncoSecours"
    second.parent.mkdir()
    configure(second)
    store = _fresh_store(template, tmp_path)
    ack = tmp_path / "acquittements.jsonl"
    target = rng.randrange(8, 40)  # how far into the day the disaster strikes
    pause = f"{where}:{target}" if where != "hasard" else ""
    child = _start(store, ack, seed, pause)
    if pause:
        line = child.stdout.readline()
        while line and line.strip() != "pause":
            line = child.stdout.readline()
        assert line.strip() == "pause", child.stderr.read()
    else:
        _wait_acks(child, ack, target)
        time.sleep(rng.uniform(0, 0.05))
    _kill(child)
    acks = _acks(ack)
    assert len(acks) >= 5
    _damage(store, how, rng)

    copy = second / store.name
    done = _restore(store, copy)
    assert done.returncode == 0, done.stderr
    assert "Base restaurée depuis" in done.stdout
    _check_everything_acknowledged_is_there(store, acks)
    aside = [p for p in tmp_path.iterdir() if ".avant-restauration-" in p.name]
    assert aside or how == "supprimer"  # what was there is kept, never overwritten
    _work_goes_on(store, copy)


@pytest.mark.slow
def test_drill_with_the_medium_unplugged_then_back(template, tmp_path, configure):
    """Actions acknowledged while the key is out are copied when it comes back: a disaster after
    that loses none of them."""
    second = tmp_path / "cle-usb" / "OncoSecours"
    second.parent.mkdir()
    configure(second)
    store = _fresh_store(template, tmp_path)
    ack = tmp_path / "acquittements.jsonl"
    child = _start(store, ack, 11)
    _wait_acks(child, ack, 6)
    unplugged = tmp_path / "cle-usb-retiree"
    second.parent.rename(unplugged)  # the key is pulled out
    during = len(_acks(ack))
    _wait_acks(child, ack, during + 8)
    assert replica.replica_status(None, store)["niveau"] == "alerte"
    unplugged.rename(second.parent)  # and plugged back
    _wait_acks(child, ack, len(_acks(ack)) + 4)
    _kill(child)
    acks = _acks(ack)
    _damage(store, "supprimer", random.Random(0))
    done = _restore(store, second / store.name)
    assert done.returncode == 0, done.stderr
    _check_everything_acknowledged_is_there(store, acks)
    assert len(acks) > during + 8


@pytest.mark.slow
def test_drill_restore_from_the_last_snapshot_when_the_copy_is_lost_too(
    template, tmp_path, configure
):
    """Both the store and the live copy are gone: the day's snapshot still restores a working
    store holding everything acknowledged before it was written."""
    second = tmp_path / "cle-usb" / "OncoSecours"
    second.parent.mkdir()
    configure(second)
    store = _fresh_store(template, tmp_path)
    ack = tmp_path / "acquittements.jsonl"
    child = _start(store, ack, 12)
    _wait_acks(child, ack, 10)
    _kill(child)
    acks = _acks(ack)
    snapshots = replica.target_for(None, store).snapshot_files()
    assert snapshots
    snap = snapshots[-1][1]
    snap_seq = head(snap)[0]
    _damage(store, "supprimer", random.Random(0))
    (second / store.name).unlink()
    done = _restore(store, snap)
    assert done.returncode == 0, done.stderr
    _check_everything_acknowledged_is_there(store, [a for a in acks if a["seq"] <= snap_seq])
    shutil.rmtree(tmp_path / "cle-usb", ignore_errors=True)
