"""A wrong or missing store path is refused in French: no command but ``user init`` starts an
empty store (« Aucune cure ce jour » on a typo, an « intact » journal of 0 events, an empty store
copied over the good second copy)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from oncosecours.cli import main
from oncosecours.store.db import connect


def _refusal(path: Path) -> str:
    return (
        f"Refusé : Base introuvable : {path} (vérifier --store / ONCOSECOURS_STORE ; pour créer "
        "une base : oncosecours user init)"
    )


def _nothing_created(path: Path) -> bool:
    return not path.parent.exists() or not any(path.parent.iterdir())


COMMANDS = [
    ["status"],
    ["status", "--date", "2026-03-02"],
    ["audit", "verify"],
    ["user", "list"],
    ["user", "add", "--user", "ADM", "--initials", "X", "--name", "X", "--role", "infirmier",
     "--pin", "5283"],
    ["validate", "list"],
    ["goahead", "list"],
    ["ordonnancier", "verify"],
    ["include", "protocols"],
    ["patient", "show", "--patient", "9000101"],
    ["prescribe", "preview", "--cure", "1", "--weight", "70,5", "--height", "170"],
    ["note", "list", "--patient", "9000101"],
    ["documents", "care-plan", "--date", "2026-03-02", "--no-pdf"],
    ["refresh", "--status"],
]  # fmt: skip


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_typo_in_store_is_refused_and_creates_nothing(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "pas-la" / "oncosecour.sqlite"
    code = main([*argv, "--store", str(typo)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip() == _refusal(typo)
    assert _nothing_created(typo) and not (tmp_path / "documents").exists()


def test_the_environment_variable_too(tmp_path, capsys, monkeypatch):
    typo = tmp_path / "oncosecour.sqlite"
    monkeypatch.setenv("ONCOSECOURS_STORE", str(typo))
    assert main(["status", "--json"]) == 2
    refusal = json.loads(capsys.readouterr().out)
    assert refusal["erreur"] == _refusal(typo).removeprefix("Refusé : ")
    assert not typo.exists()


def test_user_init_creates_the_store(tmp_path, capsys):
    store = tmp_path / "nouvelle" / "oncosecours.sqlite"
    code = main(["user", "init", "--store", str(store), "--initials", "ADM", "--name", "Admin"])
    assert code == 0, capsys.readouterr().err
    assert store.exists()
    assert main(["audit", "verify", "--store", str(store)]) == 0
    assert "1 événements vérifiés" in capsys.readouterr().out


@pytest.fixture
def copy_settings(tmp_path):
    from oncosecours.store import replica

    (tmp_path / "cle-usb").mkdir()  # the medium is plugged in; its folder is made on demand
    folder = tmp_path / "cle-usb" / "OncoSecours"
    path = tmp_path / "etablissement.toml"
    path.write_text(f'[copie_secours]\ndossier = "{folder.as_posix()}"\n', encoding="utf-8")
    yield path, folder
    replica.use_settings(None)
    replica.failures._pending_warning = None


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_main_store_lost_the_second_copy_is_kept_then_restored(tmp_path, capsys, copy_settings):
    settings, folder = copy_settings
    store = tmp_path / "poste" / "oncosecours.sqlite"
    s = ("--store", str(store))
    assert main(["user", "init", *s, "--initials", "ADM", "--name", "Admin"]) == 0
    assert main(["user", "add", *s, "--user", "ADM", "--initials", "IDE", "--name", "Infirmière",
                 "--role", "infirmier", "--pin", "5283"]) == 0  # fmt: skip
    assert main(["backup", "now", *s, "--settings", str(settings)]) == 0
    copies = sorted(p for p in folder.rglob("*") if p.is_file())
    assert copies
    before = {p: _digest(p) for p in copies}
    capsys.readouterr()

    for suffix in ("", "-wal", "-shm"):  # the main store is lost
        Path(f"{store}{suffix}").unlink(missing_ok=True)

    assert main(["audit", "verify", *s]) == 2
    assert capsys.readouterr().err.strip() == _refusal(store)
    assert main(["status", *s]) == 2
    assert main(["backup", "now", *s, "--settings", str(settings)]) == 2
    assert capsys.readouterr().err.strip().endswith(_refusal(store).removeprefix("Refusé : "))
    assert not store.exists()
    assert {p: _digest(p) for p in copies} == before  # the good copy is untouched

    replica = next(p for p in copies if p.suffix == ".sqlite" and "instantan" not in str(p))
    code = main(["backup", "restore", "--from", str(replica), *s, "--user", "ADM",
                 "--settings", str(settings)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["audit", "verify", *s]) == 0
    assert "Journal d'audit intègre" in capsys.readouterr().out
    conn = connect(store, create=False)
    assert [r[0] for r in conn.execute("SELECT initials FROM users ORDER BY 1")] == ["ADM", "IDE"]
    conn.close()
