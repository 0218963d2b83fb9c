"""SIGKILL during cancellations, withdrawals and inclusion stops: never a half-written action."""

from __future__ import annotations

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
from oncosecours.services.preparation import prepare
from oncosecours.services.preparation_plan import preview
from oncosecours.services.release import control_preparation, release_preparation
from oncosecours.store import audit
from oncosecours.store.db import connect
from oncosecours.store.ordonnancier import check_sequence

WORKER = Path(__file__).with_name("cancellation_worker.py")


def _day(conn, team, patients: int) -> list[int]:
    """FOLFOX patients with the go-ahead; the first four have bags (prepared or released)."""
    load_snapshot(conn)
    cures = []
    for n in range(patients):
        row = (f"p{n}", 1, f"PATIENT{chr(65 + n)}", "Test", f"196{n}-01-15", "F", f"92{n:05d}")
        row += (60.0 + n, 165.0, 70.0)
        assert len(row) == len(PATIENTS[0])
        cure = prescribe_and_validate(conn, team, row)
        give_go_ahead(conn, team["DR1"], cure, now=at(8))
        if n < 4:
            for i, line in enumerate(lines_of(conn, cure)):
                when = at(9, n * 5 + i)
                lots = lots_for(preview(conn, line["id"], now=when))
                sheet = prepare(conn, team["PR1"], line["id"], lots=lots, now=when)
                if n % 2:
                    weight = sheet["target_weight_g"]
                    control_preparation(
                        conn, team["PR2"], sheet["id"], weight, visual_ok=True, now=at(10)
                    )
                    release_preparation(conn, team["PH1"], sheet["id"], now=at(10, 1))
        cures.append(cure)
    return cures


def _invariants(store_path) -> dict[str, int]:
    conn = connect(store_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert audit.verify(conn).ok
        assert check_sequence(conn).ok
        events = {
            (action, entity): n
            for action, entity, n in conn.execute(
                "SELECT action, entity, count(*) FROM audit_event GROUP BY action, entity"
            )
        }

        def count(action, entity):
            return events.get((action, entity), 0)

        cancelled = conn.execute("SELECT count(*) FROM cures WHERE state = 'cancelled'")
        assert cancelled.fetchone()[0] == count("annuler_cure", "cure") + count(
            "arrêter_inclusion", "cure"
        )
        bags = conn.execute("SELECT count(*) FROM preparations WHERE state = 'cancelled'")
        assert bags.fetchone()[0] == count("annuler_cure", "préparation") + count(
            "arrêter_inclusion", "préparation"
        )
        stopped = conn.execute("SELECT count(*) FROM inclusions WHERE state = 'stopped'")
        assert stopped.fetchone()[0] == count("arrêter_inclusion", "inclusion")
        withdrawn = conn.execute("SELECT count(*) FROM go_aheads WHERE withdraws_id IS NOT NULL")
        assert withdrawn.fetchone()[0] == count("retirer_feu_vert", "feu_vert")
        # a cancelled cure never keeps a live bag (the pharmacist cancels released ones too)
        live = conn.execute(
            "SELECT count(*) FROM preparations p JOIN cures c ON c.id = p.cure_id "
            "WHERE c.state = 'cancelled' AND p.state IN ('prepared', 'controlled', 'released')"
        )
        assert live.fetchone()[0] == 0
        # a stopped inclusion never keeps a cure that is not cancelled
        left = conn.execute(
            "SELECT count(*) FROM cures c JOIN inclusions i ON i.id = c.inclusion_id "
            "WHERE i.state = 'stopped' AND c.state != 'cancelled'"
        )
        assert left.fetchone()[0] == 0
        return {f"{a}/{e}": n for (a, e), n in events.items()}
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_during_cancellations_leaves_whole_actions(conn, team, store_path):
    cures = _day(conn, team, 6)
    conn.close()
    rng = random.Random(20261128)
    kills = 0
    for _round in range(40):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(store_path), at(11).isoformat()],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "ready"
        output = [proc.stdout.readline() for _ in range(rng.randint(0, 2))]
        time.sleep(rng.uniform(0.0, 0.01))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        rest, _ = proc.communicate(timeout=60)
        _invariants(store_path)
        if "done" in "".join(output) + rest:
            break
    else:
        pytest.fail("the cancellations never finished")
    assert kills >= 3
    events = _invariants(store_path)
    final = connect(store_path)
    assert events["annuler_cure/cure"] == 4 and events["annuler_cure/préparation"] == 8
    assert events["retirer_feu_vert/feu_vert"] == len(cures) - 4
    assert events["arrêter_inclusion/inclusion"] == len(cures)
    states = {r[0] for r in final.execute("SELECT state FROM cures")}
    assert states == {"cancelled"}
