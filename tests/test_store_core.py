"""The store's backbone: migrations, the audited transaction, the hash chain."""

from __future__ import annotations

import sqlite3

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.services.users import authenticate, create_user
from oncosecours.store import audit
from oncosecours.store.db import connect, schema_version


def test_store_is_wal_with_foreign_keys_and_current_schema(conn):
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version() > 0


def test_refused_action_writes_nothing(conn, admin, store_path):
    create_user(conn, admin, "PH1", "Pharmacien Un", "pharmacien", "6150")
    before = list(conn.iterdump())
    pharmacist = authenticate(conn, "PH1", "6150")
    with pytest.raises(OncoError, match="ROLE"):
        create_user(conn, pharmacist, "XX", "Intrus", "administrateur", "8264")
    with pytest.raises(OncoError, match="existe déjà"):
        create_user(conn, admin, "PH1", "Doublon", "pharmacien", "6150")
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 2
    assert audit.verify(conn).events == 2
    assert list(conn.iterdump()) == before


def test_wrong_pin_is_refused(conn, admin):
    with pytest.raises(OncoError, match="PIN incorrects"):
        authenticate(conn, "ADM", "9999")
    assert authenticate(conn, "adm", "7391").initials == "ADM"


def test_pin_is_not_stored_in_clear(conn, admin):
    salt, digest = conn.execute("SELECT pin_salt, pin_hash FROM users").fetchone()
    assert b"7391" not in digest and len(salt) == 16


def _chain_with_events(conn, admin, n=4):
    for i in range(n):
        create_user(conn, admin, f"U{i}", f"Utilisateur {i}", "infirmier", "4826")


def test_audit_chain_detects_an_edit_behind_the_back(conn, admin, store_path):
    _chain_with_events(conn, admin)
    assert audit.verify(conn).ok
    raw = sqlite3.connect(store_path)
    raw.execute("DROP TRIGGER audit_event_no_update")
    raw.execute("UPDATE audit_event SET after_json = '{}' WHERE seq = 3")
    raw.commit()
    report = audit.verify(conn)
    assert not report.ok and report.first_bad_seq == 3 and "modifié" in report.problem


@pytest.mark.parametrize("seq,expected", [(2, "manquant"), (5, "fin du journal")])
def test_audit_chain_detects_a_deletion(conn, admin, store_path, seq, expected):
    _chain_with_events(conn, admin)
    raw = sqlite3.connect(store_path)
    raw.execute("DROP TRIGGER audit_event_no_delete")
    raw.execute("DELETE FROM audit_event WHERE seq = ?", (seq,))
    raw.commit()
    report = audit.verify(conn)
    assert not report.ok and expected in report.problem


def test_audit_log_refuses_update_through_sql(conn, admin):
    with pytest.raises(sqlite3.DatabaseError, match="ajout seul"):
        conn.execute("UPDATE audit_event SET action = 'x'")


def test_not_a_database_gives_french_message(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"ceci n'est pas une base" * 100)
    with pytest.raises(OncoError, match="pas une base OncoSecours"):
        connect(bad)
