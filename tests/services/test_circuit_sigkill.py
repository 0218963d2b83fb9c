"""SIGKILL at random points during a long series of circuit actions: the store always reopens,
``audit verify`` passes and no half-written action remains."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from oncosecours.services.users import bootstrap_admin, create_user
from oncosecours.store import audit
from oncosecours.store.db import connect

from .conftest import load_snapshot

WORKER = textwrap.dedent(
    """
    import sys
    from datetime import date

    from oncosecours.domain.errors import OncoError
    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.notes import add_note
    from oncosecours.services.patients import create_patient, record_measurements
    from oncosecours.services.prescription import prescribe
    from oncosecours.services.users import authenticate
    from oncosecours.services.validation import refuse_prescription, validate_prescription
    from oncosecours.store.db import connect

    conn = connect(sys.argv[1])
    run = int(sys.argv[2])
    dr, ph, ide = (authenticate(conn, i, "4826") for i in ("DR1", "PH1", "IDE1"))
    print("pret", flush=True)
    today = date.today()
    for i in range(10_000):
        ipp = f"{run:02d}{i:05d}"
        try:
            create_patient(
                conn, dr, ipp=ipp, birth_name=f"Patient{chr(65 + i % 26)}", first_name="Test",
                birth_date=f"19{40 + i % 50}-0{1 + i % 9}-1{i % 10}", sex="MF"[i % 2],
                weight_kg=60 + i % 30, height_cm=160 + i % 25, creatinine_umol_l=70 + i % 40,
                confirm_homonym=True,
            )
            record_measurements(conn, ide, ipp, weight_kg=61 + i % 30)
            protocol = ("FOLFOX", "R-CHOP", "BLEOMYCINE")[i % 3]
            inc = include_patient(conn, dr, ipp, protocol, today)
            pid = prescribe(
                conn, dr, inc["cures"][0]["id"], les_codes={"*": "I999999"} if i % 3 == 1 else {}
            )["prescription_id"]
            if i % 4 == 3:
                refuse_prescription(conn, ph, pid, comment="refus de test")
            else:
                validate_prescription(conn, ph, pid, comment="ok")
            add_note(conn, ide, f"note {ipp}", patient=ipp)
        except OncoError as error:
            print("refus", error, flush=True)
        print("fait", ipp, flush=True)
    """
)


def _setup(store_path):
    conn = connect(store_path)
    admin = bootstrap_admin(conn, "ADM", "Admin", "7391")
    for initials, role in (("DR1", "prescripteur"), ("PH1", "pharmacien"), ("IDE1", "infirmier")):
        create_user(conn, admin, initials, initials, role, "4826")
    load_snapshot(conn)
    conn.close()


def _count(conn, sql, *params):
    return conn.execute(sql, params).fetchone()[0]


def _assert_whole(conn):
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    report = audit.verify(conn)
    assert report.ok, report.problem

    def audited(table, entity, action):
        missing = _count(
            conn,
            f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM audit_event a "
            "WHERE a.entity = ? AND a.action LIKE ? AND a.entity_id = CAST(t.id AS TEXT))",
            entity,
            action,
        )
        assert missing == 0, f"{table} without its audit event"

    audited("patients", "patient", "créer_patient")
    audited("measurements", "mesure", "%")  # at creation, by the nurse or at prescription
    audited("inclusions", "inclusion", "inclure_patient")
    audited("prescriptions", "prescription", "prescrire")
    audited("notes", "note", "écrire_note")
    # every inclusion has its lines and its cures; every prescription its lines
    assert (
        _count(
            conn,
            "SELECT count(*) FROM inclusions i WHERE NOT EXISTS (SELECT 1 FROM cures c WHERE "
            "c.inclusion_id = i.id) OR NOT EXISTS (SELECT 1 FROM inclusion_lines l WHERE "
            "l.inclusion_id = i.id)",
        )
        == 0
    )
    assert (
        _count(
            conn,
            "SELECT count(*) FROM prescriptions p WHERE NOT EXISTS (SELECT 1 FROM "
            "prescription_lines l WHERE l.prescription_id = p.id)",
        )
        == 0
    )
    # states agree: cure <-> prescription <-> decision
    assert (
        _count(
            conn,
            "SELECT count(*) FROM cures c LEFT JOIN prescriptions p ON p.id = c.prescription_id "
            "WHERE (c.state = 'planned') != (c.prescription_id IS NULL) OR "
            "(p.id IS NOT NULL AND p.state != c.state)",
        )
        == 0
    )
    assert (
        _count(
            conn,
            "SELECT count(*) FROM prescriptions p WHERE (p.state = 'prescribed') != NOT EXISTS "
            "(SELECT 1 FROM validations v WHERE v.prescription_id = p.id AND v.decision = p.state)",
        )
        == 0
    )
    # one audit event per decision, one measurement per patient measured by the nurse
    assert _count(
        conn,
        "SELECT count(*) FROM audit_event WHERE action IN ('valider_prescription', "
        "'refuser_prescription')",
    ) == _count(conn, "SELECT count(*) FROM validations")


@pytest.mark.slow
def test_sigkill_at_random_points_leaves_no_half_action(store_path, tmp_path):
    _setup(store_path)
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    rng = random.Random(int(os.environ.get("ONCOSECOURS_KILL_SEED", "20260302")))
    env = dict(os.environ)  # on PostgreSQL, its settings name the test's database
    done_total = 0
    for run in range(5):
        worker = subprocess.Popen(
            [sys.executable, str(script), str(store_path), str(run)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert worker.stdout.readline().strip() == "pret", worker.stderr.read()
        time.sleep(rng.uniform(0.1, 0.9))
        os.kill(worker.pid, signal.SIGKILL)
        out, err = worker.communicate()
        assert worker.returncode == -signal.SIGKILL
        assert "Traceback" not in err, err
        done_total += out.count("fait ")
        conn = connect(store_path)  # reopens (and recovers the WAL) after every kill
        _assert_whole(conn)
        conn.close()
    conn = connect(store_path)
    assert done_total > 0 and _count(conn, "SELECT count(*) FROM validations") > 0
    conn.close()
