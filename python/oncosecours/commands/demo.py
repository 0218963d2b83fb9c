"""``oncosecours demo``: the main job, a crisis day played end to end on synthetic data."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="jouer une journée de crise de démonstration (données fictives)",
        description=(
            "Génère une sauvegarde Chimio synthétique, la recharge avec les extraits réels de "
            "l'HEGP en un seul instantané, crée l'équipe, puis joue une journée de crise "
            "complète par les mêmes services que la ligne de commande et le ruban : patients "
            "(un homonyme détecté), inclusions, prescriptions, validation (un refus, une "
            "justification), feu vert, fabrication et ordonnancier, contrôle (une poche hors "
            "tolérance), libération, dispensation, administration, notes. Écrit les documents "
            "et le classeur, vérifie le journal d'audit et la copie de secours, et affiche un "
            "résumé. Les heures de la journée sont simulées, les identités fictives."
        ),
    )
    parser.add_argument(
        "--out",
        metavar="DOSSIER",
        default="demo-output",
        help="dossier de sortie (défaut : demo-output ; recréé à chaque démonstration, refusé "
        "s'il contient autre chose qu'une démonstration précédente)",
    )
    pdf = parser.add_mutually_exclusive_group()
    pdf.add_argument(
        "--pdf",
        dest="pdf",
        action="store_const",
        const=True,
        default=None,
        help="PDF obligatoires (erreur si LibreOffice manque) ; par défaut : PDF si LibreOffice "
        "est installé",
    )
    pdf.add_argument(
        "--no-pdf",
        dest="pdf",
        action="store_const",
        const=False,
        help="pas de PDF (.docx seuls, plus rapide)",
    )
    parser.add_argument("--quiet", action="store_true", help="ne pas afficher la progression")
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    import sys

    from oncosecours.demo import summary

    for stream in (sys.stdout, sys.stderr):  # a console that cannot show « → » or « ² »
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError):
            pass
    from oncosecours.demo.scenario import run_demo, stderr_progress

    result = run_demo(args.out, pdf=args.pdf, progress=None if args.quiet else stderr_progress())
    print(summary.text(result.paths, result.story, result.seconds), end="")
    return 0
