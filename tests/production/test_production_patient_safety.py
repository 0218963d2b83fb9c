"""A deceased patient never gets a prescription (rule PATIENT_DECEDE); a vinca alkaloid only
goes IV (rule VINCA_VOIE_NON_IV, no justification lifts it)."""

from __future__ import annotations

import pytest
import safety_fixtures as sx
from production_fixtures import TODAY, at, lines_of, load_snapshot

from oncosecours.domain import checks
from oncosecours.domain.errors import OncoError
from oncosecours.services.go_ahead import give_go_ahead
from oncosecours.services.patients import create_patient, import_patient
from oncosecours.services.preparation import prepare
from oncosecours.services.prescription import preview_prescription
from oncosecours.services.validation import findings_for, validate_prescription


@pytest.fixture
def snapshot(conn, team):
    load_snapshot(conn)
    sx.add_vincristine(conn)
    return conn


def _counts(conn) -> tuple:
    return tuple(
        conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("patients", "inclusions", "prescriptions", "validations", "preparations")
    )


# --- deceased patients ------------------------------------------------------------------------


def test_a_deceased_backup_patient_cannot_be_imported(snapshot, team):
    conn = snapshot
    sx.add_deceased_backup_patient(conn)
    before = _counts(conn)
    with pytest.raises(OncoError) as info:
        import_patient(conn, team["DR1"], sx.DECEASED_ID, today=TODAY)
    assert info.value.rule == "PATIENT_DECEDE"
    assert "décédé(e) le 06/03/2011" in str(info.value) and sx.DECEASED_ID in str(info.value)
    assert _counts(conn) == before


def test_a_homonym_warning_says_the_backup_patient_is_deceased(snapshot, team):
    conn = snapshot
    sx.add_deceased_backup_patient(conn)
    with pytest.raises(OncoError) as info:
        create_patient(
            conn,
            team["DR1"],
            birth_name="Dupont",
            first_name="Louise",
            birth_date="1933-01-01",
            sex="F",
            today=TODAY,
        )
    assert info.value.rule == "HOMONYME" and "DÉCÉDÉ(E) le 06/03/2011" in str(info.value)


def test_a_patient_linked_to_a_backup_death_is_refused_at_every_step(snapshot, team):
    """Imported while alive in the backup; a later refresh brings the death date: inclusion,
    prescription (preview included), validation and preparation are refused."""
    conn = snapshot
    sx.add_deceased_backup_patient(conn, death_date=None)
    person = import_patient(conn, team["DR1"], sx.DECEASED_ID, today=TODAY)
    from oncosecours.services.patients import record_measurements

    record_measurements(
        conn, team["DR1"], person["id"], weight_kg=55, height_cm=158, creatinine_umol_l=60,
        measured_on=TODAY, today=TODAY,
    )  # fmt: skip
    draft = sx.include_and_prescribe(conn, team, person["id"], sx.VCR_IV)
    sx.validate_all(conn, team, draft["prescription_id"])
    give_go_ahead(conn, team["DR1"], draft["cure_id"], now=at(8))
    second = sx.include_and_prescribe(conn, team, person["id"], 3)  # doxorubicin, not validated
    conn.execute("UPDATE ref_patients SET death_date = '2026-03-01' WHERE patient_id = ?",
                 (sx.DECEASED_ID,))  # fmt: skip
    before = _counts(conn)
    from oncosecours.services.inclusion import include_patient

    attempts = {
        "inclusion": lambda: include_patient(
            conn, team["DR1"], person["id"], 1, TODAY, today=TODAY
        ),
        "aperçu": lambda: preview_prescription(conn, second["cure_id"], today=TODAY),
        "validation": lambda: validate_prescription(
            conn, team["PH1"], second["prescription_id"], today=TODAY
        ),
        "préparation": lambda: prepare(
            conn, team["PR1"], lines_of(conn, draft["cure_id"])[0]["id"], now=at(9)
        ),
    }
    for what, attempt in attempts.items():
        with pytest.raises(OncoError) as info:
            attempt()
        assert info.value.rule == "PATIENT_DECEDE", what
        assert "décédé(e) le 01/03/2026" in str(info.value), what
    assert _counts(conn) == before


