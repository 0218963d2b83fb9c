"""The live second copy: made after every committed action, exact, incremental when it can be,
never failing the action, saying plainly when the medium is missing or full, catching up."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from oncosecours.store import replica
from oncosecours.store.db import transaction

from .conftest import PIN, content, head, some_actions


def _copy(second, store_path):
    return second / store_path.name


def test_every_action_is_copied_and_the_copy_is_the_store(settings, second, conn, team, store_path):
    copy = _copy(second, store_path)
    assert head(copy) == head(store_path)  # users created with the copy on
    modes = []
    for i in range(4):
        some_actions(conn, team, start=i, count=1)
        modes.append(replica.sync.last_result["mode"])
        assert head(copy) == head(store_path)
        assert content(copy) == content(store_path)
    assert modes == ["incrémentale"] * 4
    header = copy.read_bytes()[:100]
    assert header[18:20] == b"\x01\x01"  # rollback journal: opens read-only, no side files
    assert not replica.journal_path(copy).exists()
    ro = replica.open_readonly(copy)
    assert ro.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ro.close()


def test_incremental_copy_writes_only_the_changed_rows(settings, second, conn, team, store_path):
    some_actions(conn, team, count=1)
    from oncosecours.services.notes import add_note

    add_note(conn, team["IDE"], "une seule note", patient="7000000")
    result = replica.sync.last_result
    # the note, its audit event, its row-ledger entry, the audit head: four rows, whatever the
    # store's size
    assert result["mode"] == "incrémentale" and result["lignes"] == 4


def test_no_second_location_no_copy_and_the_status_says_so(conn, team, tmp_path, store_path):
    some_actions(conn, team, count=1)
    status = replica.replica_status(None, store_path)
    assert not status["configure"] and status["niveau"] == "attention"
    assert "AUCUNE COPIE DE SECOURS" in status["message"]
    beside = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(store_path.name))
    assert beside == []  # nothing written anywhere else


def test_missing_medium_never_fails_the_action_and_the_copy_catches_up(
    configure, tmp_path, conn, team, store_path
):
    medium = tmp_path / "cle-absente"
    configure(medium / "OncoSecours")
    ipps = some_actions(conn, team, count=2)  # the key is not plugged in
    status = replica.replica_status(None, store_path)
    assert status["niveau"] == "alerte"
    assert "introuvable" in status["message"] and "COPIE DE SECOURS EN ÉCHEC" in status["message"]
    assert status["echec"]["echecs"] >= 2
    assert "copie de secours non faite" in replica.pending_warning()
    assert not (medium / "OncoSecours").exists()  # never created on the wrong medium

    medium.mkdir()  # the key comes back
    some_actions(conn, team, start=10, count=1)
    copy = medium / "OncoSecours" / store_path.name
    assert head(copy) == head(store_path)
    rows = content(copy)["rows"]["patients"]
    assert {r["ipp"] if isinstance(r, sqlite3.Row) else r[2] for r in rows} >= set(ipps)
    status = replica.replica_status(None, store_path)
    assert status["echec"] is None and status["retard"] == 0
    assert status["niveau"] != "alerte"
    assert replica.pending_warning() is None


def test_full_medium_is_said_and_work_goes_on(
    settings, second, conn, team, store_path, monkeypatch
):
    monkeypatch.setattr(replica.files, "free_bytes", lambda folder: 200_000)
    before = head(store_path)
    some_actions(conn, team, count=1)
    assert head(store_path)[0] > before[0]  # the actions are there
    status = replica.replica_status(None, store_path)
    assert status["niveau"] == "alerte" and "plein" in status["message"]
    assert status["retard"] > 0
    monkeypatch.undo()
    replica.use_settings(settings)
    some_actions(conn, team, start=5, count=1)
    assert head(_copy(second, store_path)) == head(store_path)


def test_sqlite_disk_full_during_the_copy_is_classified(
    settings, conn, team, store_path, monkeypatch
):
    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(replica.sync, "_apply_delta", full)
    some_actions(conn, team, count=1)
    failure = replica.read_state(replica.target_for(None, store_path))
    assert failure["type"] == "plein" and "plein" in failure["message"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="droits POSIX, hors root")
def test_read_only_medium_is_said(settings, second, conn, team, store_path):
    second.chmod(0o500)
    try:
        some_actions(conn, team, count=1)
        status = replica.replica_status(None, store_path)
        assert status["niveau"] == "alerte"
        assert status["echec"]["type"] == "acces", status["echec"]
    finally:
        second.chmod(0o700)


def test_cli_says_on_stderr_that_the_copy_failed_after_a_successful_action(
    configure, tmp_path, conn, team, store_path
):
    some_actions(conn, team, count=1)
    configure(tmp_path / "nulle-part" / "OncoSecours")
    done = subprocess.run(
        [sys.executable, "-m", "oncosecours", "note", "add", "--store", str(store_path)]
        + ["--user", "IDE", "--patient", "7000000", "--text", "note par la CLI"],
        env=dict(os.environ, ONCOSECOURS_PIN=PIN),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "Note enregistrée" in done.stdout
    assert "ATTENTION : copie de secours non faite" in done.stderr
    assert "introuvable" in done.stderr and "Refusé" not in done.stderr


def test_status_command_exit_code_follows_the_level(configure, tmp_path, conn, team, store_path):
    from oncosecours.cli import main

    configure(tmp_path / "nulle-part" / "OncoSecours")
    some_actions(conn, team, count=1)
    assert main(["backup", "status", "--store", str(store_path)]) == 1
    (tmp_path / "nulle-part").mkdir()
    assert main(["backup", "now", "--store", str(store_path)]) == 0
    assert main(["backup", "status", "--store", str(store_path)]) == 0


def test_a_copy_of_another_store_is_set_aside_never_overwritten(
    configure, settings, second, tmp_path, conn, team, store_path
):
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    configure(None)  # build another store without copying it
    other = connect(tmp_path / "autre.sqlite")
    bootstrap_admin(other, "ZZ", "Autre", "7391")
    other.close()
    configure(second)
    copy = _copy(second, store_path)
    copy.unlink()
    (tmp_path / "autre.sqlite").rename(copy)
    foreign = head(copy)
    some_actions(conn, team, count=1)
    aside = [p for p in second.iterdir() if ".ecartee-" in p.name]
    assert len(aside) == 1 and head(aside[0]) == foreign
    assert head(copy) == head(store_path)


def test_a_refresh_like_change_makes_a_complete_copy(settings, second, conn, team, store_path):
    some_actions(conn, team, count=1)
    with transaction(conn):  # snapshot rows are not tracked row by row
        conn.execute(
            "INSERT INTO ref_patients (patient_id, ipp, birth_name, first_name) "
            "VALUES ('P1', '123', 'NOM', 'Prénom')"
        )
    assert replica.sync.last_result["mode"] == "complète"
    assert content(_copy(second, store_path)) == content(store_path)
    some_actions(conn, team, start=3, count=1)
    assert replica.sync.last_result["mode"] == "incrémentale"


def test_a_new_table_gets_its_triggers_and_a_complete_copy(
    settings, second, conn, team, store_path
):
    with transaction(conn):
        conn.execute("CREATE TABLE extra_items (id INTEGER PRIMARY KEY, label TEXT)")
    assert replica.sync.last_result["mode"] == "complète"
    with transaction(conn):
        conn.execute("INSERT INTO extra_items (label) VALUES ('a'), ('b')")
    assert replica.sync.last_result["mode"] == "incrémentale"
    with transaction(conn):
        conn.execute("UPDATE extra_items SET label = 'c' WHERE id = 1")
        conn.execute("DELETE FROM extra_items WHERE id = 2")
    assert replica.sync.last_result["mode"] == "incrémentale"
    assert content(_copy(second, store_path)) == content(store_path)


def test_a_gap_in_the_change_log_makes_a_complete_copy(
    configure, settings, second, conn, team, store_path
):
    some_actions(conn, team, count=1)
    configure(None)  # actions while the copy is off: logged, not applied
    some_actions(conn, team, start=2, count=1)
    conn.execute("DELETE FROM replica_log")  # behind the back: the log lost entries
    configure(second)
    from oncosecours.services.notes import add_note

    add_note(conn, team["IDE"], "après le trou", patient="7000002")
    assert replica.sync.last_result["mode"] == "complète"
    assert content(_copy(second, store_path)) == content(store_path)


def test_the_log_is_pruned_and_the_copy_stays_exact(
    settings, second, conn, team, store_path, monkeypatch
):
    monkeypatch.setattr(replica.incremental, "PRUNE_AFTER", 5)
    some_actions(conn, team, count=3)
    kept = conn.execute("SELECT count(*) FROM replica_log").fetchone()[0]
    assert kept < 10
    some_actions(conn, team, start=5, count=1)
    assert replica.sync.last_result["mode"] == "incrémentale"
    assert content(_copy(second, store_path)) == content(store_path)


def test_a_copy_killed_in_its_transaction_is_rolled_back_by_sqlite(
    settings, second, conn, team, store_path
):
    """A writer of the copy dies after writing pages into it: the hot journal it leaves makes
    SQLite roll the copy back on the next opening (ours or any program's)."""
    some_actions(conn, team, count=1)
    copy = _copy(second, store_path)
    before, before_bytes = content(copy), copy.read_bytes()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('PRAGMA cache_size=2')\n"  # tiny cache: pages spill into the file
            "c.execute('BEGIN')\n"
            "c.execute('UPDATE patients SET birth_name = upper(birth_name)')\n"
            "c.execute('CREATE TABLE spill (x)')\n"
            "c.execute('INSERT INTO spill SELECT randomblob(3000) FROM audit_event, audit_event')\n"
            "print('pret', flush=True)\n"
            "time.sleep(60)\n",
            str(copy),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "pret"
    child.kill()
    child.wait()
    assert replica.journal_path(copy).exists()
    assert copy.read_bytes() != before_bytes  # the copy file itself was half-written
    assert replica.read_head(copy) == head(store_path)  # recovered on opening
    assert content(copy) == before
    assert not replica.journal_path(copy).exists()
    some_actions(conn, team, start=4, count=1)  # and the next copy goes on from there
    assert content(copy) == content(store_path)


def test_working_on_the_copy_itself_is_not_copied_onto_itself_and_is_said(
    settings, second, conn, team, store_path
):
    from oncosecours.services.notes import add_note
    from oncosecours.store.db import connect

    some_actions(conn, team, count=1)
    copy = _copy(second, store_path)
    on_key = connect(copy)  # the PC is gone: someone works on the key directly
    add_note(on_key, team["IDE"], "sur la clé", patient="7000000")
    on_key.close()
    assert not [p for p in second.iterdir() if p.name.endswith(".tmp")]
    status = replica.replica_status(None, copy)
    assert status["niveau"] == "alerte" and "COPIE DE SECOURS ELLE-MÊME" in status["message"]


def test_paths_with_spaces_accents_and_hashes(configure, tmp_path):
    from oncosecours.services.users import bootstrap_admin, create_user
    from oncosecours.store.db import connect

    folder = tmp_path / "Pharmacie #2 é"
    folder.mkdir()
    (tmp_path / "Clé USB #1").mkdir()
    configure(tmp_path / "Clé USB #1" / "Copie à jour")
    store = folder / "base du jour.sqlite"
    conn = connect(store)
    admin = bootstrap_admin(conn, "ADM", "Admin", "7391")
    create_user(conn, admin, "IDE", "Infirmière", "infirmier", PIN)
    assert replica.sync.last_result["mode"] == "incrémentale"
    conn.close()
    copy = tmp_path / "Clé USB #1" / "Copie à jour" / "base du jour.sqlite"
    assert content(copy) == content(store)


def test_concurrent_processes_leave_an_exact_copy(settings, second, conn, team, store_path):
    """Four processes click at once: copies are serialized and each copies every row committed
    before it, so the last copy is exactly the store."""
    some_actions(conn, team, count=1)
    script = (
        "import sys\n"
        "from oncosecours.services.notes import add_note\n"
        "from oncosecours.services.patients import record_measurements\n"
        "from oncosecours.services.users import authenticate\n"
        "from oncosecours.store.db import connect\n"
        "conn = connect(sys.argv[1])\n"
        "who = authenticate(conn, 'IDE', '4826')\n"
        "for i in range(12):\n"
        "    add_note(conn, who, f'note {sys.argv[2]} {i}', patient='7000000')\n"
        "    record_measurements(conn, who, '7000000', weight_kg=60 + int(sys.argv[2]) + i / 10)\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(store_path), str(n)]) for n in range(4)
    ]
    assert [w.wait(timeout=300) for w in workers] == [0, 0, 0, 0]
    copy = _copy(second, store_path)
    assert head(copy) == head(store_path)
    assert content(copy) == content(store_path)
    assert not replica.read_state(replica.target_for(None, store_path))
