"""Notes between professionals on a patient or one of their prescriptions.

Dated and signed, never edited nor deleted (the table refuses it): a correction is a new note that
points to the note it corrects.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.services.core import ROLES, Actor, action
from oncosecours.store import audit
from oncosecours.store import patients as patient_store
from oncosecours.store.circuit import prescription_by_id, resolve_patient

NOTE_ROLES = ROLES
MAX_LENGTH = 4000


def add_note(
    conn: sqlite3.Connection,
    actor: Actor,
    text: str,
    *,
    patient: object = None,
    prescription_id: int | None = None,
    corrects_note_id: int | None = None,
) -> dict[str, Any]:
    """Write a note on a patient (by IPP or ``#id``) or on a prescription (its patient is implied).

    ``corrects_note_id`` makes it a correction of an earlier note of the same patient.
    """
    body = str(text or "").strip()
    if not body:
        raise OncoError("Une note ne peut pas être vide", field="texte")
    if len(body) > MAX_LENGTH:
        raise OncoError(
            f"Note trop longue : {len(body)} caractères (au plus {MAX_LENGTH})", field="texte"
        )
    if patient is None and prescription_id is None and corrects_note_id is None:
        raise OncoError("Préciser le patient ou la prescription de la note", field="patient")
    with action(conn, actor, "écrire_note", NOTE_ROLES, "écrire une note") as act:
        target_patient = resolve_patient(conn, patient) if patient is not None else None
        if prescription_id is not None:
            prescription = prescription_by_id(conn, prescription_id)
            if target_patient and target_patient["id"] != prescription["patient_id"]:
                raise OncoError(
                    f"La prescription n° {prescription_id} n'est pas celle de ce patient",
                    field="prescription",
                    rule="PATIENT_DISCORDANT",
                )
            target_patient = target_patient or resolve_patient(conn, prescription["patient_id"])
        corrected = None
        if corrects_note_id is not None:
            corrected = patient_store.note_by_id(conn, corrects_note_id)
            if corrected is None:
                raise OncoError(f"Note à corriger inconnue : n° {corrects_note_id}", field="note")
            if target_patient and target_patient["id"] != corrected["patient_id"]:
                raise OncoError(
                    f"La note n° {corrects_note_id} concerne un autre patient",
                    field="note",
                    rule="PATIENT_DISCORDANT",
                )
            target_patient = target_patient or resolve_patient(conn, corrected["patient_id"])
            if prescription_id is None:
                prescription_id = corrected["prescription_id"]
        twin = patient_store.same_note(
            conn, target_patient["id"], prescription_id, actor.id, corrects_note_id, body
        )
        if twin is not None:
            raise OncoError(
                f"Note identique déjà enregistrée (n° {twin}) : action déjà faite (double clic ?)",
                rule="DEJA_FAIT",
            )
        now = audit.now_iso()
        note_id = patient_store.insert_note(
            conn,
            {
                "patient_id": target_patient["id"],
                "prescription_id": prescription_id,
                "author_id": actor.id,
                "author_initials": actor.initials,
                "author_role": actor.role,
                "text": body,
                "corrects_note_id": corrects_note_id,
                "created_at": now,
            },
        )
        act.record(
            "note",
            note_id,
            None,
            {
                "patient_id": target_patient["id"],
                "prescription_id": prescription_id,
                "texte": body,
                "corrige": corrects_note_id,
            },
        )
    return patient_store.note_by_id(conn, note_id)
