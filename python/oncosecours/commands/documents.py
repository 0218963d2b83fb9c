"""``oncosecours documents ...``: fiches de fabrication, labels, plans de soins, ordonnancier.

Each command writes the .docx files (one per preparation or patient, plus one print-ready
file with all of them) and their PDFs when LibreOffice is installed.
"""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_json, add_store, emit, heure, open_store


def _common(parser: argparse.ArgumentParser) -> None:
    add_store(parser)
    add_json(parser)
    parser.add_argument(
        "--out",
        metavar="DOSSIER",
        default="documents",
        help="dossier de sortie (défaut : documents)",
    )
    pdf = parser.add_mutually_exclusive_group()
    pdf.add_argument(
        "--pdf",
        dest="pdf",
        action="store_const",
        const=True,
        default=None,
        help="PDF obligatoires (erreur si LibreOffice manque)",
    )
    pdf.add_argument(
        "--no-pdf", dest="pdf", action="store_const", const=False, help="pas de PDF (.docx seuls)"
    )
    parser.add_argument(
        "--templates",
        metavar="DOSSIER",
        help="dossier des modèles (défaut : $ONCOSECOURS_TEMPLATES, sinon templates/ livré)",
    )
    parser.add_argument("--settings", metavar="FICHIER", help="paramètres de l'établissement")


def _selection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--date", metavar="AAAA-MM-JJ", help="toutes les préparations du jour")
    group.add_argument(
        "--preparation",
        metavar="N",
        action="append",
        help="numéro d'ordonnancier (2026-000123) ou #id ; répétable",
    )


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "documents", help="imprimer fiches de fabrication, étiquettes, plans de soins, ordonnancier"
    )
    sub = parser.add_subparsers(dest="documents_command", metavar="DOCUMENT")
    parser.set_defaults(handler=lambda _args: (parser.print_help(), 2)[1])

    fab = sub.add_parser("fabrication", help="fiches de fabrication (une par préparation)")
    _selection(fab)
    _common(fab)
    fab.set_defaults(handler=_preparations, kind="fabrication")

    labels = sub.add_parser("labels", help="étiquettes des poches")
    _selection(labels)
    _common(labels)
    labels.add_argument(
        "--planche",
        action="store_true",
        help="fichier d'impression en planches A4 (plusieurs étiquettes par page)",
    )
    labels.set_defaults(handler=_preparations, kind="etiquette")

    care = sub.add_parser("care-plan", help="plans de soins d'un jour (un par patient)")
    care.add_argument("--date", metavar="AAAA-MM-JJ", required=True, help="jour d'administration")
    care.add_argument("--patient", metavar="IPP", help="un seul patient (IPP ou #id)")
    care.add_argument(
        "--t0",
        metavar="HH:MM",
        type=heure,
        default="",
        help="heure de T0, de 00:00 à 23:59 (sinon à compléter à la main)",
    )
    _common(care)
    care.set_defaults(handler=_care_plan)

    register_ = sub.add_parser("ordonnancier", help="extrait de l'ordonnancier d'une période")
    register_.add_argument(
        "--from", dest="date_from", metavar="AAAA-MM-JJ", required=True, help="du (AAAA-MM-JJ)"
    )
    register_.add_argument(
        "--to", dest="date_to", metavar="AAAA-MM-JJ", required=True, help="au (AAAA-MM-JJ, inclus)"
    )
    register_.add_argument(
        "--by",
        choices=("date", "patient", "drug"),
        default="date",
        help="tri : date (défaut), patient ou drug (molécule)",
    )
    _common(register_)
    register_.set_defaults(handler=_ordonnancier)


def _settings(args: argparse.Namespace):
    from oncosecours.settings import load_settings

    return load_settings(args.settings)


def report(args: argparse.Namespace, result) -> int:
    files = [str(p) for p in result.files]
    lines = [f"{len(files)} fichier(s) écrit(s) dans {args.out} :"]
    lines += [f"  {p}" for p in files]
    if result.combined:
        lines.append(f"À imprimer : {result.combined}")
    if result.pdf_error:
        lines.append(f"Attention : {result.pdf_error}")
    emit(
        args,
        {
            "fichiers": files,
            "docx": [str(p) for p in result.docx],
            "a_imprimer": str(result.combined) if result.combined else None,
            "pdf": [str(p) for p in result.pdf],
            "pdf_erreur": result.pdf_error,
        },
        "\n".join(lines),
    )
    return 0


def _preparations(args: argparse.Namespace) -> int:
    from oncosecours.documents import context as C
    from oncosecours.documents import render
    from oncosecours.domain.errors import OncoError
    from oncosecours.services import document_queries as Q

    conn = open_store(args)
    settings = _settings(args)
    kind = args.kind
    sheet = bool(getattr(args, "planche", False))
    if args.date:
        day = render._iso_day(args.date)
        refs = Q.day_preparation_ids(conn, day)
        if not refs:
            raise OncoError(f"Aucune préparation pour le {C.date(day)}", field="date")
        suffix = "planche" if sheet else "toutes"
        combined = f"{render.FILE_PREFIX[kind]}s_{day}_{suffix}"
    else:
        refs = list(args.preparation)
        combined = None
        if len(refs) > 1 or sheet:
            combined = f"{render.FILE_PREFIX[kind]}s_{'planche' if sheet else 'selection'}"
    result = render.render_preparations(
        conn,
        refs,
        kind,
        args.out,
        settings,
        combined_name=combined,
        sheet=sheet,
        pdf=args.pdf,
        templates=args.templates,
    )
    return report(args, result)


def _care_plan(args: argparse.Namespace) -> int:
    from oncosecours.documents import render

    conn = open_store(args)
    result = render.render_care_plans(
        conn,
        args.date,
        args.out,
        _settings(args),
        patient=args.patient,
        t0=args.t0,
        pdf=args.pdf,
        templates=args.templates,
    )
    return report(args, result)


def _ordonnancier(args: argparse.Namespace) -> int:
    from oncosecours.documents import render

    conn = open_store(args)
    result = render.render_ordonnancier(
        conn,
        args.date_from,
        args.date_to,
        args.by,
        args.out,
        _settings(args),
        pdf=args.pdf,
        templates=args.templates,
    )
    return report(args, result)


def register_bench(sub) -> None:
    """``oncosecours bench documents``: naive docxtpl loop vs compiled templates, same run."""
    from oncosecours.commands.bench import add_bench_options

    parser = sub.add_parser(
        "documents",
        help="fiches de fabrication d'une grande unité : boucle docxtpl naïve contre compilée",
    )
    add_bench_options(parser)
    parser.add_argument(
        "--count",
        metavar="N",
        type=int,
        default=350,
        help="nombre de fiches (défaut : 350, une grande unité)",
    )
    parser.add_argument("--out", metavar="DOSSIER", help="garder les fichiers produits ici")
    parser.add_argument(
        "--pdf", action="store_true", help="mesurer aussi la conversion PDF (LibreOffice)"
    )
    parser.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from oncosecours.domain.errors import OncoError
    from oncosecours.ops import bench_documents

    if args.count < 1:
        raise OncoError(f"Nombre de fiches impossible : {args.count}", field="count")
    result = bench_documents.run(args.count, out_dir=args.out, pdf=args.pdf)
    emit(args, result, bench_documents.text(result))
    return 0
