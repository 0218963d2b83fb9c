"""The ``oncosecours`` command: every ribbon action is also a command here.

Each module of ``oncosecours.commands`` registers its sub-commands; handlers import what they
need when they run, so ``oncosecours --help`` and light actions stay fast. Any refusal is shown
as a French message (or JSON with ``--json``) and a non-zero exit; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import traceback
from pathlib import Path

from oncosecours.domain.errors import OncoError

EXIT_REFUSED = 2
EXIT_UNEXPECTED = 3


class _FrenchFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None) -> None:
        super().add_usage(usage, actions, groups, "utilisation : " if prefix is None else prefix)


class _FrenchParser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs["add_help"] = False
        kwargs.setdefault("formatter_class", _FrenchFormatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def error(self, message: str) -> None:  # argparse's own messages, translated where common
        for english, french in (
            ("the following arguments are required", "arguments obligatoires manquants"),
            ("unrecognized arguments", "arguments non reconnus"),
            ("invalid choice", "choix invalide"),
            ("expected one argument", "une valeur est attendue"),
            ("argument ", "argument "),
            ("not allowed with argument", "incompatible avec l'argument"),
            ("invalid int value", "entier invalide"),
            ("invalid float value", "nombre invalide"),
        ):
            message = message.replace(english, french)
        self.print_usage(sys.stderr)
        self.exit(EXIT_REFUSED, f"{self.prog} : erreur : {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _FrenchParser(
        prog="oncosecours",
        description="OncoSecours : circuit des chimiothérapies injectables en mode dégradé.",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMANDE", title="commandes", parser_class=_FrenchParser
    )
    import oncosecours.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"oncosecours.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_REFUSED
    as_json = getattr(args, "json", False)
    try:
        return int(args.handler(args) or 0)
    except OncoError as error:
        if as_json:
            print(json.dumps(error.to_dict(), ensure_ascii=False))
        else:
            print(f"Refusé : {error}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("Interrompu : l'action en cours n'a pas été enregistrée.", file=sys.stderr)
        return 130
    except Exception:
        log = Path.home() / ".oncosecours-erreurs.log"
        try:
            with log.open("a", encoding="utf-8") as handle:
                handle.write(traceback.format_exc() + "\n")
        except OSError:
            log = None
        where = f" Détail technique dans {log}." if log else ""
        print(
            "Erreur inattendue : rien n'a été enregistré par l'action en cours." + where,
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED
