"""The report (docx read back, JSON beside it), the CLI, and the periodic requalification shown
by ``oncosecours status`` and the Accueil sheet."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from qualification_helpers import edit

from oncosecours.qualification.items import NON_CONFORME, Item
from oncosecours.qualification.periodic import qualification_status
from oncosecours.qualification.report import build_record, write_report
from oncosecours.qualification.run import kit_settings, qualify

PIN = "1357"


@pytest.fixture
def store(tmp_path) -> Path:
    from oncosecours.services.users import bootstrap_admin, create_user
    from oncosecours.store.db import connect

    path = tmp_path / "unite" / "oncosecours.sqlite"
    conn = connect(path)
    admin = bootstrap_admin(conn, "ADM", "Admin", PIN)
    create_user(conn, admin, "PH1", "Anne Pharmacienne", "pharmacien", PIN)
    create_user(conn, admin, "IDE1", "Ivan Infirmier", "infirmier", PIN)
    conn.close()
    return path


def _cli(*args: str, pin: str = PIN) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "ONCOSECOURS_PIN": pin}
    env.pop("ONCOSECOURS_STORE", None)
    return subprocess.run([sys.executable, "-m", "oncosecours", *args], capture_output=True,
                          text=True, env=env, timeout=600)  # fmt: skip


def _docx_text(path: Path) -> str:
    from docx2python import docx2python

    with docx2python(path) as document:
        return document.text


@pytest.mark.slow
def test_failing_run_report_is_non_conforme_in_red_with_the_failing_items_first(kit, tmp_path):
    edit(kit / "etablissement.toml", "dfg_max_calvert = 125.0", "dfg_max_calvert = 200.0")
    result = qualify(kit, "PH1 — Anne (pharmacien)", tmp_path / "rapports", parts=("IQ", "OQ"),
                     pdf=False)  # fmt: skip
    record, files = result["record"], result["fichiers"]
    assert record["verdict"] == "NON CONFORME"
    failing = [e["ref"] for e in record["essais"] if e["verdict"] == NON_CONFORME]
    assert "OQ-10.carbo.Carboplatine" in failing
    assert any(
        e["title"] == "Fichier etablissement.toml"
        for e in record["essais"]
        if e["verdict"] == NON_CONFORME
    )  # the IQ sees the edited settings too
    assert [e["verdict"] for e in record["essais"][: len(failing)]] == [NON_CONFORME] * len(failing)
    saved = json.loads(Path(files["json"]).read_text(encoding="utf-8"))
    assert saved["verdict"] == "NON CONFORME" and saved["essais"] == record["essais"]
    text = _docx_text(Path(files["docx"]))
    assert "VERDICT : NON CONFORME" in text and "VERDICT : CONFORME" not in text
    assert "OQ-10.carbo.Carboplatine" in text and "1125 mg" in text
    assert text.index("Écarts") < text.index("OQ-10.carbo.Carboplatine") < text.index("Essais (")
    assert "Pharmacien responsable" in text and "Responsable assurance qualité" in text
    with zipfile.ZipFile(files["docx"]) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    verdict_run = xml[: xml.index("VERDICT : NON CONFORME")].rsplit("<w:r>", 1)[-1]
    assert 'w:val="C00000"' in verdict_run  # printed in red


def test_conforming_report_prints_the_verdict_without_red(tmp_path):
    from oncosecours.settings import load_settings

    items = [Item("IQ-03", "IQ", "Version de Python", "3.11", "3.11.9", "conforme")]
    record = build_record(items, kit=tmp_path, who="PH1", parts=["IQ"], fingerprint=None,
                          manifest_date=None, excel_note="")  # fmt: skip
    files = write_report(record, tmp_path, load_settings(), pdf=False)
    text = _docx_text(Path(files["docx"]))
    assert "VERDICT : CONFORME" in text and "Aucun écart." in text


def test_cli_iq_records_and_status_shows_then_warns_on_change_and_age(kit, store):
    out = _cli("qualification", "iq", "--store", str(store), "--user", "PH1", "--kit", str(kit),
               "--no-pdf", "--json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["verdict"] == "CONFORME" and data["par"].startswith("PH1 — Anne")
    assert Path(data["fichiers"]["docx"]).parent == store.parent / "qualification"
    status = qualification_status(kit_settings(kit), store, kit=kit)
    assert status["a_jour"] and status["message"].startswith("Dernière qualification du poste")
    shown = _cli("status", "--store", str(store), "--date", "2026-03-02")
    assert "qualification du poste" in shown.stdout and shown.returncode == 0
    edit(kit / "templates" / "CHAMPS.md", "#", "##")
    changed = qualification_status(kit_settings(kit), store, kit=kit)
    assert not changed["a_jour"] and "modifiés depuis" in changed["message"]
    later = datetime.now().astimezone() + timedelta(days=200)
    old = qualification_status(kit_settings(kit), store, kit=kit, now=later)
    assert "plus de 6 mois" in old["message"] and old["message"].startswith("ATTENTION")


def test_report_redone_from_a_run_with_excel_results_keeps_the_original(kit, store, tmp_path):
    out = _cli("qualification", "iq", "--store", str(store), "--user", "PH1", "--kit", str(kit),
               "--no-pdf", "--json")  # fmt: skip
    original = Path(json.loads(out.stdout)["fichiers"]["json"])
    before = original.read_bytes()
    results = tmp_path / "autotest-excel.json"
    results.write_text(json.dumps({"format": 1, "poste": "PC", "excel": "16.0",
                                   "date": datetime.now().astimezone().isoformat(),
                                   "resultats": []}), encoding="utf-8")  # fmt: skip
    redo = _cli("qualification", "report", "--from", str(original), "--excel-results",
                str(results), "--no-pdf", "--json")  # fmt: skip
    assert redo.returncode != 0, redo.stderr  # no step played: NON CONFORME
    data = json.loads(redo.stdout)
    redone = Path(data["fichiers"]["json"])
    assert original.read_bytes() == before and redone != original and redone.exists()
    assert data["verdict"] == "NON CONFORME" and data["refait_depuis"] == original.name
    assert "rapport refait le" in _docx_text(Path(data["fichiers"]["docx"]))
    status = qualification_status(kit_settings(kit), store, kit=kit)
    assert not status["a_jour"] and "NON CONFORME" in status["message"]


def test_cli_refuses_a_nurse_and_a_wrong_pin_in_french(kit, store):
    nurse = _cli("qualification", "iq", "--store", str(store), "--user", "IDE1", "--kit",
                 str(kit), "--no-pdf")  # fmt: skip
    assert nurse.returncode == 2 and "ne peut pas qualifier ce poste" in nurse.stderr
    wrong = _cli("qualification", "iq", "--store", str(store), "--user", "PH1", "--kit",
                 str(kit), pin="0000")  # fmt: skip
    assert wrong.returncode == 2 and "code PIN incorrects" in wrong.stderr
    assert not (store.parent / "qualification").exists()


def test_never_qualified_pc_is_said_and_the_setting_is_validated(tmp_path, store):
    from oncosecours.domain.errors import OncoError
    from oncosecours.settings import load_settings

    status = qualification_status(load_settings(), store, kit=tmp_path)
    assert "n'a jamais été qualifié" in status["message"] and not status["a_jour"]
    bad = tmp_path / "etablissement.toml"
    bad.write_text("[qualification]\nvalidite_mois = 0\n", encoding="utf-8")
    with pytest.raises(OncoError, match="qualification.validite_mois"):
        load_settings(bad)


def test_help_is_french():
    out = _cli("qualification", "--help")
    assert "qualifier ce poste" in out.stdout.lower() or "qualification complète" in out.stdout
    run = _cli("qualification", "run", "--help")
    assert "résultats de l'autotest Excel" in run.stdout and "utilisation :" in run.stdout


def test_accueil_sheet_shows_the_last_qualification_of_this_pc(tmp_path, store, kit, monkeypatch):
    import openpyxl

    from oncosecours.excel.builder import build_workbook
    from oncosecours.excel.layout import load_layout

    monkeypatch.setenv("ONCOSECOURS_DIR", str(kit))
    cell = load_layout().sheet("Accueil").field("qualification").cell
    never = build_workbook(tmp_path / "avant.xlsm", store=store)
    sheet = openpyxl.load_workbook(never)["Accueil"]
    assert "n'a jamais été qualifié" in sheet[cell].value
    qualify(kit, "PH1", store.parent / "qualification", parts=("IQ",), pdf=False)
    after = build_workbook(tmp_path / "apres.xlsm", store=store)
    sheet = openpyxl.load_workbook(after)["Accueil"]
    assert sheet[cell].value.startswith("Dernière qualification du poste")
