"""Notes: any role, dated and signed, never edited; a correction points to the old note."""

from __future__ import annotations

import sqlite3

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.services.notes import add_note
from oncosecours.services.patients import create_patient
from oncosecours.services.queries import notes_for

from .conftest import TODAY


@pytest.fixture
def two_patients(circuit):
    conn, team = circuit
    for ipp, name in (("9300001", "Petit"), ("9300002", "Grand")):
        create_patient(
            conn,
            team["DR1"],
            ipp=ipp,
            birth_name=name,
            first_name="Léa",
            birth_date="1970-01-01",
            sex="F",
            today=TODAY,
        )
    return conn, team


def test_every_role_writes_notes_and_corrections_point_back(two_patients):
    conn, team = two_patients
    ids = [
        add_note(conn, team[who], f"Note de {who}", patient="9300001")["id"]
        for who in ("DR1", "PH1", "IDE1", "PR1", "ADM")
    ]
    fix = add_note(conn, team["PH1"], "Correction : allergie au latex", corrects_note_id=ids[0])
    assert fix["patient_id"] == 1 and fix["corrects_note_id"] == ids[0]
    notes = notes_for(conn, 1)
    assert [n["author_role"] for n in notes][:5] == [
        "prescripteur",
        "pharmacien",
        "infirmier",
        "préparateur",
        "administrateur",
    ]
    assert notes[0]["corrected_by"] == [fix["id"]] and notes[0]["text"] == "Note de DR1"
    assert notes[0]["created_at"] and notes[0]["author_initials"] == "DR1"


def test_notes_are_never_edited_nor_deleted(two_patients):
    conn, team = two_patients
    add_note(conn, team["IDE1"], "Voie veineuse difficile", patient="9300001")
    with pytest.raises(sqlite3.DatabaseError, match="note de correction"):
        conn.execute("UPDATE notes SET text = 'autre chose'")
    with pytest.raises(sqlite3.DatabaseError, match="note de correction"):
        conn.execute("DELETE FROM notes")


def test_note_refusals_write_nothing(two_patients):
    conn, team = two_patients
    first = add_note(conn, team["IDE1"], "Voie veineuse difficile", patient="9300001")
    before = list(conn.iterdump())
    cases = [
        (dict(text="  ", patient="9300001"), "vide"),
        (dict(text="x"), "Préciser le patient"),
        (dict(text="x", patient="404"), "Patient inconnu"),
        (dict(text="x", prescription_id=77), "Prescription inconnue"),
        (dict(text="x", patient="9300002", corrects_note_id=first["id"]), "autre patient"),
        (dict(text="x", corrects_note_id=99), "inconnue"),
        (dict(text="Voie veineuse difficile", patient="9300001"), "double clic"),
    ]
    for kwargs, expected in cases:
        text = kwargs.pop("text")
        with pytest.raises(OncoError, match=expected):
            add_note(conn, team["IDE1"], text, **kwargs)
    assert list(conn.iterdump()) == before
