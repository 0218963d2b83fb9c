"""The kit's manifest and the installation qualification (IQ) against it, on Linux."""

from __future__ import annotations

import json
import re
import sys

import pytest
from qualification_helpers import by_ref, edit

from oncosecours.kit import manifest as km
from oncosecours.qualification import iq
from oncosecours.qualification.items import (
    CONFORME,
    CONSTAT,
    NON_APPLICABLE,
    NON_CONFORME,
    OVERALL_KO,
    OVERALL_OK,
    overall,
)
from oncosecours.qualification.run import kit_settings


def test_manifest_holds_every_kit_file_its_sha256_and_the_wheel_versions(kit):
    data = json.loads((kit / km.MANIFEST_NAME).read_text(encoding="utf-8"))
    on_disk = {p.relative_to(kit).as_posix() for p in kit.rglob("*") if p.is_file()} - {
        km.MANIFEST_NAME
    }
    assert set(data["fichiers"]) == on_disk
    patients = kit / "queries" / "patients.toml"
    import hashlib

    assert (
        data["fichiers"]["queries/patients.toml"]
        == hashlib.sha256(patients.read_bytes()).hexdigest()
    )
    assert data["paquets"]["pandas"] and "pywin32" in data["paquets"]
    assert {"vba:OncoSecoursRuban", "vba:OncoSecoursAutoTest", "vba:xlwings"} <= set(
        data["classeur"]
    )
    assert any(k.startswith("ruban:") for k in data["classeur"])


def test_workbook_code_fingerprint_survives_the_installer_but_not_a_code_change(kit):
    from oncosecours.excel.builder import set_xlwings_conf

    workbook = kit / "OncoSecours.xlsm"
    before_bytes, before_code = km.sha256_file(workbook), km.workbook_fingerprint(workbook)
    set_xlwings_conf(workbook, r"C:\OncoSecours\python\Scripts\python.exe")
    assert km.sha256_file(workbook) != before_bytes  # the installer writes into the workbook
    assert km.workbook_fingerprint(workbook) == before_code  # what runs is unchanged

    from pyopenvba import ExcelFile

    with ExcelFile(str(workbook)) as book:
        project = book.vba_project()
        source = book.get_module("OncoSecoursRuban")
        project.delete_module("OncoSecoursRuban")
        project.add_module(
            "OncoSecoursRuban",
            source.replace("PIN_MINUTES As Double = 10", "PIN_MINUTES As Double = 600"),
        )
        book.save()
    items = by_ref(iq.run_iq(kit, kit_settings(kit)))
    changed = [i for i in items.values() if "OncoSecoursRuban" in i.title]
    assert len(changed) == 1 and changed[0].verdict == NON_CONFORME


def test_iq_on_linux_passes_what_it_can_and_says_why_the_rest_is_not_applicable(kit):
    items = iq.run_iq(kit, kit_settings(kit))
    refs = by_ref(items)
    assert sys.platform != "win32"
    for ref in ("IQ-01", "IQ-02", "IQ-10"):  # Windows, Excel, the ASR rule
        assert refs[ref].verdict == NON_APPLICABLE and "non Windows" in refs[ref].reason
    assert refs["IQ-00"].verdict == CONFORME
    assert refs["IQ-03"].verdict == CONFORME  # the Python of the manifest
    assert refs["IQ-08"].verdict == CONFORME and "écrit et relu" in refs["IQ-08"].observed
    assert refs["IQ-09"].verdict == CONSTAT
    files = [i for i in items if i.title.startswith("Fichier ")]
    assert files and all(i.verdict == CONFORME for i in files)
    assert refs["IQ-06"].verdict == CONFORME  # wheelhouse checksums
    pywin32 = next(i for i in items if i.title == "Paquet pywin32")
    assert pywin32.verdict == NON_APPLICABLE
    assert overall(items) == OVERALL_OK


