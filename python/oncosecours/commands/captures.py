"""``oncosecours captures``: the README's pictures, made from a demo's output."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_json, emit, nombre


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "captures",
        help="aperçus PNG du classeur et d'une fiche de fabrication (pour la documentation)",
        description=(
            "Fabrique deux images à partir du dossier d'une démonstration : le classeur tel que "
            "LibreOffice l'imprime (feuille Accueil, puis une feuille de travail avec les lignes "
            "du jour) et la première fiche de fabrication. Le dossier de démonstration n'est "
            "que lu : le classeur est recopié sans macros, chaque copie ne laissant visible "
            "que la feuille à montrer. Nécessite LibreOffice et pdftoppm (Poppler)."
        ),
    )
    parser.add_argument(
        "--demo",
        metavar="DOSSIER",
        default="demo-output",
        help="dossier écrit par « oncosecours demo --out DOSSIER » (défaut : demo-output)",
    )
    parser.add_argument(
        "--out",
        metavar="DOSSIER",
        required=True,
        help="dossier où écrire apercu-classeur.png et apercu-fiche-fabrication.png "
        "(créé au besoin ; ces deux fichiers sont remplacés)",
    )
    parser.add_argument(
        "--feuille",
        metavar="NOM",
        default="Fabrication",
        help="feuille de travail montrée sous l'Accueil (défaut : Fabrication ; "
        "par exemple Validation, Administration)",
    )
    parser.add_argument(
        "--resolution",
        metavar="PPP",
        type=nombre,
        default=96,
        help="résolution des images en points par pouce (défaut : 96)",
    )
    parser.add_argument(
        "--garder-pdf",
        action="store_true",
        help="garder aussi les PDF intermédiaires dans le dossier de sortie",
    )
    add_json(parser)
    parser.set_defaults(handler=_captures)


def _captures(args: argparse.Namespace) -> int:
    from oncosecours.ops import captures

    done = captures.make_captures(
        args.demo,
        args.out,
        sheet=args.feuille,
        resolution=args.resolution,
        keep_pdf=args.garder_pdf,
    )
    emit(args, [c.to_dict() for c in done], captures.format_captures(done))
    return 0
