"""``oncosecours dispense``: hand a released bag to the ward."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, run_action


def register(subparsers) -> None:
    parser = subparsers.add_parser("dispense", help="dispenser une poche libérée au service")
    add_common(parser)
    parser.add_argument(
        "--prep", metavar="NUMERO", required=True, help="numéro d'ordonnancier (ou #id)"
    )
    parser.add_argument(
        "--recipient", metavar="NOM", required=True, help="qui reçoit la poche (nom)"
    )
    parser.add_argument(
        "--ward", metavar="SERVICE", help="service destinataire (défaut : celui du patient)"
    )
    parser.add_argument(
        "--at",
        metavar="HEURE",
        help="heure de remise (HH:MM ou AAAA-MM-JJ HH:MM ; défaut : maintenant)",
    )
    parser.add_argument("--comment", metavar="TEXTE", help="commentaire")
    parser.set_defaults(handler=_dispense)


def _dispense(args: argparse.Namespace) -> int:
    from oncosecours.services.dispensing import dispense

    result = run_action(
        args,
        dispense,
        args.prep,
        recipient=args.recipient,
        ward=args.ward,
        at=args.at,
        comment=args.comment,
    )
    from datetime import datetime

    from oncosecours.domain.production import fr_datetime

    handed = fr_datetime(datetime.fromisoformat(result["dispensed_at"]))
    emit(
        args,
        result,
        f"Préparation n° {result['number']} remise à {result['recipient']} "
        f"({result['ward']}) le {handed}.",
    )
    return 0
