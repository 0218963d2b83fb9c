"""``oncosecours bench-workbook-click``: cold start of a ribbon click vs ``import xlwings``."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_json, emit


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench-workbook-click",
        help="mesurer le démarrage d'un clic du ruban (processus Python) contre « import xlwings »",
    )
    parser.add_argument(
        "--runs", type=int, default=7, help="processus par mesure (médiane ; défaut : 7)"
    )
    parser.add_argument(
        "--action",
        action="append",
        metavar="BOUTON",
        help="bouton à mesurer, répétable (défaut : journal et note)",
    )
    add_json(parser)
    parser.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from oncosecours.domain.errors import OncoError
    from oncosecours.excel import bench
    from oncosecours.excel.registry import BY_TAG

    if args.runs < 1:
        raise OncoError(f"Nombre de mesures impossible : {args.runs}", field="runs")
    actions = tuple(args.action or ("journal", "note"))
    unknown = [a for a in actions if a not in ("journal", "note", "verifier_integrite")]
    if unknown:
        known = ", ".join(sorted(BY_TAG))
        raise OncoError(
            f"Bouton non mesurable par ce banc : {', '.join(unknown)} (mesurables : journal, "
            f"note, verifier_integrite ; boutons du ruban : {known})",
            field="action",
        )
    result = bench.run(args.runs, actions)
    emit(args, result, bench.text(result))
    return 0