def test_a_crisis_patient_with_the_ipp_of_a_deceased_backup_patient_is_refused(snapshot, team):
    conn = snapshot
    person = sx.new_patient(conn, team, ipp="8000777")
    conn.execute(
        "INSERT INTO ref_patients (patient_id, ipp, birth_name, first_name, birth_date, sex, "
        "death_date) VALUES ('77', '8000777', 'AUTRE', 'Nom', '1940-01-01', 'M', "
        "'2025-12-24T00:00:00Z')"
    )  # a refresh brought a backup patient with that IPP, deceased
    with pytest.raises(OncoError) as info:
        sx.include_and_prescribe(conn, team, person["id"], 1)
    assert info.value.rule == "PATIENT_DECEDE" and "24/12/2025" in str(info.value)


def test_a_living_patient_is_not_concerned(snapshot, team):
    conn = snapshot
    sx.add_deceased_backup_patient(conn, death_date="")
    person = import_patient(conn, team["DR1"], sx.DECEASED_ID, today=TODAY)
    assert person["ref_patient_id"] == sx.DECEASED_ID


# --- vinca alkaloids --------------------------------------------------------------------------


def test_vinca_route_rule_on_its_own():
    def line(route, molecule="VINCRISTINE"):
        return checks.LineFacts(1, 1, "2026-03-02", molecule, 2, "mg", 2, route=route)

    for route in ("IV", "IVD", "IV lente", "Perfusion IV", "intraveineuse"):
        assert checks.check_vinca_route([line(route)]) == [], route
    for route in ("IT", "intrathécale", "IM", "SC", "", None, "IV/IT"):
        (finding,) = checks.check_vinca_route([line(route)])
        assert finding.rule == "VINCA_VOIE_NON_IV" and finding.blocking, route
    assert checks.check_vinca_route([line("PO", "VINORELBINE")]) == []  # oral capsules
    assert checks.check_vinca_route([line("IT", "CYTARABINE")]) == []
    assert "VINCA_VOIE_NON_IV" in checks.NEVER_JUSTIFIED


def test_intrathecal_vincristine_is_found_and_never_validated(snapshot, team):
    conn = snapshot
    person = sx.new_patient(conn, team)
    draft = sx.include_and_prescribe(conn, team, person["id"], sx.VCR_IT)
    rules = [f["regle"] for f in draft["findings"]]
    assert "VINCA_VOIE_NON_IV" in rules  # shown to the prescriber at once
    found = findings_for(conn, draft["prescription_id"], today=TODAY)
    vinca = next(f for f in found if f.rule == "VINCA_VOIE_NON_IV")
    assert "« IT »" in vinca.message and "intraveineuse" in vinca.message
    before = _counts(conn)
    with pytest.raises(OncoError) as info:
        validate_prescription(
            conn,
            team["PH1"],
            draft["prescription_id"],
            justifications={rule: "justifié" for rule in checks.blocking_rules(found)},
            today=TODAY,
        )
    assert info.value.rule == "VINCA_VOIE_NON_IV" and "même avec une justification" in str(
        info.value
    )
    assert _counts(conn) == before


def test_iv_vincristine_is_validated_and_prepared_but_a_route_changed_to_it_is_not(snapshot, team):
    conn = snapshot
    person = sx.new_patient(conn, team)
    draft = sx.include_and_prescribe(conn, team, person["id"], sx.VCR_IV)
    assert "VINCA_VOIE_NON_IV" not in [f["regle"] for f in draft["findings"]]
    sx.validate_all(conn, team, draft["prescription_id"])
    give_go_ahead(conn, team["DR1"], draft["cure_id"], now=at(8))
    (line,) = lines_of(conn, draft["cure_id"])
    # behind the application's back, the validated line's route becomes IT
    conn.execute("UPDATE prescription_lines SET route = 'IT' WHERE id = ?", (line["id"],))
    with pytest.raises(OncoError) as info:
        prepare(conn, team["PR1"], line["id"], now=at(9))
    assert info.value.rule == "VINCA_VOIE_NON_IV"
    assert conn.execute("SELECT count(*) FROM preparations").fetchone()[0] == 0
    conn.execute("UPDATE prescription_lines SET route = 'IV' WHERE id = ?", (line["id"],))
    sheet = prepare(conn, team["PR1"], line["id"], now=at(9, 5))
    assert sheet["molecule_name"] == "VINCRISTINE" and sheet["route"] == "IV"
