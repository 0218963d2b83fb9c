"""``oncosecours demo``: the main job, a crisis day played end to end on synthetic data."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="jouer une journée de crise de démonstration")
    parser.add_argument("--out", metavar="DOSSIER", default="demo-output", help="dossier de sortie")
    parser.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    print("OncoSecours : la démonstration complète arrive avec les prochaines versions.")
    print("Déjà disponible : utilisateurs (oncosecours user), journal d'audit (oncosecours audit).")
    return 0
