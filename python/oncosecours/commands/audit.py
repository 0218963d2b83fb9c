"""``oncosecours audit verify``: the integrity of the audit chain."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, run_query


def register(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="journal d'audit")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION")
    verify = sub.add_parser("verify", help="vérifier que le journal n'a pas été modifié")
    add_common(verify, user=False)
    verify.set_defaults(handler=_verify)


def _verify(args: argparse.Namespace) -> int:
    from oncosecours.store.audit import verify

    report = run_query(args, verify)
    if report.ok:
        text = f"Journal d'audit intègre : {report.events} événements vérifiés."
    else:
        text = (
            f"JOURNAL D'AUDIT ALTÉRÉ : {report.problem} "
            f"({report.events} événements valides avant lui)."
        )
    emit(args, report.__dict__, text)
    return 0 if report.ok else 1
