"""The Chimio snapshot is covered by the digest its refresh recorded: a reference table edited
with the sqlite3 module afterwards is named by ``audit verify``."""

from __future__ import annotations

import json
import sqlite3

import pytest

from oncosecours.services.refresh import refresh_snapshot
from oncosecours.store.integrity import verify_store

from .conftest import SYNTH_DATE


@pytest.mark.parametrize(
    "engine", ["sqlite"], indirect=True
)  # edits the file with SQLite's typeof()
def test_the_refresh_records_a_digest_and_verify_recomputes_it(
    conn, pharmacist, small_synth, store_path
):
    refresh_snapshot(conn, pharmacist, small_synth, today=SYNTH_DATE)
    (after,) = conn.execute(
        "SELECT after_json FROM audit_event WHERE action = 'actualiser_sauvegarde'"
    ).fetchone()
    digest = json.loads(after)["empreinte_tables"]
    assert {"ref_protocol_lines", "ref_history", "snapshot_meta"} <= set(digest)
    assert all(len(v) == 64 for v in digest.values())
    report = verify_store(conn)
    assert report.ok and not report.rows.notes, report.text()

    raw = sqlite3.connect(store_path, isolation_level=None)
    raw.execute(
        "UPDATE ref_protocol_lines SET dose = dose * 10 "
        "WHERE rowid = (SELECT min(rowid) FROM ref_protocol_lines)"
    )
    raw.execute("UPDATE snapshot_meta SET backup_date = '2026-01-01'")
    raw.close()
    text = verify_store(conn).text()
    assert not verify_store(conn).ok
    assert (
        "instantané de la sauvegarde Chimio, table ref_protocol_lines : contenu différent de "
        "celui chargé par l'actualisation (événement n° " in text
    )
    assert "table snapshot_meta : contenu différent" in text
    assert "ref_history" not in text  # only what changed is named
