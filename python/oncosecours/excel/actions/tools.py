"""Outils: notes, the audit journal, the integrity check."""

from __future__ import annotations

from datetime import datetime

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells
from oncosecours.excel.actions._common import leading_number


def add_note(ctx) -> str:
    """« Ajouter une note » -> services.notes.add_note (same as ``oncosecours note add``)."""
    from oncosecours.services.notes import add_note as service

    sheet = ctx.layout.sheet("Notes")
    form = ctx.book.read_fields(sheet)
    text = cells.as_text(form.get("texte"))
    if not text:
        raise OncoError("Écrivez le texte de la note (case « Texte »)", field="texte")
    prescription = form.get("prescription")
    corrects = form.get("corrige")
    note = service(
        ctx.conn,
        ctx.actor(),
        text,
        patient=cells.as_text(form.get("patient")),
        prescription_id=leading_number(prescription, "prescription") if prescription else None,
        corrects_note_id=leading_number(corrects, "note corrigée") if corrects else None,
    )
    # the text is cleared once saved: a second click cannot write the same note twice
    ctx.book.write_fields(sheet, {"texte": None, "corrige": None})
    ctx.refresh("Notes")
    return f"note n° {note['id']} enregistrée"


def journal(ctx) -> str:
    """« Journal »: the latest audit events (read only, no PIN)."""
    ctx.refresh("Journal")
    ctx.book.activate("Journal")
    shown = ctx.layout.sheet("Journal").table.shown_rows
    return f"journal affiché (au plus {shown} événements, le plus récent en haut)"


def verify(ctx) -> str:
    """« Vérifier l'intégrité » -> store.integrity.verify_store (= ``oncosecours audit verify``):
    the chain, the tables against it, and its anchors."""
    from oncosecours.store.integrity import verify_store

    report = verify_store(ctx.conn)
    stamp = datetime.now().strftime("%d/%m/%Y %H:%M")
    text = report.text()
    if report.ok:
        text = text.replace(" vérifiés.", f" vérifiés le {stamp}.", 1)
    else:
        text = f"ALERTE ({stamp}) : {text}"
    ctx.book.write_fields(ctx.layout.sheet("Journal"), {"integrite": text})
    ctx.refresh("Journal")
    if not report.ok:
        ctx.book.alert(text, title="OncoSecours — ALERTE INTÉGRITÉ", critical=True)
    return text
