"""``oncosecours release``: the pharmacist releases (or refuses) a controlled preparation."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, run_action


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "release", help="libération pharmaceutique d'une poche contrôlée (pharmacien)"
    )
    add_common(parser)
    parser.add_argument(
        "--prep", metavar="NUMERO", required=True, help="numéro d'ordonnancier (ou #id)"
    )
    parser.add_argument(
        "--justification",
        metavar="TEXTE",
        help="justification écrite (obligatoire si poids hors tolérance)",
    )
    parser.add_argument("--refuse", metavar="MOTIF", help="refuser la poche avec ce motif")
    parser.set_defaults(handler=_release)


def _release(args: argparse.Namespace) -> int:
    from oncosecours.services.release import reject_preparation, release_preparation

    if args.refuse is not None:
        result = run_action(args, reject_preparation, args.prep, args.refuse)
        text = f"Préparation n° {result['number']} REFUSÉE : {result['reason']}."
    else:
        result = run_action(args, release_preparation, args.prep, justification=args.justification)
        text = f"Préparation n° {result['number']} libérée par {result['pharmacist']}."
    emit(args, result, text)
    return 0
