"""``oncosecours bench workbook-click``: cold start of a ribbon click vs ``import xlwings``."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import emit

MEASURABLE = ("journal", "note", "verifier_integrite")


def register(subparsers) -> None:
    """Nothing at the top level: the measurement lives in the ``bench`` group."""


def register_bench(sub) -> None:
    from oncosecours.commands.bench import add_bench_options

    parser = sub.add_parser(
        "workbook-click",
        help="démarrage d'un clic du ruban (processus Python) comparé à « import xlwings »",
    )
    add_bench_options(parser)
    parser.add_argument(
        "--runs",
        metavar="N",
        type=int,
        default=7,
        help="processus par mesure (médiane ; défaut : 7)",
    )
    parser.add_argument(
        "--action",
        action="append",
        metavar="BOUTON",
        help=f"bouton à mesurer, répétable : {', '.join(MEASURABLE)} (défaut : journal et note)",
    )
    parser.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from oncosecours.domain.errors import OncoError
    from oncosecours.ops import bench_ribbon

    if args.runs < 1:
        raise OncoError(f"Nombre de mesures impossible : {args.runs}", field="runs")
    actions = tuple(args.action or ("journal", "note"))
    unknown = [a for a in actions if a not in MEASURABLE]
    if unknown:
        raise OncoError(
            f"Bouton non mesurable par ce banc : {', '.join(unknown)} "
            f"(mesurables : {', '.join(MEASURABLE)})",
            field="action",
        )
    result = bench_ribbon.run(args.runs, actions)
    emit(args, result, bench_ribbon.text(result))
    return 0
