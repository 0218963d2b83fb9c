"""The commands: ``refresh`` (exact --json shape, --status), ``synth``, the ``bench`` group."""

from __future__ import annotations

import json

import pytest

from oncosecours.cli import build_parser, main


@pytest.fixture
def store(store_path, monkeypatch):
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    bootstrap_admin(connect(store_path), "ADM", "Admin", "7391")
    monkeypatch.setenv("ONCOSECOURS_PIN", "7391")
    return store_path


def test_refresh_json_is_exactly_the_agreed_shape(store, hegp, capsys):
    code = main(["refresh", "--backups", str(hegp), "--store", str(store), "--user", "ADM",
                 "--json"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    data = json.loads(captured.out)
    assert list(data) == ["tables", "backup_date", "warnings"]
    assert data["tables"] == {"patients": 5, "protocols": 5, "protocol_lines": 53,
                              "molecules": 8, "products": 42, "history": 493}  # fmt: skip
    assert list(data["tables"]) == ["patients", "protocols", "protocol_lines", "molecules",
                                    "products", "history"]  # fmt: skip
    assert data["backup_date"] == "2023-09-07"
    assert data["warnings"][0].startswith("SAUVEGARDE ANCIENNE")  # 2023: stale today
    assert "Lecture de LIGNEPROTOCOL*.csv" in captured.err  # progress goes to stderr


def test_refresh_text_and_status(store, hegp, capsys):
    assert main(["refresh", "--backups", str(hegp), "--store", str(store), "--user", "ADM",
                 "--quiet"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith("Sauvegarde Chimio du 07/09/2023 chargée")
    assert "lignes d'historique" in out and "Avertissements" in out
    assert main(["refresh", "--status", "--store", str(store)]) == 0
    assert capsys.readouterr().out.startswith("SAUVEGARDE ANCIENNE : Chimio du 07/09/2023")
    assert main(["refresh", "--status", "--store", str(store), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["stale"] is True and status["counts"]["history"] == 493


def test_refresh_needs_backups_and_user(store, capsys):
    assert main(["refresh", "--store", str(store)]) == 2
    assert "--backups" in capsys.readouterr().err


def test_synth_then_refresh(store, tmp_path, capsys):
    out = tmp_path / "synthese"
    assert main(["synth", "--out", str(out), "--seed", "2", "--date", "2026-02-01",
                 "--json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["lignes"]["patients"] == 300
    assert main(["refresh", "--backups", str(out), "--store", str(store), "--user", "ADM",
                 "--json", "--quiet"]) == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert data["backup_date"] == "2026-02-01" and data["tables"]["history"] == 6000
    assert main(["synth", "--out", str(out)]) == 2  # not empty: nothing overwritten
    assert "n'est pas vide" in capsys.readouterr().err


def test_bench_is_a_group_others_can_extend(monkeypatch, capsys):
    from oncosecours.commands import bench

    args = build_parser().parse_args(["bench", "refresh", "--scale", "small", "--json"])
    assert args.handler.__name__ == "_bench_refresh" and args.scale == "small"

    def register(sub):
        parser = sub.add_parser("essai-fictif", help="mesure fictive")
        bench.add_bench_options(parser)
        parser.set_defaults(handler=lambda a: print("mesure fictive") or 0)

    monkeypatch.setitem(bench.BENCHES, "essai-fictif", register)
    assert main(["bench", "essai-fictif"]) == 0
    assert capsys.readouterr().out.strip() == "mesure fictive"


def test_bench_collects_register_bench_hooks_of_command_modules():
    parser = build_parser()
    group = next(a for a in parser._subparsers._group_actions if "bench" in a.choices)
    bench_parser = group.choices["bench"]
    sub = next(a for a in bench_parser._subparsers._group_actions)
    import importlib
    import pkgutil

    import oncosecours.commands as package

    hooked = [
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if hasattr(importlib.import_module(f"oncosecours.commands.{info.name}"), "register_bench")
    ]
    assert "refresh" in sub.choices
    assert len(sub.choices) >= 1 + len(hooked)
