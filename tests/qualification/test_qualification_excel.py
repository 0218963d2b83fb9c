"""The Excel self-test: its VBA module is in the built workbook (olevba), every procedure it
calls exists, its steps are the Python side's, the Python side works through a fake
``Book.caller()`` (the real ribbon click path), and LibreOffice runs what it can."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from oncosecours.excel import builder
from oncosecours.qualification import excel_autotest as q
from oncosecours.qualification import excel_results as xl
from oncosecours.qualification.items import NON_APPLICABLE, NON_CONFORME
from oncosecours.resources import shipped

BAS = shipped("addin") / "OncoSecoursAutoTest.bas"


VBA_WORDS = {
    # statements and language words
    "If", "Dim", "For", "Next", "End", "Exit", "On", "Set", "Private", "Public", "Option",
    "Attribute", "Else", "Echec",
    # VBA and Excel built-ins the module uses
    "Kill", "MkDir", "MsgBox", "Dir", "Replace", "vbOKCancel", "CreateObject", "Application",
    "Workbooks", "ThisWorkbook",
    # the module's variables
    "mErreur", "liste", "action", "dossier", "copie", "fso", "env", "essai", "Python",
}  # fmt: skip


def _code(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("'"))


def test_module_is_in_the_built_workbook_as_olevba_reads_it(tmp_path):
    from oletools.olevba import VBA_Parser

    path = builder.build_workbook(tmp_path / "OncoSecours.xlsm")
    parser = VBA_Parser(str(path))
    try:
        modules = {f.rsplit(".", 1)[0]: c for _, _, f, c in parser.extract_macros()}
    finally:
        parser.close()
    assert "OncoSecoursAutoTest" in modules
    assert (
        "Public Sub OncoSecoursQualifier(control As IRibbonControl)"
        in modules["OncoSecoursAutoTest"]
    )


def test_steps_of_the_vba_are_the_python_steps_and_every_tag_is_a_ribbon_action():
    from oncosecours.excel.registry import BY_TAG

    constant = re.search(r'ETAPES As String = "([^"]*)"', BAS.read_text("utf-8")).group(1)
    assert constant.split("|") == [tag for tag, _user in q.STEPS]
    # every button but « Qualifier ce poste » itself is played, closing the crisis last
    assert set(constant.split("|")) == set(BY_TAG) - {"qualifier"}
    assert constant.split("|")[-1] == "clore_crise"


def test_every_procedure_the_module_calls_exists():
    modules = builder.project_modules()
    modules["xlwings"] = builder.xlwings_module()
    code = _code(BAS.read_text("utf-8"))
    defined_here = set(re.findall(r"(?:Sub|Function) (\w+)\s*\(", code))
    public = {
        name
        for source in modules.values()
        for name in re.findall(r"^(?:Public )?(?:Sub|Function) (\w+)\s*\(", source, re.M)
    }
    called = set(re.findall(r"^\s*(?:If Not |If )?(\w+)(?: |\()", code, re.M))
    unknown = {c for c in called - VBA_WORDS - defined_here if c not in public}
    assert unknown == set(), unknown
    assert "OncoSecoursLancer" in called and "RunPython" in code
    # the Python entry points it names exist with those arguments
    for name in re.findall(r"q\.(\w+)\(", code):
        assert callable(getattr(q, name)), name
    assert "oncosecours.excel.ribbon as r; r.run(" in code
    # the macro run in the copy is the module's own public sub
    target = re.search(r"!OncoSecoursAutoTest\.(\w+)", code).group(1)
    assert re.search(rf"Public Sub {target}\(ByVal \w+ As String\)", code)


def _play(book, monkeypatch) -> None:
    """What the VBA does in the copy, step by step; the click is the real ribbon.run."""
    from oncosecours.excel import ribbon
    from oncosecours.excel.layout import load_layout

    user = load_layout().sheet("Accueil").field("utilisateur").cell
    assert q.start().startswith("autotest prêt")
    for n, (tag, _initials) in enumerate(q.STEPS, start=1):
        q.prepare(n, tag)
        monkeypatch.setenv("ONCOSECOURS_USER", book.value("Accueil", user))
        monkeypatch.setenv("ONCOSECOURS_PIN", q.PIN)
        ribbon.run(tag)
        q.check(n, tag)


def _copy(tmp_path, monkeypatch, settings: str) -> tuple[Path, object]:
    """The scratch copy as the VBA leaves it: workbook and settings, behind a fake caller."""
    import xlwings as xw

    from oncosecours.excel.memorybook import MemoryBook

    folder = tmp_path / "qualification" / "autotest"
    folder.mkdir(parents=True)
    (folder / "etablissement.toml").write_text(settings, encoding="utf-8")
    book = MemoryBook.from_xlsm(builder.build_workbook(folder / "OncoSecours-essai.xlsm"))
    monkeypatch.setattr(xw.Book, "caller", classmethod(lambda cls: book))
    for name in ("ONCOSECOURS_STORE", "ONCOSECOURS_SETTINGS"):
        monkeypatch.delenv(name, raising=False)
    _play(book, monkeypatch)
    return folder, book


@pytest.mark.slow
def test_python_side_plays_every_button_through_a_fake_caller(tmp_path, monkeypatch):
    # a site set up for the crisis exit (FINESS) that keeps opened oxaliplatin vials 24 h
    settings = (
        shipped("etablissement.toml")
        .read_text(encoding="utf-8")
        .replace('dossier = ""', 'dossier = "E:\\\\OncoSecours"')
        .replace('finess = ""', 'finess = "750000001"')
        .replace("stabilite_reliquats_h = {}", 'stabilite_reliquats_h = { "OXALIPLATINE" = 24 }')
    )
    folder, _book = _copy(tmp_path, monkeypatch, settings)
    assert q.finish("16.0").endswith(
        f"{len(q.STEPS)}/{len(q.STEPS)} étapes conformes ou non applicables"
    )
    # the copy's settings send its second copy to a scratch folder, never the unit's medium
    assert 'dossier = "copie-autotest"' in (folder / "etablissement.toml").read_text("utf-8")
    assert "E:" not in (folder / "etablissement.toml").read_text("utf-8")
    items = xl.load_items(folder / q.RESULTS, windows=True)
    failed = [(i.title, i.observed) for i in items if i.failed]
    assert len(items) == len(q.STEPS) + 1 and failed == []
    assert items[1].title == "Bouton « Actualiser les sauvegardes » (PH1)"
    assert items[-1].title == "Bouton « Clore la crise » (PH1)"
    assert "REGISTRE_CLOS" in items[-1].expected
    assert {i.verdict for i in items} == {"conforme"}  # the leftover was really discarded
    assert xl.summary(items).endswith(f"{len(q.STEPS)} étapes du ruban, {len(q.STEPS)} conformes")
    assert (folder / q.STORE).exists()  # the copy's own scratch store


@pytest.mark.slow
def test_self_test_names_the_buttons_this_site_cannot_use(tmp_path, monkeypatch):
    """Shipped settings: no FINESS (billing refused, a deviation to fix before the crisis exit)
    and no leftover kept (discarding does not apply)."""
    folder, _book = _copy(tmp_path, monkeypatch, shipped("etablissement.toml").read_text("utf-8"))
    q.finish("16.0")
    by = {i.title: i for i in xl.load_items(folder / q.RESULTS, windows=True)}
    billing = by["Bouton « Facturation liste en sus » (PH1)"]
    assert billing.verdict == NON_CONFORME and "FINESS" in billing.observed
    assert by["Bouton « Jeter le reliquat » (PR1)"].verdict == NON_APPLICABLE
    assert [t for t, i in by.items() if i.failed] == [billing.title]
    assert by["Bouton « Clore la crise » (PH1)"].verdict == "conforme"


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_workstation_on_postgresql_self_tests_on_the_copy_s_file_not_the_server(
    engine, tmp_path, monkeypatch
):
    """The unit's settings name its server: every button of the copy writes the copy's scratch
    file (its settings say SQLite), and the server's register is exactly as before."""
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    unit_settings = Path(os.environ["ONCOSECOURS_SETTINGS"])
    register = connect(tmp_path / "registre")  # the unit's register: the server
    bootstrap_admin(register, "ADM", "Administrateur Unité", "7391")
    before = list(register.iterdump())
    register.close()
    folder, _book = _copy(tmp_path, monkeypatch, unit_settings.read_text("utf-8"))
    q.finish("16.0")
    copied = (folder / "etablissement.toml").read_text("utf-8")
    assert 'moteur = "sqlite"' in copied and 'moteur = "postgresql"' not in copied
    failed = [i.title for i in xl.load_items(folder / q.RESULTS, windows=True) if i.failed]
    assert failed == ["Bouton « Facturation liste en sus » (PH1)"]  # no FINESS, as shipped
    assert (folder / q.STORE).exists()
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(unit_settings))
    register = connect(tmp_path / "registre")
    try:
        assert list(register.iterdump()) == before
    finally:
        register.close()


