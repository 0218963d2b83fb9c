"""``oncosecours kit`` (prepare the offline emergency kit) and ``kit-configure`` (run by its installer)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oncosecours.commands._common import add_json, emit


def register(subparsers) -> None:
    kit = subparsers.add_parser(
        "kit", help="préparer le kit de secours hors réseau (classeur, roues Windows, installeur)"
    )
    kit.add_argument("--out", metavar="DOSSIER", required=True, help="dossier du kit (vide)")
    kit.add_argument(
        "--python-version",
        default="3.11",
        metavar="X.Y",
        help="version de Python installée sur les postes Windows (défaut : 3.11)",
    )
    add_json(kit)
    kit.set_defaults(handler=_kit)

    configure = subparsers.add_parser(
        "kit-configure", help="(installeur du kit) inscrire l'interpréteur Python dans le classeur"
    )
    configure.add_argument("--workbook", required=True, metavar="FICHIER", help="classeur .xlsm")
    configure.add_argument(
        "--interpreter", required=True, metavar="PYTHON", help="chemin de python.exe"
    )
    configure.add_argument("--pythonpath", default="", metavar="CHEMIN", help="PYTHONPATH")
    configure.set_defaults(handler=_configure)


def _kit(args: argparse.Namespace) -> int:
    from oncosecours.kit.build import build_kit

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = build_kit(Path(args.out), python_version=args.python_version, progress=progress)
    emit(
        args,
        result,
        f"Kit de secours prêt dans {result['dossier']} ({len(result['roues'])} roues Windows, "
        f"Python {result['python']}). Copiez ce dossier sur le poste hors réseau et lancez "
        "installer.bat.",
    )
    return 0


def _configure(args: argparse.Namespace) -> int:
    from oncosecours.excel.builder import set_xlwings_conf

    set_xlwings_conf(Path(args.workbook), args.interpreter, args.pythonpath)
    print(f"Classeur configuré : interpréteur {args.interpreter}")
    return 0
