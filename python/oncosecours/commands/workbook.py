"""``oncosecours build-workbook``: build the emergency workbook OncoSecours.xlsm."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_json, add_store, emit


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "build-workbook",
        help="construire le classeur de secours OncoSecours.xlsm (ruban, macros, feuilles)",
        description=(
            "Construit OncoSecours.xlsm à partir de workbook/layout.toml, du ruban et des modules "
            "VBA d'addin/ et du module xlwings installé. Avec --store, les feuilles et les listes "
            "déroulantes sont remplies depuis la base. Même entrée, même fichier (octet pour octet)."
        ),
    )
    add_store(parser)
    parser.add_argument(
        "--out", metavar="FICHIER", help="classeur à écrire (défaut : workbook/OncoSecours.xlsm)"
    )
    parser.add_argument(
        "--settings", metavar="FICHIER", help="paramètres de l'établissement (etablissement.toml)"
    )
    parser.add_argument(
        "--date", metavar="AAAA-MM-JJ", help="journée affichée dans les feuilles (défaut : ce jour)"
    )
    add_json(parser)
    parser.set_defaults(handler=_build)


def _build(args: argparse.Namespace) -> int:
    from oncosecours.domain.identity import parse_date
    from oncosecours.excel.builder import build_workbook

    day = parse_date(args.date, "date") if args.date else None
    path = build_workbook(args.out, store=args.store, settings=args.settings, day=day)
    emit(
        args,
        {"classeur": str(path)},
        f"Classeur construit : {path}\n"
        "Ouvrez-le dans Excel, activez les macros, saisissez vos initiales dans la feuille "
        "Accueil et utilisez l'onglet OncoSecours du ruban.",
    )
    return 0
