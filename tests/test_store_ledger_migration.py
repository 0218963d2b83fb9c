"""A store created before the row ledger (schema 6) still verifies once migrated: the state of
its rows at the migration is the ledger's first entry; what changes afterwards is proven."""

from __future__ import annotations

import sqlite3

from oncosecours.services.users import bootstrap_admin, create_user
from oncosecours.store import db
from oncosecours.store.integrity import verify_store


def test_an_older_store_gets_a_baseline_and_is_then_proven(store_path, monkeypatch):
    shipped = db._migration_files()
    monkeypatch.setattr(db, "_migration_files", lambda: [m for m in shipped if m[0] < 7])
    old = db.connect(store_path)
    admin = bootstrap_admin(old, "ADM", "Administrateur", "7391")
    create_user(old, admin, "IDE", "Infirmière", "infirmier", "4826")
    assert old.execute("PRAGMA user_version").fetchone()[0] == 6
    old.close()
    monkeypatch.undo()

    conn = db.connect(store_path)  # migrates to the current schema
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.schema_version() >= 7
    entries = conn.execute("SELECT seq, event_seq, rows_json FROM audit_rows").fetchall()
    assert len(entries) == 1 and entries[0][1] == 2 and '"IDE"' in entries[0][2]
    report = verify_store(conn)
    assert report.ok and report.rows.rows == 2, report.text()

    raw = sqlite3.connect(store_path, isolation_level=None)
    raw.execute("UPDATE users SET role = 'administrateur' WHERE initials = 'IDE'")
    raw.close()
    text = verify_store(conn).text()
    assert (
        "table users, ligne n° 2, colonne role : attendu « infirmier », trouvé « administrateur »"
        in text
    )
    conn.close()
