"""Inclusion in a snapshot protocol: planned cures, postponements, refusals."""

from __future__ import annotations

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.services import inclusion as svc
from oncosecours.services.patients import create_patient

from .conftest import TODAY


@pytest.fixture
def patient(circuit):
    conn, team = circuit
    return create_patient(
        conn,
        team["DR1"],
        ipp="9100001",
        birth_name="Robert",
        first_name="Alain",
        birth_date="1955-02-03",
        sex="M",
        weight_kg=80,
        height_cm=178,
        creatinine_umol_l=85,
        today=TODAY,
    )


def test_include_plans_cures_and_copies_lines(circuit, patient):
    conn, team = circuit
    inc = svc.include_patient(conn, team["DR1"], "9100001", "folfox", "2026-03-02", today=TODAY)
    assert inc["protocol_name"] == "FOLFOX 4 Simplifié" and inc["cycles"] == 6
    assert [c["planned_date"] for c in inc["cures"][:3]] == [
        "2026-03-02",
        "2026-03-16",
        "2026-03-30",
    ]
    assert {c["state"] for c in inc["cures"]} == {"planned"}
    assert inc["cures"][1]["days"] == [  # FOLFOX lines on J1 and J2
        {"jour": 1, "date": "2026-03-16"},
        {"jour": 2, "date": "2026-03-17"},
    ]
    names = [line["molecule_name"] for line in inc["lines"]]
    assert names[0] == "ONDANSETRON 8 mg/4 mL" and "OXALIPLATINE" in names
    # a refresh that removes the protocol changes nothing in the inclusion
    conn.execute("DELETE FROM ref_protocol_lines WHERE protocol_id = 944")
    assert len(svc.inclusion_detail(conn, inc["id"])["lines"]) == 5


def test_include_continuing_a_chimio_treatment(circuit, patient):
    conn, team = circuit
    inc = svc.include_patient(
        conn, team["DR1"], "9100001", "944", "2026-03-04", cycles=8, first_cycle=4, today=TODAY
    )
    assert [c["cycle"] for c in inc["cures"]] == [4, 5, 6, 7, 8]


@pytest.mark.parametrize(
    "who,protocol,kwargs,expected",
    [
        ("DR1", "INCONNU 12", {}, "PROTOCOLE_INCONNU"),
        ("DR1", "R-CHOP", {"cycles": 9}, r"CYCLES_MAX.*9.*\(8\)"),
        ("DR1", "FOLFOX", {"first_cycle": 7, "cycles": 6}, "au-delà"),
        ("PH1", "FOLFOX", {}, r"\[ROLE\]"),
        ("IDE1", "FOLFOX", {}, r"\[ROLE\]"),
        ("DR1", "c", {}, "PROTOCOLE_AMBIGU"),
    ],
)
def test_inclusion_refusals_write_nothing(circuit, patient, who, protocol, kwargs, expected):
    conn, team = circuit
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match=expected):
        svc.include_patient(
            conn, team[who], "9100001", protocol, "2026-03-02", today=TODAY, **kwargs
        )
    assert list(conn.iterdump()) == before


def test_unknown_patient_and_double_click(circuit, patient):
    conn, team = circuit
    with pytest.raises(OncoError, match="Patient inconnu"):
        svc.include_patient(conn, team["DR1"], "404", "FOLFOX", "2026-03-02", today=TODAY)
    svc.include_patient(conn, team["DR1"], "9100001", "FOLFOX", "2026-03-02", today=TODAY)
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match="double clic"):
        svc.include_patient(conn, team["DR1"], "9100001", "FOLFOX", "2026-03-02", today=TODAY)
    assert list(conn.iterdump()) == before


def test_no_snapshot_means_no_protocol(conn, team):
    create_patient(
        conn,
        team["DR1"],
        ipp="9100002",
        birth_name="A",
        first_name="B",
        birth_date="1950-01-01",
        sex="F",
        today=TODAY,
    )
    with pytest.raises(OncoError, match="refresh"):
        svc.include_patient(conn, team["DR1"], "9100002", "FOLFOX", "2026-03-02", today=TODAY)


def test_postpone_shifts_later_cures(circuit, patient):
    conn, team = circuit
    inc = svc.include_patient(conn, team["DR1"], "9100001", "FOLFOX", "2026-03-02", today=TODAY)
    second = inc["cures"][1]["id"]
    result = svc.postpone_cure(conn, team["DR1"], second, "2026-03-20", "neutropénie grade 3")
    assert len(result["moved"]) == 5
    dates = [r[0] for r in conn.execute("SELECT planned_date FROM cures ORDER BY cycle")]
    assert dates[:3] == ["2026-03-02", "2026-03-20", "2026-04-03"]
    reason = conn.execute("SELECT postpone_reason FROM cures WHERE id = ?", (second,)).fetchone()
    assert reason[0] == "neutropénie grade 3"
    before = list(conn.iterdump())
    with pytest.raises(OncoError, match="motif"):
        svc.postpone_cure(conn, team["DR1"], second, "2026-03-25", " ")
    with pytest.raises(OncoError, match="postérieur"):
        svc.postpone_cure(conn, team["DR1"], second, "2026-03-20", "encore")
    with pytest.raises(OncoError, match="Cure inconnue"):
        svc.postpone_cure(conn, team["DR1"], 999, "2026-03-25", "x")
    assert list(conn.iterdump()) == before
