"""VARIATION_POIDS through the services: the window setting decides whether it blocks."""

from __future__ import annotations

from datetime import timedelta

from oncosecours.services.inclusion import include_patient, postpone_cure
from oncosecours.services.patients import create_patient, import_patient, record_measurements
from oncosecours.services.prescription import prescribe
from oncosecours.services.validation import findings_for, validate_prescription
from oncosecours.settings import load_settings

from .conftest import TODAY


def _weight(findings):
    found = [f for f in findings if f.rule == "VARIATION_POIDS"]
    assert len(found) == 1, [f.rule for f in findings]
    return found[0]


def _settings(tmp_path, days):
    path = tmp_path / "hopital.toml"
    path.write_text(f"[dosage]\nfenetre_variation_poids_jours = {days}\n", "utf-8")
    return load_settings(path)


def test_default_window_is_a_documented_setting():
    assert load_settings().dosage.fenetre_variation_poids_jours == 90


def test_backup_reference_blocks_inside_the_window_and_warns_outside(circuit, tmp_path):
    conn, team = circuit
    # MARTIN Jeanne: her last R-CHOP cure in the backup is 63 days old, at 64 kg
    import_patient(conn, team["DR1"], "8000111", today=TODAY)
    record_measurements(conn, team["IDE1"], "8000111", weight_kg=55, height_cm=165, today=TODAY)
    inc = include_patient(conn, team["DR1"], "8000111", "R-CHOP", TODAY, first_cycle=5, today=TODAY)
    pid = prescribe(
        conn, team["DR1"], inc["cures"][0]["id"], today=TODAY, les_codes={"*": "I999999"}
    )["prescription_id"]
    inside = _weight(findings_for(conn, pid, today=TODAY))
    assert inside.severity == "bloquant"
    assert inside.values["ecart_jours"] == 63 and inside.values["poids_precedent_kg"] == 64
    assert "sauvegarde Chimio" in inside.message
    outside = _weight(findings_for(conn, pid, today=TODAY, settings=_settings(tmp_path, 60)))
    assert outside.severity == "avertissement"
    assert "fenêtre de 60 jours" in outside.message and "63 jours" in outside.message


def test_crisis_reference_after_a_long_break_does_not_block_validation(circuit):
    conn, team = circuit
    create_patient(
        conn,
        team["DR1"],
        ipp="9300001",
        birth_name="BERNARD",
        first_name="Louis",
        birth_date="1960-05-05",
        sex="M",
        weight_kg=80.0,
        height_cm=178.0,
        creatinine_umol_l=85.0,
        today=TODAY,
    )
    inc = include_patient(conn, team["DR1"], "9300001", "R-CHOP", TODAY, today=TODAY)
    first, second = inc["cures"][0]["id"], inc["cures"][1]["id"]
    codes = {"*": "I999999"}
    pid = prescribe(conn, team["DR1"], first, today=TODAY, les_codes=codes)["prescription_id"]
    validate_prescription(conn, team["PH1"], pid, today=TODAY)

    later = TODAY + timedelta(days=120)
    postpone_cure(conn, team["DR1"], second, later, "hospitalisation intercurrente")
    draft = prescribe(conn, team["DR1"], second, today=later, weight_kg=70, les_codes=codes)
    finding = _weight(findings_for(conn, draft["prescription_id"], today=later))
    assert finding.severity == "avertissement" and finding.values["ecart_jours"] == 120
    assert f"prescription n° {pid} du {TODAY.isoformat()}" in finding.message
    decision = validate_prescription(conn, team["PH2"], draft["prescription_id"], today=later)
    assert decision["decision"] == "validated" and decision["justifications"] == {}
    assert "VARIATION_POIDS" in [f["regle"] for f in decision["findings"]]
