"""``oncosecours audit verify``: the audit chain, the register against it, and its anchors."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, open_store


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

    conn = open_store(args)
    settings = load_settings(args.settings) if args.settings else None
    report = verify_store(conn, settings=settings, printed=args.ancre)
    emit(args, report.as_dict(), report.text())
    return 0 if report.ok else 1
