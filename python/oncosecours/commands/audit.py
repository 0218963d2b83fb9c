"""``oncosecours audit verify``: the audit chain, the register against it, and its anchors."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, run_query


def register(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="journal d'audit")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION")
    verify = sub.add_parser(
        "verify",
        help="vérifier le journal, que les tables sont celles qu'il décrit, et ses ancres "
        "(copie de secours, instantanés, ordonnancier imprimé) ; code 1 si une différence",
    )
    add_common(verify, user=False)
    verify.add_argument(
        "--settings",
        metavar="FICHIER",
        help="paramètres de l'établissement (où sont la copie de secours et les instantanés)",
    )
    verify.add_argument(
        "--ancre",
        action="append",
        default=[],
        metavar="ANCRE",
        help="ancre imprimée sur un ordonnancier (E<n°>-L<n°>-<empreinte>), à comparer ; répétable",
    )
    verify.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    from oncosecours.settings import load_settings
    from oncosecours.store.integrity import verify_store

    settings = load_settings(args.settings) if args.settings else None
    report = run_query(args, verify_store, settings=settings, printed=args.ancre)
    emit(args, report.as_dict(), report.text())
    return 0 if report.ok else 1


def register_bench(sub) -> None:
    """``oncosecours bench audit``: verify's time on a given store and a synthetic crisis."""
    from oncosecours.commands.bench import add_bench_options

    parser = sub.add_parser(
        "audit",
        help="durée de « audit verify » (journal, lignes, ancres) sur une base donnée et sur "
        "une crise synthétique de plusieurs semaines",
    )
    add_bench_options(parser)
    parser.add_argument("--store", metavar="FICHIER", help="base à vérifier aussi (ex. la démo)")
    parser.add_argument("--weeks", metavar="N", type=int, default=6, help="semaines (défaut : 6)")
    parser.add_argument(
        "--per-day",
        metavar="N",
        type=int,
        default=6,
        help="nouveaux patients par jour (défaut : 6)",
    )
    parser.add_argument("--seed", metavar="GRAINE", type=int, default=1, help="graine")
    parser.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    import json
    import sys

    from oncosecours.ops.bench_audit import report, run

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = run(args.store, args.weeks, args.per_day, args.seed, say)
    print(json.dumps(results, ensure_ascii=False, indent=2) if args.json else report(results))
    return 0
