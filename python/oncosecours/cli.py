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
import re
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

    def error(self, message: str) -> None:  # argparse's own messages, in French
        self.print_usage(sys.stderr)
        self.exit(EXIT_REFUSED, f"{self.prog} : erreur : {french_error(message)}\n")


_ARGPARSE_FR = (
    (re.compile(r"^argument (\S+): "), r"argument \1 : "),
    (re.compile(r"the following arguments are required: "), "arguments obligatoires manquants : "),
    (
        re.compile(r"one of the arguments (.+) is required"),
        r"l'un des arguments \1 est obligatoire",
    ),
    (re.compile(r"unrecognized arguments: "), "arguments non reconnus : "),
    (
        re.compile(r"invalid choice: (.+?) \(choose from (.*)\)"),
        r"choix invalide : \1 (choix possibles : \2)",
    ),
    (re.compile(r"expected one argument"), "une valeur est attendue"),
    (re.compile(r"expected at most one argument"), "une valeur au plus est attendue"),
    (re.compile(r"expected at least one argument"), "au moins une valeur est attendue"),
    (re.compile(r"not allowed with argument"), "incompatible avec l'argument"),
    (
        re.compile(r"ambiguous option: (\S+) could match (.+)"),
        r"option ambiguë : \1 peut désigner \2",
    ),
    (re.compile(r"ignored explicit argument"), "valeur non attendue"),
    (re.compile(r"invalid int value: "), "entier invalide : "),
    (re.compile(r"invalid float value: "), "nombre invalide : "),
    (re.compile(r"invalid (\w+) value: "), r"valeur invalide (\1) : "),
)


def french_error(message: str) -> str:
    """argparse's English error message, in French (unknown ones are left as they are)."""
    for pattern, french in _ARGPARSE_FR:
        message = pattern.sub(french, message)
    return message


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


UNEXPECTED = (
    "Erreur inattendue : l'action en cours n'a pas pu se terminer ; vérifier son état "
    "(oncosecours status / audit) avant de la refaire."
)


def _tolerant_streams() -> None:
    """A console or a redirect in a narrow encoding (cp1252, cp850) shows « ? » for a character
    it cannot encode (→, ², ≥) instead of failing after the action has been recorded."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError, OSError):
            pass


def main(argv: list[str] | None = None) -> int:
    _tolerant_streams()
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
            from oncosecours.commands._common import utf8_stdout

            print(json.dumps(error.to_dict(), ensure_ascii=not utf8_stdout()))
        else:
            print(f"Refusé : {error}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print(
            "Interrompu : l'action en cours n'a peut-être pas été enregistrée ; vérifier son "
            "état (oncosecours status / audit) avant de la refaire.",
            file=sys.stderr,
        )
        return 130
    except Exception:
        log = Path.home() / ".oncosecours-erreurs.log"
        try:
            with log.open("a", encoding="utf-8") as handle:
                handle.write(traceback.format_exc() + "\n")
        except OSError:
            log = None
        where = f" Détail technique dans {log}." if log else ""
        print(UNEXPECTED + where, file=sys.stderr)
        return EXIT_UNEXPECTED
