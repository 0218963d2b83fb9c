"""Prescription and pharmaceutical validation: the first half of the circuit on a real store.

Each safety check is made to fire through the services with its values; each refusal leaves the
store byte-for-byte unchanged (``iterdump``) and says why in French.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.services.inclusion import include_patient
from oncosecours.services.notes import add_note
from oncosecours.services.patients import create_patient, import_patient, record_measurements
from oncosecours.services.prescription import (
    prescribe,
    preview_prescription,
    transcribe_prescription,
)
from oncosecours.services.queries import pending_validations, prescription_detail
from oncosecours.services.validation import (
    findings_for,
    refuse_prescription,
    validate_prescription,
)
from oncosecours.store import audit

from .conftest import TODAY


def _patient(conn, actor, ipp="9200001", weight=80.0, height=178.0, creat=85.0, **kw):
    values = dict(
        ipp=ipp,
        birth_name=kw.pop("birth_name", "Robert"),
        first_name=kw.pop("first_name", "Alain"),
        birth_date=kw.pop("birth_date", "1955-02-03"),
        sex=kw.pop("sex", "M"),
        weight_kg=weight,
        height_cm=height,
        creatinine_umol_l=creat,
        today=TODAY,
    )
    values.update(kw)
    return create_patient(conn, actor, **values)


def _rules(findings):
    return {f["regle"] if isinstance(f, dict) else f.rule for f in findings}


def _finding(findings, rule):
    found = [f for f in findings if f.rule == rule]
    assert found, f"{rule} not in {[f.rule for f in findings]}"
    return found[0]


@pytest.fixture
def rchop(circuit):
    conn, team = circuit
    _patient(conn, team["DR1"])
    inc = include_patient(conn, team["DR1"], "9200001", "R-CHOP", "2026-03-02", today=TODAY)
    return conn, team, inc


def test_full_first_half_of_the_circuit(rchop):
    conn, team, inc = rchop
    cure = inc["cures"][0]["id"]
    preview = preview_prescription(conn, cure, today=TODAY, les_codes={"ritux": "I999999"})
    vinc = [line for line in preview["lines"] if line["molecule_name"] == "VINCRISTINE"][0]
    assert vinc["theoretical_dose"] == pytest.approx(1.4 * 1.98) and vinc["dose"] == 2.0
    assert json.loads(vinc["adjustments_json"])[0]["rule"] == "PLAFOND_DOSE"
    assert conn.execute("SELECT count(*) FROM prescriptions").fetchone()[0] == 0  # preview only

    saved = prescribe(conn, team["DR1"], cure, today=TODAY, les_codes={"ritux": "I999999"})
    pid = saved["prescription_id"]
    assert [r["id"] for r in pending_validations(conn)] == [pid]
    detail = prescription_detail(conn, pid)
    assert detail["cure"]["state"] == "prescribed" and detail["cure"]["prescription_id"] == pid
    assert [(line["molecule_name"], line["admin_date"]) for line in detail["lines"]][:2] == [
        ("RITUXIMAB", "2026-03-02"),
        ("CYCLOPHOSPHAMIDE", "2026-03-02"),
    ]
    assert detail["prescription"]["bsa_m2"] == 1.98

    decision = validate_prescription(conn, team["PH1"], pid, comment="RAS", today=TODAY)
    assert decision["decision"] == "validated"
    cure_row = conn.execute("SELECT state FROM cures WHERE id = ?", (cure,)).fetchone()
    assert cure_row[0] == "validated"
    note = add_note(conn, team["IDE1"], "Patient prévenu de la cure", prescription_id=pid)
    assert note["patient_id"] == detail["patient"]["id"]
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_event ORDER BY seq")]
    assert actions[-4:] == ["inclure_patient", "prescrire", "valider_prescription", "écrire_note"]
    assert audit.verify(conn).ok


def test_prescription_refusals_write_nothing(rchop):
    conn, team, inc = rchop
    cure = inc["cures"][0]["id"]
    before = list(conn.iterdump())
    cases = [
        (team["PH1"], cure, {"les_codes": {"*": "I999999"}}, r"\[ROLE\].*prescrire"),
        (team["DR1"], 999, {}, "Cure inconnue"),
        (team["DR1"], cure, {}, r"CODE_LES.*RITUXIMAB"),
        (team["DR1"], cure, {"les_codes": {"*": "I12"}}, "Code LES invalide"),
        (team["DR1"], cure, {"les_codes": {"*": "I123456"}}, "inconnu"),
        (team["DR1"], cure, {"les_codes": {"*": "I999999"}, "weight_kg": 0}, "Poids impossible"),
        (
            team["DR1"],
            cure,
            {"les_codes": {"*": "I999999"}, "reductions": {"doxo": (20, "")}},
            "motivée",
        ),
        (team["DR1"], cure, {"les_codes": {"*": "I999999"}, "doses": {"xyz": 3}}, "aucune ligne"),
        (
            team["DR1"],
            cure,
            {"les_codes": {"ritux": "I999999", "doxo": "I999999"}},
            "pas en liste en sus",
        ),
    ]
    for actor, cure_id, options, expected in cases:
        with pytest.raises(OncoError, match=expected):
            prescribe(conn, actor, cure_id, today=TODAY, **options)
        assert list(conn.iterdump()) == before, expected


def test_double_click_on_prescribe_and_validate(rchop):
    conn, team, inc = rchop
    cure = inc["cures"][0]["id"]
    pid = prescribe(conn, team["DR1"], cure, today=TODAY, les_codes={"*": "I999999"})[
        "prescription_id"
    ]
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match="déjà « prescrite ».*double clic"):
        prescribe(conn, team["DR1"], cure, today=TODAY, les_codes={"*": "I999999"})
    assert list(conn.iterdump()) == before
    validate_prescription(conn, team["PH1"], pid, today=TODAY)
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match="déjà « validée ».*double clic"):
        validate_prescription(conn, team["PH1"], pid, today=TODAY)
    with pytest.raises(OncoError, match="une seule décision"):
        refuse_prescription(conn, team["PH2"], pid, comment="trop tard", today=TODAY)
    with pytest.raises(OncoError, match="TRANSITION"):
        prescribe(conn, team["DR1"], cure, today=TODAY)
    assert list(conn.iterdump()) == before


def test_validation_roles_and_self_validation(rchop):
    conn, team, inc = rchop
    cure = inc["cures"][0]["id"]
    pid = transcribe_prescription(
        conn,
        team["PH1"],
        cure,
        prescriber_name="Dr Jean Papier",
        paper_date="2026-03-01",
        today=TODAY,
        les_codes={"*": "I999999"},
    )["prescription_id"]
    row = conn.execute(
        "SELECT transcribed, transcriber_id, prescriber_id, prescriber_name FROM prescriptions"
    ).fetchone()
    assert tuple(row) == (1, team["PH1"].id, None, "Dr Jean Papier")
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match=r"\[ROLE\].*valider"):
        validate_prescription(conn, team["DR1"], pid, today=TODAY)
    with pytest.raises(OncoError, match=r"\[AUTO_VALIDATION\].*retranscrite"):
        validate_prescription(conn, team["PH1"], pid, today=TODAY)
    with pytest.raises(OncoError, match="commentaire obligatoire"):
        refuse_prescription(conn, team["PH2"], pid, comment="  ", today=TODAY)
    with pytest.raises(OncoError, match="pas déclenchée"):
        validate_prescription(
            conn, team["PH2"], pid, justifications={"ECART_DOSE": "x"}, today=TODAY
        )
    assert list(conn.iterdump()) == before
    findings = findings_for(conn, pid, today=TODAY)
    assert _finding(findings, "TRANSCRIPTION").values["retranscrite_par"].endswith("(PH1)")
    assert validate_prescription(conn, team["PH2"], pid, today=TODAY)["decision"] == "validated"


def test_refusal_then_new_prescription(rchop):
    conn, team, inc = rchop
    cure = inc["cures"][0]["id"]
    first = prescribe(conn, team["DR1"], cure, today=TODAY, les_codes={"*": "I999999"})
    refused = refuse_prescription(
        conn, team["PH1"], first["prescription_id"], comment="Erreur de protocole", today=TODAY
    )
    assert refused["decision"] == "refused"
    assert conn.execute("SELECT state FROM cures WHERE id = ?", (cure,)).fetchone()[0] == "refused"
    with pytest.raises(OncoError, match="CODE_LES"):  # nothing carried from a refused one
        prescribe(conn, team["DR1"], cure, today=TODAY)
    second = prescribe(conn, team["DR1"], cure, today=TODAY, les_codes={"*": "I999998"})
    assert second["prescription_id"] != first["prescription_id"]
    with pytest.raises(OncoError, match="déjà « refusée »"):
        validate_prescription(conn, team["PH1"], first["prescription_id"], today=TODAY)


def test_reduction_carried_over_to_next_cure(rchop):
    conn, team, inc = rchop
    first, second = inc["cures"][0]["id"], inc["cures"][1]["id"]
    pid = prescribe(
        conn,
        team["DR1"],
        first,
        today=TODAY,
        les_codes={"*": "I999999"},
        reductions={"doxo": (25, "FEVG 45 %")},
    )["prescription_id"]
    validate_prescription(conn, team["PH1"], pid, today=TODAY)
    later = TODAY + timedelta(days=21)
    preview = preview_prescription(conn, second, today=later)
    doxo = [line for line in preview["lines"] if line["molecule_name"] == "DOXORUBICINE"][0]
    assert (doxo["reduction_pct"], doxo["reduction_reason"], doxo["reduction_source"]) == (
        25,
        "FEVG 45 %",
        "reprise",
    )
    assert doxo["dose"] == pytest.approx(50 * 1.98 * 0.75)
    ritux = [line for line in preview["lines"] if line["molecule_name"] == "RITUXIMAB"][0]
    assert ritux["les_code"] == "I999999"
    reduction = [f for f in preview["findings"] if f["regle"] == "REDUCTION_DOSE"][0]
    assert "reprise de la cure précédente" in reduction["message"]
    cancelled = preview_prescription(conn, second, today=later, reductions={"doxo": (0, "")})
    doxo = [line for line in cancelled["lines"] if line["molecule_name"] == "DOXORUBICINE"][0]
    assert doxo["reduction_pct"] == 0 and doxo["dose"] == pytest.approx(50 * 1.98)


# --- each safety check fires with its values -----------------------------------------------


def test_dose_deviation_and_cap_need_justification(rchop):
    conn, team, inc = rchop
    pid = transcribe_prescription(
        conn,
        team["PR1"],
        inc["cures"][0]["id"],
        prescriber_name="Dr Papier",
        paper_date="2026-03-02",
        today=TODAY,
        les_codes={"*": "I999999"},
        doses={"doxo": 120, "vincristine": 2.5},
    )["prescription_id"]
    findings = findings_for(conn, pid, today=TODAY)
    ecart = [f for f in findings if f.rule == "ECART_DOSE"]
    doxo = [f for f in ecart if f.values["molecule"] == "DOXORUBICINE"][0]
    assert doxo.values["prescrit"] == 120 and doxo.values["reference"] == pytest.approx(99.0)
    assert doxo.values["ecart_pct"] == pytest.approx(21.2121, abs=1e-3)
    assert "120 mg" in doxo.message and "99 mg" in doxo.message
    cap = _finding(findings, "DOSE_MAX_ADMINISTRATION")
    assert (cap.values["dose"], cap.values["maximum"]) == (2.5, 2.0)
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match=r"JUSTIFICATION.*ECART_DOSE.*DOSE_MAX_ADMINISTRATION"):
        validate_prescription(conn, team["PH1"], pid, today=TODAY)
    with pytest.raises(OncoError, match="DOSE_MAX_ADMINISTRATION"):
        validate_prescription(
            conn, team["PH1"], pid, justifications={"ECART_DOSE": "vu"}, today=TODAY
        )
    assert list(conn.iterdump()) == before
    justified = {
        "ecart_dose": "Dose confirmée par téléphone avec le Dr Papier",
        "DOSE_MAX_ADMINISTRATION": "Avis RCP",
    }
    done = validate_prescription(conn, team["PH1"], pid, justifications=justified, today=TODAY)
    row = conn.execute("SELECT justifications_json, findings_json FROM validations").fetchone()
    assert json.loads(row[0])["ECART_DOSE"].startswith("Dose confirmée")
    assert {"ECART_DOSE", "DOSE_MAX_ADMINISTRATION"} <= _rules(json.loads(row[1]))
    assert done["justifications"]["DOSE_MAX_ADMINISTRATION"] == "Avis RCP"


def test_protocol_maximum_over_the_inclusion(circuit):
    conn, team = circuit
    _patient(conn, team["DR1"])
    inc = include_patient(conn, team["DR1"], "9200001", "BLEOMYCINE", "2026-03-02", today=TODAY)
    for cure in inc["cures"][:3]:
        prescribe(conn, team["DR1"], cure["id"], today=TODAY)
    last = prescribe(conn, team["DR1"], inc["cures"][3]["id"], today=TODAY)
    finding = _finding(
        findings_for(conn, last["prescription_id"], today=TODAY), "DOSE_MAX_PROTOCOLE"
    )
    assert finding.values["deja_prescrit"] == 270 and finding.values["total"] == 360
    assert finding.values["maximum"] == 300 and "360 mg" in finding.message


def test_cumulative_anthracyclines_from_backup_history(circuit):
    conn, team = circuit
    import_patient(conn, team["DR1"], "8000111", today=TODAY)
    record_measurements(conn, team["IDE1"], "8000111", weight_kg=64, height_cm=165, today=TODAY)
    inc = include_patient(conn, team["DR1"], "8000111", "R-CHOP", "2026-03-02", today=TODAY)
    draft = prescribe(
        conn, team["DR1"], inc["cures"][0]["id"], today=TODAY, les_codes={"*": "I999999"}
    )
    findings = findings_for(conn, draft["prescription_id"], today=TODAY)
    cumul = _finding(findings, "CUMUL_DOXORUBICINE")
    assert cumul.severity == "bloquant"
    assert cumul.values["cumul_anterieur_mg_m2"] == pytest.approx(11 * 85 / 1.70)
    assert cumul.values["cumul_projete_mg_m2"] > cumul.values["limite_mg_m2"] == 550
    with pytest.raises(OncoError, match="CUMUL_DOXORUBICINE"):
        validate_prescription(conn, team["PH1"], draft["prescription_id"], today=TODAY)


def test_interval_and_weight_change_against_backup(circuit):
    conn, team = circuit
    import_patient(conn, team["DR1"], "8000222", today=TODAY)
    record_measurements(conn, team["IDE1"], "8000222", weight_kg=70, height_cm=170, today=TODAY)
    inc = include_patient(
        conn, team["DR1"], "8000222", "FOLFOX", "2026-03-02", first_cycle=4, today=TODAY
    )
    preview = preview_prescription(conn, inc["cures"][0]["id"], today=TODAY)
    assert {"INTERVALLE_COURT", "VARIATION_POIDS"} <= _rules(preview["findings"])
    pid = prescribe(conn, team["DR1"], inc["cures"][0]["id"], today=TODAY)["prescription_id"]
    findings = findings_for(conn, pid, today=TODAY)
    interval = _finding(findings, "INTERVALLE_COURT")
    assert (interval.values["jours"], interval.values["cycle_jours"]) == (9, 14)
    assert "sauvegarde" in interval.message
    weight = _finding(findings, "VARIATION_POIDS")
    assert weight.values["poids_precedent_kg"] == 80 and weight.values["poids_kg"] == 70
    assert weight.values["variation_pct"] == pytest.approx(-12.5)


def test_weight_change_between_crisis_cures(rchop):
    conn, team, inc = rchop
    pid = prescribe(
        conn, team["DR1"], inc["cures"][0]["id"], today=TODAY, les_codes={"*": "I999999"}
    )["prescription_id"]
    validate_prescription(conn, team["PH1"], pid, today=TODAY)
    later = TODAY + timedelta(days=21)
    second = prescribe(conn, team["DR1"], inc["cures"][1]["id"], today=later, weight_kg=70)
    finding = _finding(
        findings_for(conn, second["prescription_id"], today=later), "VARIATION_POIDS"
    )
    assert finding.values["poids_precedent_kg"] == 80 and "prescription n°" in finding.message
    assert "INTERVALLE_COURT" not in _rules(second["findings"])


def test_old_creatinine_for_carboplatin(circuit):
    conn, team = circuit
    _patient(conn, team["DR1"], creat=None)
    inc = include_patient(conn, team["DR1"], "9200001", "CARBOPLATINE", "2026-03-02", today=TODAY)
    cure = inc["cures"][0]["id"]
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match="CARBOPLATINE.*Créatinine manquante"):
        prescribe(conn, team["DR1"], cure, today=TODAY)
    assert list(conn.iterdump()) == before
    draft = prescribe(
        conn, team["DR1"], cure, today=TODAY, creatinine_umol_l=90, creatinine_date="2026-02-10"
    )
    carbo = [line for line in draft["lines"] if line["molecule_name"] == "CARBOPLATINE"][0]
    assert carbo["basis"].startswith("DFG") and carbo["dose"] <= 5 * 150
    finding = _finding(
        findings_for(conn, draft["prescription_id"], today=TODAY), "CREATININE_ANCIENNE"
    )
    assert finding.values["age_jours"] == 20 and finding.values["maximum_jours"] == 7


def test_high_bsa_is_a_warning_only(circuit):
    conn, team = circuit
    _patient(conn, team["DR1"], weight=110, height=190)
    inc = include_patient(conn, team["DR1"], "9200001", "FOLFOX", "2026-03-02", today=TODAY)
    pid = prescribe(conn, team["DR1"], inc["cures"][0]["id"], today=TODAY)["prescription_id"]
    finding = _finding(findings_for(conn, pid, today=TODAY), "SURFACE_ELEVEE")
    assert finding.severity == "avertissement" and finding.values["surface_m2"] > 2
    assert validate_prescription(conn, team["PH1"], pid, today=TODAY)["decision"] == "validated"


def test_missing_les_code_after_a_refresh(rchop):
    conn, team, inc = rchop
    pid = prescribe(
        conn, team["DR1"], inc["cures"][0]["id"], today=TODAY, les_codes={"*": "I999999"}
    )["prescription_id"]
    conn.execute("UPDATE ref_molecules SET liste_en_sus = 1 WHERE name = 'CYCLOPHOSPHAMIDE'")
    finding = _finding(findings_for(conn, pid, today=TODAY), "CODE_LES_ABSENT")
    assert finding.values == {"molecule": "CYCLOPHOSPHAMIDE", "jours": [1]}


def test_diluent_and_container_not_allowed(circuit):
    conn, team = circuit
    _patient(conn, team["DR1"])
    inc = include_patient(conn, team["DR1"], "9200001", "FOLFOX", "2026-03-02", today=TODAY)
    normal = preview_prescription(conn, inc["cures"][0]["id"], today=TODAY)
    oxali = [line for line in normal["lines"] if line["molecule_name"] == "OXALIPLATINE"][0]
    assert (oxali["diluent"], oxali["diluent_volume_ml"]) == ("Glucose 5 %", 250)
    ondansetron = normal["lines"][0]  # supportive line: diluent and volume from its comment
    assert (ondansetron["diluent"], ondansetron["diluent_volume_ml"]) == ("NaCl 0,9 %", 50)
    assert ondansetron["container"] is None
    assert not {"DILUANT_INTERDIT", "CONTENANT_INTERDIT"} & _rules(normal["findings"])
    pid = prescribe(
        conn,
        team["DR1"],
        inc["cures"][0]["id"],
        today=TODAY,
        diluents={"oxali": "NaCl 0,9 %"},
        containers={"oxali": "Poche PVC"},
    )["prescription_id"]
    findings = findings_for(conn, pid, today=TODAY)
    diluent = _finding(findings, "DILUANT_INTERDIT")
    assert diluent.values["diluant"] == "NaCl 0,9 %" and diluent.values["autorises"] == [
        "Glucose 5 %"
    ]
    assert _finding(findings, "CONTENANT_INTERDIT").values["contenant"] == "Poche PVC"


def test_same_molecule_same_day_in_two_cures(circuit):
    conn, team = circuit
    _patient(conn, team["DR1"])
    first = include_patient(conn, team["DR1"], "9200001", "FOLFOX", "2026-03-02", today=TODAY)
    second = include_patient(conn, team["DR1"], "9200001", "FOLFOX", "2026-03-03", today=TODAY)
    one = prescribe(conn, team["DR1"], first["cures"][0]["id"], today=TODAY)
    assert "DOUBLON" not in _rules(one["findings"])  # 5-FU bolus + infusion are distinct lines
    two = prescribe(conn, team["DR1"], second["cures"][0]["id"], today=TODAY)
    finding = _finding(findings_for(conn, two["prescription_id"], today=TODAY), "DOUBLON")
    assert finding.values["autre_prescription"] == one["prescription_id"]
    assert finding.values["date"] == "2026-03-03"


def test_stale_backup_warning(rchop):
    conn, team, inc = rchop
    conn.execute(
        "UPDATE snapshot_meta SET backup_date = ?", ((TODAY - timedelta(days=10)).isoformat(),)
    )
    preview = preview_prescription(
        conn, inc["cures"][0]["id"], today=TODAY, les_codes={"*": "I999999"}
    )
    stale = [f for f in preview["findings"] if f["regle"] == "SAUVEGARDE_ANCIENNE"][0]
    assert stale["gravite"] == "avertissement" and stale["valeurs"]["age_jours"] == 10
