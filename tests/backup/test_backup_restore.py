"""``oncosecours backup restore --from FILE``: checked first (a failing source is refused in
French), the current store kept aside (never overwritten), a working store rebuilt."""

from __future__ import annotations

import os
import sqlite3

import pytest

from oncosecours.cli import main
from oncosecours.domain.errors import OncoError
from oncosecours.ops.restore import authorize, restore
from oncosecours.store import audit, replica
from oncosecours.store.db import connect

from .conftest import PIN, content, head, some_actions


def _restore_cli(source, store_path, *extra, user="ADM", pin="7391", monkeypatch=None):
    monkeypatch.setenv("ONCOSECOURS_PIN", pin)
    return main(
        ["backup", "restore", "--from", str(source), "--store", str(store_path), "--user", user]
        + list(extra)
    )


def _kill_store(store_path):
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(str(store_path) + suffix)
        except FileNotFoundError:
            pass


def test_restore_after_the_store_is_lost(
    settings, second, conn, team, store_path, monkeypatch, capsys
):
    some_actions(conn, team, count=3)
    expected = content(store_path)
    conn.close()
    _kill_store(store_path)
    copy = replica.target_for(None, store_path).replica
    assert _restore_cli(copy, store_path, monkeypatch=monkeypatch) == 0
    out = capsys.readouterr().out
    assert "Base restaurée depuis" in out and "Copie de secours mise à jour" in out
    restored = connect(store_path, create=False)
    report = audit.verify(restored)
    assert report.ok
    last = restored.execute(
        "SELECT action, user_initials FROM audit_event ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    assert tuple(last) == ("restaurer_base", "ADM")
    restored.close()
    now = content(store_path)
    assert now["rows"]["patients"] == expected["rows"]["patients"]
    assert now["rows"]["notes"] == expected["rows"]["notes"]
    assert head(copy) == head(store_path)  # the copy follows the restored store


def test_a_damaged_store_is_kept_aside_with_its_side_files(
    settings, second, conn, team, store_path, monkeypatch
):
    some_actions(conn, team, count=1)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    some_actions(conn, team, start=2, count=1)  # a few pages in the -wal, the rest in the file
    wal = store_path.with_name(store_path.name + "-wal")
    assert wal.stat().st_size > 0
    data = bytearray(store_path.read_bytes())
    data[100:] = os.urandom(len(data) - 100)  # every page of the file is garbage
    store_path.write_bytes(bytes(data))
    damaged = store_path.read_bytes()
    copy = replica.target_for(None, store_path).replica
    assert _restore_cli(copy, store_path, monkeypatch=monkeypatch) == 0
    aside = sorted(p.name for p in store_path.parent.iterdir() if ".avant-restauration-" in p.name)
    assert len(aside) >= 2 and any(n.endswith("-wal") for n in aside)
    kept = next(p for p in store_path.parent.iterdir() if p.name in aside and p.suffix == ".sqlite")
    assert kept.read_bytes() == damaged  # kept as it was, not overwritten
    assert audit.verify(connect(store_path, create=False)).ok


@pytest.mark.parametrize(
    "damage,expected",
    [
        ("random", "ne passe pas les vérifications"),
        ("audit", "journal d'audit altéré"),
        ("missing", "fichier introuvable"),
    ],
)
def test_a_failing_source_is_refused_and_nothing_changes(
    settings, second, conn, team, store_path, tmp_path, monkeypatch, capsys, damage, expected
):
    some_actions(conn, team, count=1)
    source = tmp_path / "source.sqlite"
    if damage == "random":
        source.write_bytes(os.urandom(20000))
    elif damage == "audit":
        conn.backup(sqlite3.connect(source))
        raw = sqlite3.connect(source)
        raw.execute("DROP TRIGGER audit_event_no_delete")
        raw.execute("DELETE FROM audit_event WHERE seq = 2")
        raw.commit()
        raw.close()
    before = store_path.read_bytes()
    assert _restore_cli(source, store_path, monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.startswith("Refusé : Restauration refusée") and expected in err
    assert store_path.read_bytes() == before
    assert not [p for p in store_path.parent.iterdir() if ".avant-restauration-" in p.name]


def test_a_snapshot_with_a_wrong_checksum_is_refused(
    settings, second, conn, team, store_path, monkeypatch, capsys
):
    some_actions(conn, team, count=1)
    [(_day, snap)] = replica.target_for(None, store_path).snapshot_files()
    sidecar = snap.with_name(snap.name + ".sha256")
    sidecar.write_text("0" * 64 + "  " + snap.name + "\n", encoding="utf-8")
    assert _restore_cli(snap, store_path, monkeypatch=monkeypatch) == 2
    assert "somme de contrôle SHA-256 différente" in capsys.readouterr().err


def test_an_intact_store_is_not_replaced_by_an_older_copy_without_force(
    settings, second, conn, team, store_path, monkeypatch, capsys
):
    some_actions(conn, team, count=1)
    [(_day, snap)] = replica.target_for(None, store_path).snapshot_files()
    some_actions(conn, team, start=3, count=1)
    newer = head(store_path)
    assert _restore_cli(snap, store_path, monkeypatch=monkeypatch) == 2
    err = capsys.readouterr().err
    assert "intacte et contient" in err and "--force" in err
    assert head(store_path) == newer
    conn.close()
    assert _restore_cli(snap, store_path, "--force", monkeypatch=monkeypatch) == 0
    aside = [p for p in store_path.parent.iterdir() if ".avant-restauration-" in p.name]
    kept = next(p for p in aside if p.suffix == ".sqlite")
    assert head(kept) == newer  # the newer store is kept aside, never lost
    copy = replica.target_for(None, store_path).replica
    # the second copy held the newer state: it was set aside too, not overwritten
    ecartees = [p for p in copy.parent.iterdir() if ".ecartee-" in p.name]
    assert [head(p) for p in ecartees] == [newer]


def test_only_an_administrator_or_a_pharmacist_restores(settings, second, conn, team, store_path):
    some_actions(conn, team, count=1)
    copy = replica.target_for(None, store_path).replica
    with pytest.raises(OncoError, match="ROLE"):
        authorize(copy, "IDE", PIN)
    with pytest.raises(OncoError, match="PIN incorrects"):
        authorize(copy, "PH", "9999")
    assert authorize(copy, "PH", PIN).role == "pharmacien"


def test_restoring_the_store_onto_itself_is_refused(settings, conn, team, store_path):
    with pytest.raises(OncoError, match="la base elle-même"):
        restore(store_path, store_path)
