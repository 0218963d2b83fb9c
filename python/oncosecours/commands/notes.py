"""``oncosecours note ...``: notes on a patient or a prescription (never edited; corrections)."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, run_action, run_query


def register(subparsers) -> None:
    parser = subparsers.add_parser("note", help="notes entre professionnels")
    sub = parser.add_subparsers(dest="note_command", metavar="ACTION")

    add = sub.add_parser("add", help="écrire une note (datée, signée, non modifiable)")
    add_common(add)
    add.add_argument("--patient", metavar="PATIENT", help="patient : IPP ou #numéro de dossier")
    add.add_argument("--prescription", metavar="N", type=int, help="numéro de prescription")
    add.add_argument(
        "--corrects",
        metavar="N",
        type=int,
        help="numéro de la note que celle-ci corrige (l'ancienne reste)",
    )
    add.add_argument("--text", metavar="TEXTE", required=True, help="texte de la note")
    add.set_defaults(handler=_add)

    listing = sub.add_parser("list", help="notes d'un patient")
    add_common(listing, user=False)
    listing.add_argument(
        "--patient", metavar="PATIENT", required=True, help="patient : IPP ou #numéro de dossier"
    )
    listing.set_defaults(handler=_list)


def _add(args: argparse.Namespace) -> int:
    from oncosecours.services.notes import add_note
    from oncosecours.texts.circuit import note_line

    note = run_action(
        args,
        add_note,
        args.text,
        patient=args.patient,
        prescription_id=args.prescription,
        corrects_note_id=args.corrects,
    )
    emit(args, note, "Note enregistrée :\n" + note_line(note | {"corrected_by": []}))
    return 0


def _list(args: argparse.Namespace) -> int:
    from oncosecours.services.queries import notes_for
    from oncosecours.store.circuit import resolve_patient
    from oncosecours.texts.circuit import note_line

    patient = run_query(args, resolve_patient, args.patient)
    notes = run_query(args, notes_for, patient["id"])
    emit(args, notes, "\n".join(note_line(n) for n in notes) or "Aucune note.")
    return 0
