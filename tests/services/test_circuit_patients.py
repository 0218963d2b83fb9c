"""Patients: identitovigilance, backup patients, measurements; refusals write nothing."""

from __future__ import annotations

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.services import patients as svc
from oncosecours.services.queries import find_patients, patient_summary
from oncosecours.store import audit

from .conftest import TODAY


def _add(conn, actor, **over):
    values = dict(
        ipp="9000001",
        birth_name="Dupont-Martin",
        first_name="Hélène",
        birth_date="1960-05-17",
        sex="F",
        weight_kg=62.0,
        height_cm=165.0,
        today=TODAY,
    )
    values.update(over)
    return svc.create_patient(conn, actor, **values)


def test_create_patient_with_measurements_is_audited(circuit):
    conn, team = circuit
    patient = _add(conn, team["DR1"])
    assert patient["birth_name"] == "DUPONT-MARTIN" and patient["folded_key"] == (
        "DUPONTMARTIN|HELENE|1960-05-17"
    )
    kinds = {r["kind"]: r["value"] for r in conn.execute("SELECT kind, value FROM measurements")}
    assert kinds == {"weight": 62.0, "height": 165.0}
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_event ORDER BY seq")]
    assert actions[-3:] == ["créer_patient", "créer_patient", "créer_patient"]
    assert audit.verify(conn).ok


def test_homonym_refused_then_confirmed_and_audited(circuit):
    conn, team = circuit
    _add(conn, team["DR1"])
    before = list(conn.iterdump())
    with pytest.raises(OncoError) as refused:
        _add(conn, team["IDE1"], ipp="9000002", birth_name="DUPONT MARTIN", first_name="helene")
    assert "HOMONYME" in str(refused.value) and "DUPONT-MARTIN" in str(refused.value)
    assert list(conn.iterdump()) == before
    twin = _add(
        conn,
        team["IDE1"],
        ipp="9000002",
        birth_name="DUPONT MARTIN",
        first_name="helene",
        confirm_homonym=True,
    )
    assert twin["homonym_confirmed"] == 1
    confirmation = conn.execute(
        "SELECT user_initials, after_json FROM audit_event WHERE entity_id = ? ORDER BY seq DESC",
        (str(twin["id"]),),
    ).fetchone()
    assert confirmation[0] == "IDE1" and "autre personne" in confirmation[1]


def test_homonym_in_backup_is_refused(circuit):
    conn, team = circuit
    with pytest.raises(OncoError, match="HOMONYME.*sauvegarde"):
        _add(
            conn,
            team["DR1"],
            ipp="9000009",
            birth_name="Durand",
            first_name="Helene",
            birth_date="1962-09-30",
        )


@pytest.mark.parametrize(
    "override,expected",
    [
        ({"weight_kg": 620.0}, "Poids impossible"),
        ({"height_cm": 1.65}, "ressemble à des mètres"),
        ({"birth_date": "2030-01-01"}, "futur"),
        ({"sex": "X"}, "Sexe inconnu"),
        ({"birth_name": ""}, "obligatoire"),
        ({"ipp": "80 00"}, "IPP invalide"),
        ({"ipp": "8000111"}, "existe dans la sauvegarde"),
    ],
)
def test_impossible_input_refused_and_nothing_written(circuit, override, expected):
    conn, team = circuit
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match=expected):
        _add(conn, team["DR1"], **override)
    assert list(conn.iterdump()) == before


def test_roles_for_patients(circuit):
    conn, team = circuit
    before = list(conn.iterdump())
    for who in ("PR1", "ADM"):
        with pytest.raises(OncoError, match=r"\[ROLE\].*créer un patient"):
            _add(conn, team[who])
    assert list(conn.iterdump()) == before


def test_import_backup_patient_and_find(circuit):
    conn, team = circuit
    found = find_patients(conn, name="lefevre", birth_date="30/09/1962")
    assert [f["origine"] for f in found] == ["sauvegarde"]
    patient = svc.import_patient(conn, team["PH1"], "8000222", ward="HDJ onco", today=TODAY)
    assert patient["source"] == "sauvegarde" and patient["usual_name"] == "DURAND"
    assert patient["ref_patient_id"] == "2222222222"
    found = find_patients(conn, ipp="8000222")
    assert [f["origine"] for f in found] == ["crise"]
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match="déjà repris"):
        svc.import_patient(conn, team["PH1"], "8000222", today=TODAY)
    assert list(conn.iterdump()) == before


def test_import_backup_patient_without_names_needs_them_and_checks_them(circuit):
    conn, team = circuit
    with pytest.raises(OncoError, match="obligatoire"):
        svc.import_patient(conn, team["PH1"], "3333333333", today=TODAY)
    with pytest.raises(OncoError, match="IDENTITE_DISCORDANTE"):
        svc.import_patient(conn, team["PH1"], "8000111", birth_name="MARTINEZ", today=TODAY)
    patient = svc.import_patient(
        conn, team["PH1"], "3333333333", birth_name="Bernard", first_name="Louis", today=TODAY
    )
    assert patient["ipp"] == "8000333" and patient["sex"] == "M"


def test_unknown_patient_is_refused_in_french(circuit):
    conn, team = circuit
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match="Patient inconnu"):
        svc.record_measurements(conn, team["IDE1"], "0000000", weight_kg=60, today=TODAY)
    with pytest.raises(OncoError, match="absent de la sauvegarde"):
        svc.import_patient(conn, team["PH1"], "424242", today=TODAY)
    assert list(conn.iterdump()) == before


def test_measurements_and_double_click(circuit):
    conn, team = circuit
    patient = _add(conn, team["DR1"])
    svc.record_measurements(
        conn, team["IDE1"], "9000001", weight_kg=60.5, creatinine_umol_l=80, today=TODAY
    )
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match="DEJA_FAIT.*double clic"):
        svc.record_measurements(conn, team["IDE1"], "9000001", weight_kg=60.5, today=TODAY)
    with pytest.raises(OncoError, match="mg/dL"):
        svc.record_measurements(conn, team["IDE1"], "9000001", creatinine_umol_l=0.9, today=TODAY)
    with pytest.raises(OncoError, match="futur"):
        svc.record_measurements(
            conn, team["IDE1"], "9000001", weight_kg=61, measured_on="2026-03-05", today=TODAY
        )
    assert list(conn.iterdump()) == before
    summary = patient_summary(conn, f"#{patient['id']}")
    assert summary["measures"]["weight"]["value"] == 60.5
    assert summary["measures"]["creatinine"]["value"] == 80


def test_update_patient_audits_before_and_after(circuit):
    conn, team = circuit
    _add(conn, team["DR1"])
    updated = svc.update_patient(
        conn, team["PH1"], "9000001", changes={"usual_name": "Leroy", "ward": "Onco B"}
    )
    assert updated["usual_name"] == "LEROY"
    row = conn.execute(
        "SELECT before_json, after_json FROM audit_event WHERE action = 'modifier_patient'"
    ).fetchone()
    assert '"usual_name": null' in row[0] and "LEROY" in row[1]
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match="Aucune modification"):
        svc.update_patient(conn, team["PH1"], "9000001", changes={"usual_name": "leroy"})
    assert list(conn.iterdump()) == before