def _results(tmp_path, rows, when=None) -> Path:
    path = tmp_path / q.RESULTS
    data = {
        "format": 1,
        "poste": "PC",
        "excel": "16.0",
        "date": (when or datetime.now().astimezone()).isoformat(),
        "resultats": rows,
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_results_missing_steps_failures_and_age_are_reported(tmp_path):
    rows = [{"etape": 1, "bouton": "actualiser", "resultat": "conforme", "attendu": "a",
             "observe": "b"},
            {"etape": 2, "bouton": "nouveau_patient", "resultat": "non_conforme",
             "attendu": "patient créé", "observe": "échec : Run-time error 70"}]  # fmt: skip
    items = xl.load_items(_results(tmp_path, rows), windows=True)
    by = {i.ref: i for i in items}
    assert by["XL-01"].verdict == "conforme"
    assert by["XL-02"].verdict == NON_CONFORME and "70" in by["XL-02"].observed
    assert by["XL-03"].observed == "non jouée" and by["XL-03"].failed
    rows.append({"etape": 12, "bouton": "jeter_reliquat", "resultat": "non_applicable",
                 "attendu": "reliquat jeté", "observe": "aucun reliquat en stock"})  # fmt: skip
    by = {i.ref: i for i in xl.load_items(_results(tmp_path, rows), windows=True)}
    assert by["XL-12"].verdict == NON_APPLICABLE and not by["XL-12"].failed
    old = xl.load_items(_results(tmp_path, rows, datetime.now().astimezone() - timedelta(days=3)),
                        windows=True)  # fmt: skip
    assert old[0].failed
    assert xl.load_items(None, windows=False)[0].verdict == NON_APPLICABLE
    assert xl.load_items(None, windows=True)[0].verdict == NON_CONFORME


def _uno() -> bool:
    if shutil.which("soffice") is None or not Path("/usr/bin/python3").exists():
        return False
    return (
        subprocess.run(["/usr/bin/python3", "-c", "import uno"], capture_output=True).returncode
        == 0
    )


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(not _uno(), reason="LibreOffice (soffice + python3-uno) absent")
def test_libreoffice_compiles_and_runs_the_self_test_diagnostic(tmp_path):
    from pyopenvba import ExcelFile

    path = builder.build_workbook(tmp_path / "OncoSecours.xlsm")
    with ExcelFile(str(path)) as book:  # LibreOffice cannot compile xlwings' Declare PtrSafe
        book.vba_project().delete_module("xlwings")
        book.save()
    script = Path(__file__).resolve().parents[1] / "excel" / "lo_smoke.py"
    out = subprocess.run(["/usr/bin/python3", str(script), str(path), "OncoSecoursAutoTest",
                          "OncoSecoursAutoTestDiagnostic"], capture_output=True, text=True,
                         timeout=180, check=True, env={**os.environ})  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result.get("error") is None, result
    assert (
        result["value"]
        == f"OncoSecours : autotest de {len(q.STEPS)} étapes, copie dans qualification\\autotest"
    )
