"""``oncosecours administer``: the nurse records an administration (start, end, incidents)."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, run_action


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "administer", help="enregistrer l'administration d'une poche ou d'une ligne (infirmier)"
    )
    add_common(parser)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--prep", metavar="NUMERO", help="numéro d'ordonnancier de la poche (étiquette)"
    )
    target.add_argument(
        "--line", metavar="N", type=int, help="numéro de la ligne (lignes sans poche)"
    )
    parser.add_argument(
        "--start", metavar="DEBUT", required=True, help="début (HH:MM ou AAAA-MM-JJ HH:MM)"
    )
    parser.add_argument(
        "--end", metavar="FIN", required=True, help="fin (HH:MM ou AAAA-MM-JJ HH:MM)"
    )
    parser.add_argument(
        "--incident",
        metavar="TYPE:COMMENTAIRE",
        action="append",
        default=[],
        help="incident, répétable : arret|extravasation|reaction:commentaire",
    )
    parser.add_argument("--access", metavar="VOIE", help="voie d'abord (PAC, VVP, PICC...)")
    parser.add_argument(
        "--justification",
        metavar="TEXTE",
        help="justification si la poche a dépassé sa date limite",
    )
    parser.add_argument("--comment", metavar="TEXTE", help="commentaire")
    parser.set_defaults(handler=_administer)


def _administer(args: argparse.Namespace) -> int:
    from oncosecours.services.administration import administer

    result = run_action(
        args,
        administer,
        line_id=args.line,
        preparation=args.prep,
        started_at=args.start,
        ended_at=args.end,
        incidents=args.incident,
        access=args.access,
        justification=args.justification,
        comment=args.comment,
    )
    what = f"poche n° {result['number']}" if result["number"] else f"ligne {result['line_id']}"
    from datetime import datetime

    from oncosecours.domain.production import fr_datetime

    start, end = (
        fr_datetime(datetime.fromisoformat(result[k])) for k in ("started_at", "ended_at")
    )
    text = f"Administration enregistrée ({what}) : du {start} au {end}"
    if not result["completed"]:
        text += " — INTERROMPUE"
    for incident in result["incidents"]:
        text += f"\n  incident : {incident['label']} — {incident['comment']}"
    emit(args, result, text)
    return 0
