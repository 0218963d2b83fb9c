"""``oncosecours control``: gravimetric, visual and double control of a finished bag."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, nombre, run_action


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "control", help="contrôler une poche : poids mesuré, contrôle visuel, double contrôle"
    )
    add_common(parser)
    parser.add_argument(
        "--prep", metavar="NUMERO", required=True, help="numéro d'ordonnancier (ou #id)"
    )
    parser.add_argument(
        "--weight", metavar="GRAMMES", type=nombre, required=True, help="poids net mesuré (g)"
    )
    parser.add_argument(
        "--visual",
        choices=("conforme", "non-conforme"),
        required=True,
        help="résultat du contrôle visuel",
    )
    parser.add_argument("--double-check", metavar="INITIALES", help="second contrôleur")
    parser.add_argument(
        "--comment", metavar="TEXTE", help="commentaire (obligatoire si non conforme)"
    )
    parser.set_defaults(handler=_control)


def _control(args: argparse.Namespace) -> int:
    from oncosecours.services.release import control_preparation

    result = run_action(
        args,
        control_preparation,
        args.prep,
        args.weight,
        visual_ok=args.visual == "conforme",
        double_checker=args.double_check,
        comment=args.comment,
    )
    text = f"Préparation n° {result['number']} contrôlée : {result['gravimetry']['message']}."
    if "VISUEL_NON_CONFORME" in result["flags"]:
        text += " Contrôle visuel NON CONFORME."
    if "SANS_DOUBLE_CONTROLE" in result["flags"]:
        text += " Sans double contrôle."
    emit(args, result, text)
    return 0
