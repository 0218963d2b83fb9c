"""The OQ crisis day passes on a correct install; one expected behaviour mutated (a dose rule
disabled through the settings, a template field removed, a weak PIN policy, a query edited)
and the report says NON CONFORME, naming that item."""

from __future__ import annotations

import json
import tomllib
import zipfile

import pytest
from qualification_helpers import by_ref, edit

from oncosecours.qualification import oq
from oncosecours.qualification.items import NON_CONFORME, OVERALL_OK, overall
from oncosecours.qualification.run import kit_settings

pytestmark = pytest.mark.slow


def _oq(kit):
    return oq.run_oq(kit, kit_settings(kit))


def test_expected_values_are_fixed_numbers_with_their_source():
    """The reference values are data (hand-computed), not calls to the code under test."""
    expected = oq.load_expected()
    for person in expected["patients"]:
        assert person["source_surface"]
        for dose in person["doses"]:
            assert isinstance(dose["dose_mg"], float) and dose["source"]
    carbo = next(p for p in expected["patients"] if p["cle"] == "carbo")
    assert next(d for d in carbo["doses"] if d["molecule"] == "Carboplatine")["dose_mg"] == 750.0
    source = oq.EXPECTED.read_text(encoding="utf-8")
    assert "calcul" in source and "import" not in source
    with oq.EXPECTED.open("rb") as handle:
        assert tomllib.load(handle)["ordonnancier"]["premier_numero"] == "2026-000001"


def test_the_day_passes_on_a_correct_install_and_touches_no_register(kit, tmp_path, monkeypatch):
    unit_store = tmp_path / "registre.sqlite"
    monkeypatch.setenv("ONCOSECOURS_STORE", str(unit_store))
    items = _oq(kit)
    failing = [(i.ref, i.expected, i.observed) for i in items if i.failed]
    assert failing == []
    assert overall(items) == OVERALL_OK
    refs = by_ref(items)
    for ref in ("OQ-06", "OQ-12.oxali", "OQ-13", "OQ-16", "OQ-18"):  # the refusals that fire
        assert "refus" in refs[ref].observed.lower() or "diluant" in refs[ref].observed
    assert "750 mg" in refs["OQ-10.carbo.Carboplatine"].observed
    assert "2026-000001" in refs["OQ-17"].observed
    assert not unit_store.exists()  # the unit's register is never opened
    assert not (kit.parent / "support").exists() or not any((kit.parent / "support").iterdir())


def test_gfr_cap_disabled_through_the_settings_names_the_carboplatin(kit):
    edit(kit / "etablissement.toml", "dfg_max_calvert = 125.0", "dfg_max_calvert = 200.0")
    refs = by_ref(_oq(kit))
    carbo = refs["OQ-10.carbo.Carboplatine"]
    assert carbo.verdict == NON_CONFORME and "1125 mg" in carbo.observed
    assert [i for i in refs.values() if i.failed] == [carbo]


def test_template_field_removed_names_the_fabrication_sheet(kit):
    path = kit / "templates" / "fiche_fabrication.docx"
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    parts["word/document.xml"] = parts["word/document.xml"].replace(
        b"{{ ordonnancier.numero }}", b"", 1
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    failing = [i for i in _oq(kit) if i.failed]
    assert [i.ref for i in failing] == ["OQ-21"]
    assert "2026-000001" in failing[0].observed  # the number missing from the fiche


def test_weak_pin_policy_names_the_pin_item(kit, monkeypatch):
    from oncosecours.services import users

    monkeypatch.setattr(users, "_check_new_user", lambda *a: None)  # no PIN rule any more
    failing = [i for i in _oq(kit) if i.failed]
    assert [i.ref for i in failing] == ["OQ-03"]
    assert "acceptés : 12, abcd, 12a4" in failing[0].observed


def test_query_file_edited_stops_the_day_at_the_refresh_and_says_what_was_not_played(kit):
    edit(kit / "queries" / "patients.toml", "PATIENT_NUM", "NUMERO_PATIENT")
    items = _oq(kit)
    failing = [i for i in items if i.failed]
    assert failing[0].ref == "OQ-05" and "arrêt" in failing[0].observed
    assert {i.observed for i in failing[1:]} == {"non jouée"}
    assert len(failing) == len(oq.OqDay.steps(oq.OqDay.__new__(oq.OqDay))) - 2
    json.dumps([i.as_dict() for i in items])  # the results stay serialisable


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_on_a_postgresql_workstation_the_day_plays_on_a_scratch_file_not_the_server(
    engine, kit, tmp_path, monkeypatch
):
    """A kit whose settings name the unit's server: the scripted day (fake patients, numbers,
    a refresh) goes to a scratch SQLite file; the server's register is exactly as before."""
    import os
    from pathlib import Path

    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    server_settings = Path(os.environ["ONCOSECOURS_SETTINGS"]).read_text(encoding="utf-8")
    medium = (tmp_path / "support").as_posix()
    (kit / "etablissement.toml").write_text(
        server_settings.replace('dossier = ""', f'dossier = "{medium}"', 1), encoding="utf-8"
    )
    register = connect(tmp_path / "registre")  # the unit's register: the server
    bootstrap_admin(register, "ADM", "Administrateur Unité", "7391")
    before = list(register.iterdump())
    register.close()
    monkeypatch.delenv("ONCOSECOURS_SETTINGS")  # the OQ reads the kit's own settings
    items = _oq(kit)
    failing = [(i.ref, i.expected, i.observed) for i in items if i.failed]
    assert failing == []
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(kit / "etablissement.toml"))
    register = connect(tmp_path / "registre")
    try:
        assert list(register.iterdump()) == before
    finally:
        register.close()
