"""A PIN cannot be guessed: wrong PINs lock the user across processes (each try is its own
``oncosecours`` process, as an attacker's script would run), the lock and each failure are
audited without the PIN, an administrator unlocks; trivial PINs are refused at creation."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from oncosecours import clock
from oncosecours.cli import main
from oncosecours.domain.errors import OncoError
from oncosecours.services.users import authenticate, bootstrap_admin, create_user
from oncosecours.settings import load_settings
from oncosecours.store.db import connect

ADMIN_PIN, NURSE_PIN, WRONG = "7391", "4826", "5937"


@pytest.fixture
def settings_file(tmp_path):
    path = tmp_path / "etablissement.toml"
    path.write_text("[codes_pin]\nessais_max = 3\nverrouillage_minutes = 1\n", encoding="utf-8")
    return path


@pytest.fixture
def store(store_path, settings_file, monkeypatch):
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings_file))
    conn = connect(store_path)
    admin = bootstrap_admin(conn, "ADM", "Administratrice", ADMIN_PIN)
    create_user(conn, admin, "IDE", "Infirmière", "infirmier", NURSE_PIN)
    conn.close()
    return store_path


def _cli(store, settings_file, pin, *argv):
    """One separate process, as a script trying PINs would start."""
    env = {**os.environ, "ONCOSECOURS_PIN": pin, "ONCOSECOURS_SETTINGS": str(settings_file)}
    done = subprocess.run(
        [sys.executable, "-m", "oncosecours", *argv, "--store", str(store)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def _as_nurse(store, settings_file, pin):
    """``user add`` by the nurse: refused by the PIN check, or (PIN right) by her role."""
    return _cli(store, settings_file, pin, "user", "add", "--user", "IDE", "--initials", "X1",
                "--name", "Personne", "--role", "infirmier", "--pin", "5813")  # fmt: skip


def test_wrong_pins_lock_across_processes_then_an_administrator_unlocks(store, settings_file):
    code, out = _as_nurse(store, settings_file, WRONG)
    assert code == 2 and "code PIN incorrects pour « IDE » (encore 2 essais" in out
    code, out = _as_nurse(store, settings_file, WRONG)
    assert code == 2 and "(encore 1 essai avant verrouillage)" in out
    code, out = _as_nurse(store, settings_file, WRONG)
    assert code == 2 and "Utilisateur « IDE » verrouillé après trop de codes PIN erronés" in out
    assert "réessayer dans 1 min" in out and "demander à un administrateur (ADM)" in out
    assert "oncosecours user unlock IDE" in out
    code, out = _as_nurse(store, settings_file, NURSE_PIN)  # the right PIN changes nothing now
    assert code == 2 and "verrouillé" in out

    conn = connect(store)
    events = conn.execute(
        "SELECT action, after_json FROM audit_event WHERE action IN "
        "('échec_pin', 'verrouiller_utilisateur') ORDER BY seq"
    ).fetchall()
    assert [e[0] for e in events] == ["échec_pin"] * 3 + ["verrouiller_utilisateur"]
    assert '"minutes": 1' in events[-1][1] and '"verrouillage_n": 1' in events[-1][1]
    journal = "".join(r[0] or "" for r in conn.execute("SELECT after_json FROM audit_event"))
    ledger = "".join(r[0] for r in conn.execute("SELECT rows_json FROM audit_rows"))
    assert WRONG not in journal and WRONG not in ledger  # never the PIN typed
    conn.close()

    code, out = _cli(store, settings_file, NURSE_PIN, "user", "unlock", "IDE", "--user", "IDE")
    assert code == 2 and "verrouillé" in out  # a locked user cannot even ask
    code, out = _cli(store, settings_file, ADMIN_PIN, "user", "unlock", "IDE", "--user", "ADM")
    assert code == 0 and "Utilisateur IDE déverrouillé" in out
    code, out = _as_nurse(store, settings_file, NURSE_PIN)
    assert code == 2 and "ne peut pas créer un utilisateur" in out  # authenticated: role refusal
    code, out = _cli(store, settings_file, ADMIN_PIN, "audit", "verify")
    assert code == 0 and "Tables conformes au journal" in out, out


def test_the_delay_doubles_with_each_lock_and_a_success_resets(store, settings_file):
    conn = connect(store)
    settings = load_settings(settings_file)
    start = clock.now()

    def fail(at):
        with pytest.raises(OncoError) as caught:
            authenticate(conn, "IDE", WRONG, settings=settings, now=at)
        return str(caught.value)

    for _ in range(2):
        fail(start)
    assert "réessayer dans 1 min" in fail(start)
    later = start + timedelta(minutes=1, seconds=1)  # first lock over
    for _ in range(2):
        fail(later)
    assert "réessayer dans 2 min" in fail(later)
    later += timedelta(minutes=2, seconds=1)
    for _ in range(2):
        fail(later)
    assert "réessayer dans 4 min" in fail(later)
    later += timedelta(minutes=4, seconds=1)
    assert authenticate(conn, "IDE", NURSE_PIN, settings=settings, now=later).initials == "IDE"
    for _ in range(2):
        fail(later)
    assert "réessayer dans 1 min" in fail(later)  # forgotten after the successful login
    conn.close()


def test_unlocking_someone_not_locked_is_refused(store, settings_file):
    code, out = _cli(store, settings_file, ADMIN_PIN, "user", "unlock", "IDE", "--user", "ADM")
    assert code == 2 and "L'utilisateur « IDE » n'est pas verrouillé" in out


@pytest.mark.parametrize(
    ("pin", "why"),
    [
        ("1234", "une suite de chiffres (1234, 9876…) se devine"),
        ("9876", "une suite de chiffres"),
        ("0000", "un même chiffre répété se devine"),
        ("1987", "une année (de naissance…) se devine"),
        ("2580", "c'est l'un des codes les plus courants"),
        ("1212", "c'est l'un des codes les plus courants"),
        ("482", "il doit compter au moins 4 chiffres (3 saisis)"),
        ("48a6", "il ne doit contenir que des chiffres"),
    ],
)
def test_trivial_pins_are_refused_at_creation(store, monkeypatch, capsys, pin, why):
    monkeypatch.setenv("ONCOSECOURS_PIN", ADMIN_PIN)
    code = main(["user", "add", "--store", str(store), "--user", "ADM", "--initials", "NEW",
                 "--name", "Nouvelle", "--role", "infirmier", "--pin", pin])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and f"Code PIN refusé pour « NEW » : {why}" in err
    conn = connect(store)
    assert conn.execute("SELECT count(*) FROM users WHERE initials = 'NEW'").fetchone()[0] == 0
    conn.close()


def test_minimum_length_is_a_setting_and_is_validated(store, settings_file, tmp_path):
    longer = tmp_path / "long.toml"
    longer.write_text("[codes_pin]\nlongueur_min = 6\n", encoding="utf-8")
    conn = connect(store)
    admin = authenticate(conn, "ADM", ADMIN_PIN)
    with pytest.raises(OncoError, match="au moins 6 chiffres"):
        create_user(conn, admin, "NEW", "N", "infirmier", NURSE_PIN, settings=load_settings(longer))
    create_user(conn, admin, "NEW", "N", "infirmier", "482619", settings=load_settings(longer))
    conn.close()
    broken = tmp_path / "bad.toml"
    broken.write_text("[codes_pin]\nessais_max = 0\n", encoding="utf-8")
    with pytest.raises(OncoError, match=r"codes_pin\.essais_max"):
        load_settings(broken)


def test_the_demo_pin_is_accepted_in_the_demo_only(conn):
    admin = bootstrap_admin(conn, "ADM", "Démo", "1234", demo=True)
    assert create_user(conn, admin, "IDE", "Démo", "infirmier", "1234", demo=True).role
    with pytest.raises(OncoError, match="un même chiffre"):
        create_user(conn, admin, "PH", "Démo", "pharmacien", "0000", demo=True)
    with pytest.raises(OncoError, match="une suite de chiffres"):
        create_user(conn, admin, "PH", "Réel", "pharmacien", "1234")
