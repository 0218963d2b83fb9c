"""``user add``: the new user's PIN comes from --pin or is typed twice, never from
$ONCOSECOURS_PIN (the administrator's own PIN, exported as the README says)."""

from __future__ import annotations

import getpass

import pytest

from oncosecours.cli import main
from oncosecours.commands import users as users_command
from oncosecours.domain.errors import OncoError
from oncosecours.services.users import authenticate, bootstrap_admin
from oncosecours.store.db import connect

ADD = ["user", "add", "--user", "ADM", "--initials", "NEW", "--name", "Nouvelle Recrue",
       "--role", "infirmier"]  # fmt: skip


@pytest.fixture
def admin_store(store_path):
    conn = connect(store_path)
    bootstrap_admin(conn, "ADM", "Administrateur", "4826")  # = $ONCOSECOURS_PIN (conftest)
    conn.close()
    return str(store_path)


def _users(store):
    conn = connect(store)
    try:
        return [r[0] for r in conn.execute("SELECT initials FROM users ORDER BY initials")]
    finally:
        conn.close()


def _can_log_in(store, pin):
    conn = connect(store)
    try:
        authenticate(conn, "NEW", pin)
        return True
    except OncoError:
        return False
    finally:
        conn.close()


def test_without_pin_and_without_a_console_it_is_refused(admin_store, capsys, monkeypatch):
    monkeypatch.setattr(users_command, "_interactive", lambda: False)
    code = main([*ADD, "--store", admin_store])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Refusé : Code PIN du nouvel utilisateur NEW manquant : le donner avec")
    assert "--pin" in err and "$ONCOSECOURS_PIN n'est pas utilisé" in err
    assert _users(admin_store) == ["ADM"]


def test_typed_twice_at_the_console(admin_store, capsys, monkeypatch):
    typed = iter(["5283", "5283"])
    prompts = []
    monkeypatch.setattr(users_command, "_interactive", lambda: True)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or next(typed))
    code = main([*ADD, "--store", admin_store])
    assert code == 0, capsys.readouterr().err
    assert len(prompts) == 2 and "NEW" in prompts[0]
    assert _can_log_in(admin_store, "5283")
    assert not _can_log_in(admin_store, "4826")  # not the administrator's PIN


def test_two_different_entries_create_nobody(admin_store, capsys, monkeypatch):
    typed = iter(["5283", "5284"])
    monkeypatch.setattr(users_command, "_interactive", lambda: True)
    monkeypatch.setattr(getpass, "getpass", lambda _prompt: next(typed))
    code = main([*ADD, "--store", admin_store])
    assert code == 2 and "Les deux saisies du code PIN diffèrent" in capsys.readouterr().err
    assert _users(admin_store) == ["ADM"]


def test_pin_option(admin_store, capsys, monkeypatch):
    monkeypatch.setattr(users_command, "_interactive", lambda: False)
    code = main([*ADD, "--store", admin_store, "--pin", "3917"])
    assert code == 0, capsys.readouterr().err
    assert _can_log_in(admin_store, "3917") and not _can_log_in(admin_store, "4826")
