"""Several workstations at once on the unit's server: real processes, each with its own
connection, drawing ordonnancier numbers at the same moment (no mock)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from production_fixtures import at, lines_of, load_snapshot, prescribe_and_validate

from oncosecours.services.go_ahead import give_go_ahead
from oncosecours.store import audit
from oncosecours.store.db import connect
from oncosecours.store.ordonnancier import check_sequence

WORKER = Path(__file__).with_name("workstation_worker.py")


def _lines(conn, team, patients: int) -> list[int]:
    """The preparable lines of ``patients`` FOLFOX patients, validated, go-ahead given."""
    load_snapshot(conn)
    lines = []
    for n in range(patients):
        letters = "".join(chr(65 + int(d)) for d in f"{n:04d}")  # a name holds no digit
        row = (f"p{n}", 1, f"POSTE{letters}", "Test", f"19{50 + n % 40}-01-15", "F",
               f"92{n:05d}", 55.0 + n % 30, 165.0, 70.0)  # fmt: skip
        cure = prescribe_and_validate(conn, team, row)
        give_go_ahead(conn, team["DR1"], cure, now=at(8))
        lines += [line["id"] for line in lines_of(conn, cure)]
    return lines


def _run_workstations(store_path, tmp_path, batches: list[list[int]]) -> list[dict]:
    go = tmp_path / "go"
    procs, readies, outs = [], [], []
    for i, batch in enumerate(batches):
        ready, out = tmp_path / f"ready{i}", tmp_path / f"out{i}.json"
        readies.append(ready)
        outs.append(out)
        procs.append(subprocess.Popen([sys.executable, str(WORKER), str(store_path),
                                       at(9).isoformat(), str(ready), str(go), str(out),
                                       json.dumps(batch)]))  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not all(r.exists() for r in readies):
            assert time.monotonic() < deadline, "workstations did not start"
            assert all(p.poll() is None for p in procs), "a workstation died at start"
            time.sleep(0.01)
        go.touch()
        for proc in procs:
            assert proc.wait(timeout=900) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return [json.loads(out.read_text(encoding="utf-8")) for out in outs]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)  # the several-PC mode
def test_eight_workstations_two_hundred_preparations_each_gapless(
    conn, team, store_path, tmp_path, engine
):
    """8 processes × 200 preparations at once: 1,600 distinct consecutive numbers, in commit
    order, one audit chain."""
    lines = _lines(conn, team, 800)
    assert len(lines) == 1600
    results = _run_workstations(store_path, tmp_path, [lines[i::8] for i in range(8)])
    assert [r["refused"] for r in results] == [[]] * 8
    drawn = [n for r in results for n in r["numbers"]]
    assert len(drawn) == len(set(drawn)) == 1600
    assert sorted(drawn) == [f"2026-{n:06d}" for n in range(1, 1601)]
    for result in results:  # each workstation's own numbers rise: drawn in commit order
        assert result["numbers"] == sorted(result["numbers"])
    fresh = connect(store_path)
    by_id = [r[0] for r in fresh.execute("SELECT ord_seq FROM preparations ORDER BY id")]
    assert by_id == list(range(1, 1601))
    assert check_sequence(fresh).ok
    assert audit.verify(fresh).ok
    fresh.close()


@pytest.mark.slow
def test_a_double_click_from_two_workstations_is_done_once(
    conn, team, store_path, tmp_path, engine
):
    """The same line prepared from two PCs at the same moment: one wins, the other is told it
    is already done; the register holds one bag."""
    line = _lines(conn, team, 1)[0]
    results = _run_workstations(store_path, tmp_path, [[line], [line]])
    numbers = [n for r in results for n in r["numbers"]]
    refused = [m for r in results for m in r["refused"]]
    assert numbers == ["2026-000001"]
    assert len(refused) == 1 and "déjà" in refused[0], refused
    fresh = connect(store_path)
    assert fresh.execute("SELECT count(*) FROM preparations").fetchone()[0] == 1
    assert audit.verify(fresh).ok
    fresh.close()
