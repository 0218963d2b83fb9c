"""``oncosecours qualification iq|oq|run|report|status``: qualify this PC (same service as the
ribbon's « Qualifier ce poste ») and produce the report to sign."""

from __future__ import annotations

import argparse
from pathlib import Path

from oncosecours.commands._common import actor, add_common, add_json, add_store, emit, open_store

EXIT_NOT_CONFORMING = 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "qualification",
        help="qualifier ce poste (installation, fonctionnement, autotest Excel) et produire le "
        "rapport à signer",
    )
    sub = parser.add_subparsers(dest="qualification_command", metavar="ÉTAPE", required=True)
    for name, parts, text in (
        ("run", ("IQ", "OQ", "OQ-Excel"), "qualification complète : IQ, OQ, résultats de "
         "l'autotest Excel, puis le rapport (docx, PDF si LibreOffice, JSON)"),
        ("iq", ("IQ",), "qualification d'installation seule (versions, sommes SHA-256 du kit, "
         "second support, LibreOffice, règle ASR)"),
        ("oq", ("OQ",), "qualification opérationnelle seule : journée de crise jouée sur une "
         "base d'essai, dans un dossier d'essai (jamais le registre de l'unité)"),
    ):  # fmt: skip
        command = sub.add_parser(name, help=text, description=text)
        add_common(command)
        command.add_argument(
            "--kit", metavar="DOSSIER", help="dossier du kit (défaut : celui du Python installé)"
        )
        command.add_argument(
            "--out",
            metavar="DOSSIER",
            help="dossier des rapports (défaut : qualification/ à côté de la base)",
        )
        if "OQ-Excel" in parts:
            command.add_argument(
                "--excel-results",
                metavar="FICHIER",
                help="résultats de l'autotest Excel (défaut : "
                "qualification/autotest/autotest-excel.json du kit)",
            )
        command.add_argument("--no-pdf", action="store_true", help="ne pas produire de PDF")
        command.set_defaults(handler=_run, parts=parts)

    report = sub.add_parser(
        "report", help="refaire le rapport (docx, PDF) d'une qualification depuis son JSON, "
        "avec au besoin les résultats d'un autotest Excel",
    )  # fmt: skip
    report.add_argument(
        "--from", dest="source", metavar="FICHIER", required=True, help="JSON d'une qualification"
    )
    report.add_argument("--excel-results", metavar="FICHIER", help="résultats de l'autotest Excel")
    report.add_argument(
        "--out", metavar="DOSSIER", help="dossier du rapport (défaut : celui du JSON)"
    )
    report.add_argument("--no-pdf", action="store_true", help="ne pas produire de PDF")
    add_json(report)
    report.set_defaults(handler=_report)

    status = sub.add_parser("status", help="date et verdict de la dernière qualification du poste")
    add_store(status)
    add_json(status)
    status.set_defaults(handler=_status)


def _text(record: dict, written: dict) -> str:
    lines = [f"Qualification du poste {record['poste']} : {record['verdict']}", record["resume"]]
    failing = [e for e in record["essais"] if e["verdict"] == "non_conforme"]
    for entry in failing:
        lines.append(f"  NON CONFORME {entry['ref']} {entry['title']} : attendu {entry['expected']}"
                     f" ; observé {entry['observed']}")  # fmt: skip
    lines.append(
        f"Rapport : {written['docx']}" + (f" et {written['pdf']}" if written["pdf"] else "")
    )
    if written.get("pdf_note"):
        lines.append(written["pdf_note"])
    lines.append(f"Résultats (JSON) : {written['json']}")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from oncosecours.qualification.run import actor_label, kit_folder, qualify, report_folder
    from oncosecours.store.replica import main_path

    conn = open_store(args)
    try:
        who = actor_label(actor(args, conn))
        store = main_path(conn)
    finally:
        conn.close()
    out = Path(args.out) if args.out else report_folder(store)
    excel = getattr(args, "excel_results", None)
    result = qualify(kit_folder(args.kit), who, out, parts=args.parts,
                     excel_results=Path(excel) if excel else None,
                     pdf=False if args.no_pdf else None)  # fmt: skip
    record = result["record"]
    emit(args, {**record, "fichiers": result["fichiers"]}, _text(record, result["fichiers"]))
    return 0 if record["verdict"] == "CONFORME" else EXIT_NOT_CONFORMING


def _report(args: argparse.Namespace) -> int:
    import json

    from oncosecours.domain.errors import OncoError
    from oncosecours.qualification import excel_results as xl
    from oncosecours.qualification.iq import is_windows
    from oncosecours.qualification.items import Item, failing_first, overall
    from oncosecours.qualification.report import summary, write_report
    from oncosecours.qualification.run import kit_settings

    source = Path(args.source)
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
        items = [Item.from_dict(e) for e in record["essais"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OncoError(f"Qualification illisible ({exc})", file=str(source)) from None
    if args.excel_results:
        found = xl.load_items(Path(args.excel_results), windows=is_windows())
        items = [i for i in items if i.phase != xl.PHASE] + found
        record["excel"] = xl.summary(found)
        record["parties"] = sorted(set(record["parties"]) | {xl.PHASE})
    from datetime import datetime

    record.update(verdict=overall(items), resume=summary(items),
                  essais=[i.as_dict() for i in failing_first(items)],
                  refait_le=datetime.now().astimezone().isoformat(timespec="seconds"),
                  refait_depuis=source.name)  # fmt: skip
    kit = Path(record["kit"])
    written = write_report(
        record,
        Path(args.out) if args.out else source.parent,
        kit_settings(kit),
        templates=kit / "templates",
        pdf=False if args.no_pdf else None,
    )
    emit(args, {**record, "fichiers": written}, _text(record, written))
    return 0 if record["verdict"] == "CONFORME" else EXIT_NOT_CONFORMING


def _status(args: argparse.Namespace) -> int:
    from oncosecours.qualification.periodic import qualification_status
    from oncosecours.qualification.run import kit_folder, kit_settings
    from oncosecours.store.replica import main_path

    conn = open_store(args)
    try:
        store = main_path(conn)
    finally:
        conn.close()
    kit = kit_folder()
    status = qualification_status(kit_settings(kit), store, kit=kit)
    emit(args, status, status["message"])
    return 0
