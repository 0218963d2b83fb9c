"""Real processes on one store file: concurrent preparations, and SIGKILL during the circuit."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from production_fixtures import (
    PATIENTS,
    at,
    lines_of,
    load_snapshot,
    lots_for,
    prescribe_and_validate,
)

from oncosecours.services.go_ahead import give_go_ahead
from oncosecours.services.preparation_plan import preview
from oncosecours.store import audit
from oncosecours.store.db import connect
from oncosecours.store.ordonnancier import check_sequence

WORKER = Path(__file__).with_name("production_worker.py")


def _folfox_day(conn, team, patients: int, go_ahead: bool = True) -> list[int]:
    """``patients`` FOLFOX patients validated (with the go-ahead); returns their cure ids."""
    load_snapshot(conn)
    template = PATIENTS[0]
    cures = []
    for n in range(patients):
        row = (
            f"p{n}",
            1,
            f"PATIENT{chr(65 + n)}",
            "Test",
            f"196{n % 10}-01-15",
            "F",
            f"91{n:05d}",
            60.0 + n,
            165.0,
            70.0,
        )
        assert len(row) == len(template)
        cure = prescribe_and_validate(conn, team, row)
        if go_ahead:
            give_go_ahead(conn, team["DR1"], cure, now=at(8))
        cures.append(cure)
    return cures


def _wait_for(paths, timeout=90.0):
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        if time.monotonic() > deadline:
            raise AssertionError("workers did not start in time")
        time.sleep(0.01)


@pytest.mark.slow
def test_eight_processes_preparing_at_once_get_consecutive_numbers(
    conn, team, store_path, tmp_path
):
    cures = _folfox_day(conn, team, 5)
    lines = [line for cure in cures for line in lines_of(conn, cure)]
    assert len(lines) == 10
    jobs = []
    for i, line in enumerate(lines):
        lots = lots_for(preview(conn, line["id"], now=at(9)))
        doomed = i in (3, 7)  # two preparations refused inside their transaction (expired lot)
        if doomed:
            lots[0]["expiry"] = "2026-01-31"
        jobs.append((line["id"], lots, doomed))
    go = tmp_path / "go"
    procs, readies, outs = [], [], []
    for i, (line_id, lots, _) in enumerate(jobs):
        ready, out = tmp_path / f"ready{i}", tmp_path / f"out{i}.json"
        readies.append(ready)
        outs.append(out)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    "prepare",
                    str(store_path),
                    str(line_id),
                    json.dumps(lots),
                    at(9).isoformat(),
                    str(ready),
                    str(go),
                    str(out),
                ]
            )
        )
    try:
        _wait_for(readies)
        go.touch()
        for proc in procs:
            assert proc.wait(timeout=120) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    results = [json.loads(out.read_text(encoding="utf-8")) for out in outs]
    for (_, _, doomed), result in zip(jobs, results, strict=True):
        assert result["ok"] != doomed, result
        if doomed:
            assert "LOT_PERIME" in result["error"]
    numbers = sorted(r["number"] for r in results if r["ok"])
    assert numbers == [f"2026-{n:06d}" for n in range(1, 9)]
    fresh = connect(store_path)
    by_id = [r[0] for r in fresh.execute("SELECT ord_seq FROM preparations ORDER BY id")]
    assert by_id == list(range(1, 9))  # chronological: numbers follow commit order
    assert check_sequence(fresh).ok
    assert audit.verify(fresh).ok
    assert (
        fresh.execute("SELECT count(*) FROM audit_event WHERE action = 'préparer'").fetchone()[0]
        == 8
    )


def _invariants(store_path) -> dict[str, int]:
    """What must hold after any kill: readable, chain intact, register gapless, no half action."""
    conn = connect(store_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert audit.verify(conn).ok
        report = check_sequence(conn)
        assert report.ok, report.problems
        events = dict(
            conn.execute("SELECT action, count(*) FROM audit_event GROUP BY action").fetchall()
        )
        counts = {
            "donner_feu_vert": "SELECT count(*) FROM go_aheads WHERE decision = 'given'",
            "préparer": "SELECT count(*) FROM preparations",
            "saisir_lots": "SELECT count(DISTINCT preparation_id) FROM preparation_lots",
            "contrôler": "SELECT count(*) FROM preparation_controls",
            "libérer": "SELECT count(*) FROM preparation_releases WHERE decision = 'released'",
            "dispenser": "SELECT count(*) FROM dispensations",
            "administrer": "SELECT count(*) FROM administrations",
        }
        for name, sql in counts.items():
            assert events.get(name, 0) == conn.execute(sql).fetchone()[0], name
        needs = {
            "controlled": ["preparation_controls"],
            "released": ["preparation_controls", "preparation_releases"],
            "dispensed": ["preparation_releases", "dispensations"],
            "administered": ["dispensations", "administrations"],
        }
        for prep_id, state in conn.execute("SELECT id, state FROM preparations"):
            for table in needs.get(state, []):
                found = conn.execute(
                    f"SELECT count(*) FROM {table} WHERE preparation_id = ?", (prep_id,)
                ).fetchone()[0]
                assert found == 1, (prep_id, state, table)
        return events
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_during_the_circuit_leaves_a_consistent_store(conn, team, store_path):
    cures = _folfox_day(conn, team, 8, go_ahead=False)
    conn.close()
    rng = random.Random(20260302)
    kills = 0
    for _round in range(60):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "circuit", str(store_path), at(9).isoformat()],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready"
        # let a random number of actions commit, then kill during the next one
        output = [proc.stdout.readline() for _ in range(rng.randint(2, 12))]
        time.sleep(rng.uniform(0.0, 0.004))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        rest, _ = proc.communicate(timeout=60)
        _invariants(store_path)
        if "done" in "".join(output) + rest:
            break
    else:
        pytest.fail("the circuit never finished")
    assert kills >= 3
    events = _invariants(store_path)
    assert events["donner_feu_vert"] == len(cures)
    final = connect(store_path)
    states = [r[0] for r in final.execute("SELECT state FROM preparations")]
    assert states == ["administered"] * 2 * len(cures)
    assert events["préparer"] == 2 * len(cures)
    assert final.execute("SELECT count(*) FROM administrations").fetchone()[0] == 3 * len(cures)
