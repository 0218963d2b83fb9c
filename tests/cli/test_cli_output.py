"""What the command prints after an action: a narrow console encoding does not turn a recorded
action into an error, the unexpected-error message does not claim nothing was recorded, and
``prescribe save --json`` returns the cure as saved."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from cli_helpers import planned_cure

from oncosecours.cli import main
from oncosecours.store.db import connect


def _cure_state(store, cure):
    conn = connect(store)
    try:
        return conn.execute("SELECT state FROM cures WHERE id = ?", (cure,)).fetchone()[0]
    finally:
        conn.close()


def test_save_redirected_to_a_cp1252_file_prints_and_succeeds(team_store, tmp_path):
    """Windows: ``oncosecours prescribe save ... > out.txt`` writes cp1252; « → » cannot be
    encoded. The save used to commit, then fail and say « rien n'a été enregistré »."""
    conn = connect(team_store)
    cure = planned_cure(conn)
    conn.close()
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "ONCOSECOURS_PIN": "4826",
           "HOME": str(tmp_path)}  # fmt: skip
    env.pop("ONCOSECOURS_SETTINGS", None)
    out_file = tmp_path / "out.txt"
    with out_file.open("wb") as handle:
        done = subprocess.run(
            [sys.executable, "-m", "oncosecours", "prescribe", "save", "--store", str(team_store),
             "--user", "DR1", "--cure", str(cure), "--confirm-measures"],
            stdout=handle, stderr=subprocess.PIPE, env=env, timeout=120,
        )  # fmt: skip
    err = done.stderr.decode("cp1252")
    assert done.returncode == 0, err
    assert "Erreur inattendue" not in err
    text = out_file.read_bytes().decode("cp1252")  # a valid cp1252 file
    assert "PRESCRITE : prescription n° " in text and "cure n° " in text
    assert " ? " in text  # the arrow of each dose line, replaced
    assert _cure_state(team_store, cure) == "prescribed"

    # --json on the same console: \\u escapes, lossless for the script that reads it
    conn = connect(team_store)
    pid = conn.execute("SELECT prescription_id FROM cures WHERE id = ?", (cure,)).fetchone()[0]
    conn.close()
    done = subprocess.run(
        [sys.executable, "-m", "oncosecours", "prescribe", "show", "--store", str(team_store),
         "--prescription", str(pid), "--json"],
        capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode("cp1252")
    assert done.stdout.isascii()
    detail = json.loads(done.stdout.decode("ascii"))
    assert "Hôpital de jour oncologie" in json.dumps(detail, ensure_ascii=False)


def test_unexpected_error_does_not_claim_nothing_was_recorded(team_store, capsys, monkeypatch):
    from oncosecours.commands import status

    def broken(_args):
        raise RuntimeError("panne après l'enregistrement")

    monkeypatch.setattr(status, "_status", broken)
    code = main(["status", "--store", str(team_store)])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith(
        "Erreur inattendue : l'action en cours n'a pas pu se terminer ; vérifier son état "
        "(oncosecours status / audit) avant de la refaire."
    )
    assert "rien n'a été enregistré" not in err and "Traceback" not in err


def test_prescribe_save_json_returns_the_saved_state(team_store, capsys):
    conn = connect(team_store)
    cure = planned_cure(conn)
    conn.close()
    code = main(["prescribe", "save", "--store", str(team_store), "--user", "DR1", "--cure",
                 str(cure), "--confirm-measures", "--json"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    saved = json.loads(out)
    assert saved["cure"]["state"] == "prescribed" == _cure_state(team_store, cure)
    assert saved["cure"]["prescription_id"] == saved["prescription_id"]
