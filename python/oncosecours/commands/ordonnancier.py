"""``oncosecours ordonnancier ...``: print the register (by date, patient or drug), verify it."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, run_query

BY = {"date": "date", "patient": "patient", "drug": "drug"}


def register(subparsers) -> None:
    parser = subparsers.add_parser("ordonnancier", help="registre des préparations")
    sub = parser.add_subparsers(dest="ordonnancier_command", metavar="ACTION")

    export = sub.add_parser("export", help="imprimer l'ordonnancier d'une période")
    add_common(export, user=False)
    export.add_argument(
        "--from", dest="date_from", metavar="AAAA-MM-JJ", required=True, help="du (AAAA-MM-JJ)"
    )
    export.add_argument(
        "--to", dest="date_to", metavar="AAAA-MM-JJ", required=True, help="au (AAAA-MM-JJ, inclus)"
    )
    export.add_argument(
        "--by", choices=tuple(BY), default="date", help="tri : date (défaut), patient ou drug"
    )
    export.set_defaults(handler=_export)

    verify = sub.add_parser("verify", help="vérifier : aucun numéro sauté ni réutilisé")
    add_common(verify, user=False)
    verify.set_defaults(handler=_verify)


def register_text(rows: list[dict]) -> str:
    if not rows:
        return "Aucune préparation sur la période."
    out = []
    for row in rows:
        mark = " [ANNULÉE]" if row["cancelled"] else ""
        out.append(
            f"{row['ord_number']}  {row['prepared_at'][:16].replace('T', ' ')}  "
            f"{row['patient_name']} ({row['patient_birth_date']}, IPP {row['patient_ipp'] or '—'})"
            f"{mark}"
        )
        out.append(f"    {row['composition']}")
        out.append(
            f"    prescripteur {row['prescriber_name']} ; préparé par "
            f"{row['prepared_by_initials']} ; état {row['state_fr']}"
            + (
                f" ; libéré par {row['released_by']}"
                if row["release_decision"] == "released"
                else ""
            )
        )
        if row["lots_text"]:
            out.append(f"    lots : {row['lots_text']}")
        if row["cancelled"]:
            out.append(f"    annulée : {row['cancel_reason']}")
    return "\n".join(out)


def _export(args: argparse.Namespace) -> int:
    from oncosecours.services.preparation_queries import ordonnancier_rows
    from oncosecours.store.anchors import read_head

    rows = run_query(args, ordonnancier_rows, args.date_from, args.date_to, BY[args.by])
    head = run_query(args, read_head)
    anchor = f"\nAncre du journal d'audit : {head.label()} (oncosecours audit verify --ancre …)"
    emit(args, rows, register_text(rows) + (anchor if head else ""))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from oncosecours.store.ordonnancier import check_sequence

    report = run_query(args, check_sequence)
    if report.ok:
        series = ", ".join(f"{k} : {v}" for k, v in report.series.items()) or "aucune"
        text = f"Ordonnancier intègre : {report.entries} entrée(s) (séries {series})."
    else:
        text = "ORDONNANCIER INCOHÉRENT :\n" + "\n".join(f"  {p}" for p in report.problems)
    emit(args, report.as_dict(), text)
    return 0 if report.ok else 1
