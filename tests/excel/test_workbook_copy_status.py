"""Issue 9 on the workbook: the state of the second copy on Accueil (at build time and after every
ribbon click), and a confirmation that says so when the copy of a successful action failed."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from oncosecours.excel.layout import load_layout

HOME = load_layout().sheet("Accueil")


def _settings_beside(folder: Path, copy_dir: Path) -> Path:
    """``etablissement.toml`` beside the workbook (read by the ribbon) naming the second copy."""
    path = folder / "etablissement.toml"
    value = str(copy_dir).replace("\\", "\\\\")
    if path.exists():  # the workstation's own settings (on PostgreSQL: its [base]) are kept
        text = path.read_text(encoding="utf-8")
        assert 'dossier = ""' in text
        path.write_text(text.replace('dossier = ""', f'dossier = "{value}"', 1), "utf-8")
    else:
        path.write_text(f'[copie_secours]\ndossier = "{value}"\n', encoding="utf-8")
    return path


def _home(station, key: str):
    return station.book.value("Accueil", HOME.field(key).cell)


def _new_patient(station, ipp: str) -> None:
    patients = load_layout().sheet("Patients")
    values = {
        "ipp": ipp,
        "nom_naissance": "Copie",
        "prenom": "Test",
        "date_naissance": datetime(1970, 1, 2),
        "sexe": "F",
        "poids": 60,
        "taille": 160,
        "date_mesures": datetime.combine(date.today(), datetime.min.time()),
    }
    for key, value in values.items():
        station.book.type("Patients", patients.field(key).cell, value)
    station.click("nouveau_patient")


@pytest.fixture
def no_warning_at_exit():
    from oncosecours.store import replica

    yield replica
    replica.failures._pending_warning = None


def test_missing_second_location_is_shown_on_accueil_and_in_the_confirmation(
    station, tmp_path, no_warning_at_exit
):
    replica = no_warning_at_exit
    absent = tmp_path / "cle-absente" / "OncoSecours"  # the USB key is not plugged in
    _settings_beside(station.path.parent, absent)
    station.login("DR1")
    _new_patient(station, "9200001")

    # the action is done and acknowledged, and the acknowledgement says the copy was not made
    with station.conn() as conn:
        assert conn.execute("SELECT count(*) FROM patients WHERE ipp = '9200001'").fetchone()[0]
    [alert] = station.new_alerts
    assert alert["title"] == "OncoSecours — copie de secours non faite"
    assert "copie de secours non faite" in alert["prompt"]
    assert "introuvable" in alert["prompt"] and str(absent) in alert["prompt"]
    assert "bien enregistrée dans la base principale" in alert["prompt"]
    assert "copie de secours NON FAITE" in station.book.app.status_bar
    assert "copie de secours NON FAITE" in _home(station, "derniere_action")
    assert replica.pending_warning() is None  # shown in Excel, not again on stderr at exit

    # Accueil: the French warning and its level (the colour rules test the level)
    line = _home(station, "copie_secours")
    assert line.startswith("COPIE DE SECOURS EN ÉCHEC") and "introuvable" in line
    assert _home(station, "niveau_copie") == "alerte"
    assert not absent.exists()  # never created on the wrong medium

    # a click that writes nothing: no copy attempted, no message box, Accueil still warns
    station.click("journal")
    assert station.new_alerts == []
    assert _home(station, "copie_secours").startswith("COPIE DE SECOURS EN ÉCHEC")
    assert _home(station, "niveau_copie") == "alerte"

    # a refused action rewrites the line too
    station.login("DR1", pin="9999")
    _new_patient(station, "9200002")
    assert station.alerts()[0].startswith("Refusé :")
    assert _home(station, "niveau_copie") == "alerte"


def test_working_second_location_shows_ok_and_a_plain_confirmation(
    station, tmp_path, monkeypatch, no_warning_at_exit
):
    replica = no_warning_at_exit
    medium = tmp_path / "cle-usb"
    medium.mkdir()
    _settings_beside(station.path.parent, medium / "OncoSecours")
    monkeypatch.setattr(
        replica.status, "_same_device", lambda folder, store: False
    )  # another medium
    station.login("DR1")
    _new_patient(station, "9200003")

    assert station.alerts() == []
    assert "NON FAITE" not in _home(station, "derniere_action")
    assert "NON FAITE" not in station.book.app.status_bar
    copy = medium / "OncoSecours" / station.store.name
    assert copy.exists()
    line = _home(station, "copie_secours")
    assert line.startswith("Copie de secours à jour") and str(copy) in line
    assert _home(station, "niveau_copie") == "ok"


def test_no_second_location_is_a_warning_on_accueil(station, no_warning_at_exit):
    station.login("DR1")
    station.click("journal")
    assert station.alerts() == []
    assert _home(station, "copie_secours").startswith("AUCUNE COPIE DE SECOURS")
    assert _home(station, "niveau_copie") == "attention"


def test_build_writes_the_copy_line_with_its_colour_rules(
    tmp_path, circuit_template, no_warning_at_exit
):
    import openpyxl

    from oncosecours.excel.builder import build_workbook

    store = tmp_path / "oncosecours.sqlite"
    shutil.copy(circuit_template, store)
    settings = _settings_beside(tmp_path, tmp_path / "absent" / "OncoSecours")
    path = build_workbook(tmp_path / "OncoSecours.xlsm", store=store, settings=settings)
    ws = openpyxl.load_workbook(path)["Accueil"]
    line, level = HOME.field("copie_secours"), HOME.field("niveau_copie")
    ref = f"${level.cell[0]}${level.cell[1:]}"
    assert ws[line.cell].value.startswith("COPIE DE SECOURS EN ÉCHEC")
    assert "introuvable" in ws[line.cell].value
    assert ws[level.cell].value == "alerte"
    rules = {
        r.formula[0]: (str(cf.sqref), r.dxf.fill.fgColor.rgb)
        for cf in ws.conditional_formatting
        for r in cf.rules
        if r.formula and ref in r.formula[0]
    }
    assert set(rules) == {f'{ref}="{v}"' for v in ("alerte", "attention", "ok")}
    area, red = rules[f'{ref}="alerte"']
    assert line.cell in area and level.cell in area
    assert red.endswith("C00000")


def test_build_without_a_store_says_when_the_state_appears(built):
    import openpyxl

    ws = openpyxl.load_workbook(built)["Accueil"]
    assert "première action du ruban" in ws[HOME.field("copie_secours").cell].value
