"""``oncosecours kit`` (prepare the offline emergency kit) and ``kit-configure`` (run by its installer)."""

from __future__ import annotations

import argparse
import os
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
        "--interpreter",
        metavar="PYTHON",
        help="python.exe ; défaut : le Python du kit, à côté du classeur, en chemin relatif "
        "(%%ONCOSECOURS_DIR%%\\python\\Scripts\\python.exe), qui suit le kit si la lettre du "
        "lecteur change",
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
    from oncosecours.domain.errors import OncoError
    from oncosecours.excel.builder import DEFAULT_INTERPRETER, set_xlwings_conf

    workbook = Path(args.workbook)
    if not workbook.is_file():
        raise OncoError("Classeur introuvable", file=str(workbook))
    interpreter = args.interpreter or DEFAULT_INTERPRETER
    on_disk = interpreter.replace("%ONCOSECOURS_DIR%", str(workbook.resolve().parent))
    on_disk_path = Path(on_disk.replace("\\", os.sep))
    if not on_disk_path.is_file():
        raise OncoError(
            "Interpréteur Python introuvable : le classeur n'a pas été modifié",
            file=on_disk,
            hint="Relancer installer.bat depuis le dossier du kit",
        )
    set_xlwings_conf(workbook, interpreter, args.pythonpath)
    print(f"Classeur configuré : interpréteur {interpreter}")
    return 0