def test_an_edited_query_file_makes_the_iq_not_conforming_and_names_it(kit):
    edit(kit / "queries" / "patients.toml", "patients", "patient_s")
    items = iq.run_iq(kit, kit_settings(kit))
    failing = [i for i in items if i.failed]
    assert [i.title for i in failing] == ["Fichier queries/patients.toml"]
    assert "modifié depuis le kit" in failing[0].reason
    assert overall(items) == OVERALL_KO


def test_a_package_version_other_than_the_kits_and_an_added_file_are_named(kit):
    data = json.loads((kit / km.MANIFEST_NAME).read_text(encoding="utf-8"))
    data["paquets"]["openpyxl"] = "0.0.1"
    (kit / km.MANIFEST_NAME).write_text(json.dumps(data), encoding="utf-8")
    (kit / "templates" / "en_plus.docx").write_bytes(b"x")
    failing = {i.title: i for i in iq.run_iq(kit, kit_settings(kit)) if i.failed}
    assert failing["Paquet openpyxl"].expected == "0.0.1"
    assert "ajouté" in failing["Fichier templates/en_plus.docx"].reason


def test_no_second_medium_and_no_manifest_are_failures_not_passes(kit):
    edit(kit / "etablissement.toml", (kit.parent / "support").as_posix(), "")
    (kit / km.MANIFEST_NAME).unlink()
    refs = by_ref(iq.run_iq(kit, kit_settings(kit)))
    assert refs["IQ-08"].verdict == NON_CONFORME and "copie_secours" in refs["IQ-08"].reason
    assert refs["IQ-00"].verdict == NON_CONFORME and "introuvable" in refs["IQ-00"].observed


@pytest.mark.parametrize(
    ("value", "shown"), [(1, "BLOQUE"), (2, "audit"), (None, "non configurée")]
)
def test_asr_rule_read_on_windows_says_what_it_means(monkeypatch, value, shown):
    monkeypatch.setattr(iq, "is_windows", lambda: True)
    monkeypatch.setattr(iq, "read_asr_state", lambda: value)
    item = iq._asr()
    assert shown in item.observed and item.verdict == CONSTAT
    if value == 1:
        assert "oncosecours" in item.reason  # the CLI fallback is said
    assert iq.ASR_OFFICE_CHILD == "d4f940ab-401b-4efc-aadc-ad5f3c50688a"


def test_a_one_pc_register_is_noted_as_sqlite(kit):
    item = by_ref(iq.run_iq(kit, kit_settings(kit)))["IQ-11"]
    assert item.verdict == CONSTAT and item.observed.startswith("SQLite : un seul poste")


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_workstation_on_postgresql_checks_that_its_server_answers(engine, kit, tmp_path):
    import os
    from pathlib import Path

    settings = Path(os.environ["ONCOSECOURS_SETTINGS"]).read_text(encoding="utf-8")
    (kit / "etablissement.toml").write_text(settings, encoding="utf-8")
    item = by_ref(iq.run_iq(kit, kit_settings(kit)))["IQ-11"]
    assert item.verdict == CONFORME, item.observed
    assert "RÉPOND (PostgreSQL 1" in item.observed
    wrong = tmp_path / "mauvais-mot-de-passe.txt"
    wrong.write_text("pas-le-bon", encoding="utf-8")
    edited = re.sub(r'fichier_mot_de_passe = "[^"]*"', f'fichier_mot_de_passe = "{wrong.as_posix()}"',
                    settings)  # fmt: skip
    (kit / "etablissement.toml").write_text(edited, encoding="utf-8")
    item = by_ref(iq.run_iq(kit, kit_settings(kit)))["IQ-11"]
    assert item.verdict == NON_CONFORME
    assert "mot de passe ou utilisateur refusé par le serveur" in item.observed
    (kit / "etablissement.toml").write_text(
        settings.replace('fichier_mot_de_passe = "', 'fichier_mot_de_passe = "absent-', 1),
        encoding="utf-8",
    )
    item = by_ref(iq.run_iq(kit, kit_settings(kit)))["IQ-11"]
    assert item.verdict == NON_CONFORME and "mot de passe PostgreSQL illisible" in item.observed
