"""Migration 0006 upgrades a store made before it: rows kept, new columns and triggers in place."""

from __future__ import annotations

from older_store import older_store
from oncosecours.store import db


def test_a_store_at_schema_4_is_upgraded(store_path):
    raw = older_store(store_path, below=5)
    raw.execute(
        "INSERT INTO users (initials, name, role, pin_hash, pin_salt, created_at) "
        "VALUES ('DR1', 'Dr Test', 'prescripteur', x'00', x'00', '2026-03-02T08:00:00+01:00')"
    )
    raw.close()

    conn = db.connect(store_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.schema_version() >= 6
    assert conn.execute("SELECT initials FROM users").fetchone()[0] == "DR1"
    columns = {r[1] for r in conn.execute("PRAGMA table_info(cures)")}
    assert {"cancelled_at", "cancelled_by", "cancel_reason"} <= columns
    columns = {r[1] for r in conn.execute("PRAGMA table_info(inclusions)")}
    assert {"stopped_at", "stop_reason"} <= columns
    assert "withdraws_id" in {r[1] for r in conn.execute("PRAGMA table_info(go_aheads)")}
    triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert {"go_aheads_withdrawal", "cures_cancel_once", "inclusions_stop_once"} <= triggers
