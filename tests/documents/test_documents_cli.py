"""``oncosecours documents ...``, ``templates ...`` and ``bench documents`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from documents_helpers import docx_text

from oncosecours.cli import main

DAY = "2026-03-02"


def _store(day_conn) -> str:
    return day_conn.execute("PRAGMA database_list").fetchone()[2]


def test_documents_fabrication_for_a_day(day_conn, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["documents", "fabrication", "--date", DAY, "--store", _store(day_conn)]
    code = main([*argv, "--out", str(out), "--no-pdf", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["docx"]) == 4 and data["pdf"] == [] and data["pdf_erreur"] is None
    assert Path(data["a_imprimer"]).name == f"fiches_{DAY}_toutes.docx"
    assert all(Path(p).exists() for p in data["fichiers"])


def test_documents_labels_for_two_preparations_and_a_sheet(day_conn, day_store, tmp_path, capsys):
    numbers = day_store["numbers"]["ndiaye"]
    argv = ["documents", "labels", "--store", _store(day_conn), "--out", str(tmp_path)]
    for number in numbers:
        argv += ["--preparation", number]
    assert main([*argv, "--planche", "--no-pdf"]) == 0
    text = capsys.readouterr().out
    assert "À imprimer :" in text and "etiquettes_planche.docx" in text
    sheet = docx_text(tmp_path / "etiquettes_planche.docx")
    assert all(n in sheet for n in numbers)


def test_documents_care_plan_and_ordonnancier(day_conn, tmp_path, capsys):
    store = _store(day_conn)
    assert (
        main(
            [
                "documents",
                "care-plan",
                "--date",
                DAY,
                "--patient",
                "9100002",
                "--t0",
                "9h00",
                "--store",
                store,
                "--out",
                str(tmp_path),
                "--no-pdf",
            ]
        )
        == 0
    )
    (plan,) = tmp_path.glob("plan_de_soins_*.docx")
    assert "N'DIAYE Aïssatou" in docx_text(plan) and "09:00" in docx_text(plan)
    assert (
        main(
            [
                "documents",
                "ordonnancier",
                "--from",
                "2026-03-01",
                "--to",
                DAY,
                "--by",
                "drug",
                "--store",
                store,
                "--out",
                str(tmp_path),
                "--no-pdf",
            ]
        )
        == 0
    )
    assert (tmp_path / f"ordonnancier_2026-03-01_{DAY}_par_molecule.docx").exists()
    capsys.readouterr()


def test_refusals_are_french_and_exit_2(day_conn, tmp_path, capsys):
    store = _store(day_conn)
    base = ["--store", store, "--out", str(tmp_path), "--no-pdf"]
    assert main(["documents", "fabrication", "--date", "2026-03-09", *base]) == 2
    assert "Refusé : Aucune préparation pour le 09/03/2026" in capsys.readouterr().err
    assert main(["documents", "fabrication", "--preparation", "2026-999999", *base]) == 2
    assert "Préparation inconnue" in capsys.readouterr().err
    assert main(["documents", "care-plan", "--date", DAY, "--patient", "0000", *base]) == 2
    assert "Patient inconnu" in capsys.readouterr().err


def test_templates_sample_and_reset(tmp_path, capsys):
    assert main(["templates", "sample", "--out", str(tmp_path / "ex"), "--no-pdf"]) == 0
    assert (tmp_path / "ex" / "exemple_etiquettes_planche.docx").exists()
    assert main(["templates", "reset", str(tmp_path / "new")]) == 0
    assert (tmp_path / "new" / "CHAMPS.md").exists()
    assert main(["templates", "reset", str(tmp_path / "new")]) == 2  # never overwrites
    assert "choisir un dossier vide" in capsys.readouterr().err
    assert main(["templates", "check", str(tmp_path / "new")]) == 0


def test_bench_documents_prints_both_ways_and_the_ratio(capsys):
    assert main(["bench", "documents", "--count", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["documents"] == 3
    assert data["naive_s"] > 0 and data["compile_s"] > 0
    assert abs(data["ratio"] - data["naive_s"] / data["compile_s"]) < 1e-9
