"""``oncosecours templates ...``: check the Word templates adapted by quality staff."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_json, emit


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "templates", help="modèles Word : vérifier, exemples, réinitialiser"
    )
    sub = parser.add_subparsers(dest="templates_command", metavar="ACTION")
    parser.set_defaults(handler=lambda _args: (parser.print_help(), 2)[1])

    check = sub.add_parser(
        "check",
        help="vérifier les modèles : champs inconnus, erreurs de syntaxe, rendu des exemples",
    )
    check.add_argument(
        "folder",
        nargs="?",
        metavar="DOSSIER",
        help="dossier des modèles (défaut : $ONCOSECOURS_TEMPLATES, sinon templates/ livré)",
    )
    check.add_argument(
        "--pdf", action="store_true", help="convertir aussi les exemples en PDF (nombre de pages)"
    )
    check.add_argument("--settings", metavar="FICHIER", help="paramètres de l'établissement")
    add_json(check)
    check.set_defaults(handler=_check)

    sample = sub.add_parser("sample", help="produire chaque modèle sur les données d'exemple")
    sample.add_argument("--out", metavar="DOSSIER", default="exemples-documents")
    sample.add_argument("--templates", metavar="DOSSIER", help="dossier des modèles")
    sample.add_argument("--no-pdf", dest="pdf", action="store_const", const=False, default=None)
    sample.add_argument("--settings", metavar="FICHIER", help="paramètres de l'établissement")
    add_json(sample)
    sample.set_defaults(handler=_sample)

    reset = sub.add_parser(
        "reset", help="écrire les modèles par défaut (et CHAMPS.md) dans un dossier"
    )
    reset.add_argument("folder", metavar="DOSSIER", help="dossier de destination")
    add_json(reset)
    reset.set_defaults(handler=_reset)


def _settings(args: argparse.Namespace):
    from oncosecours.settings import load_settings

    return load_settings(args.settings)


def _check(args: argparse.Namespace) -> int:
    from oncosecours.documents import checker

    reports = checker.check_dir(args.folder, settings=_settings(args), pdf=args.pdf)
    emit(args, checker.reports_json(reports), checker.format_reports(reports))
    return 0 if all(r.ok for r in reports) else 1


def _sample(args: argparse.Namespace) -> int:
    from oncosecours.commands.documents import report
    from oncosecours.documents import render

    result = render.render_samples(
        args.out, _settings(args), templates=args.templates, pdf=args.pdf
    )
    return report(args, result)


def _reset(args: argparse.Namespace) -> int:
    from pathlib import Path

    from oncosecours.documents.make_templates import generate
    from oncosecours.domain.errors import OncoError
    from oncosecours.resources import shipped

    target = Path(args.folder)
    if target.resolve() == shipped("templates").resolve():
        raise OncoError(
            "Refus d'écraser les modèles livrés en place : donner un autre dossier",
            hint="python -m oncosecours.documents.make_templates régénère les modèles livrés",
        )
    existing = [p for p in target.glob("*.docx")] if target.exists() else []
    if existing:
        raise OncoError(
            f"Le dossier contient déjà {len(existing)} modèle(s) : choisir un dossier vide",
            file=str(target),
        )
    written = generate(target)
    emit(args, [str(p) for p in written], "\n".join(f"écrit : {p}" for p in written))
    return 0
