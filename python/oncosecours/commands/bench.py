"""``oncosecours bench ...``: performance measurements (never in the tests).

``bench`` is a group. This module registers ``bench refresh``; another part adds its own
measurement without touching this file, in either of two ways:

* a command module (``oncosecours/commands/<x>.py``) defines
  ``register_bench(bench_subparsers)`` and adds its parser there, e.g.::

      def register_bench(sub):
          parser = sub.add_parser("documents", help="...")
          add_bench_options(parser)
          parser.set_defaults(handler=_bench_documents)

* or any module calls :func:`add_bench` at import time with a function of the same shape.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from collections.abc import Callable

BENCHES: dict[str, Callable] = {}
"""Extra ``bench`` sub-commands registered with :func:`add_bench` (name -> register function)."""


def add_bench(name: str, register: Callable) -> None:
    """Register ``register(bench_subparsers)`` to add the sub-command ``bench <name>``."""
    BENCHES[name] = register


def add_bench_options(parser: argparse.ArgumentParser) -> None:
    """Options every measurement takes: ``--json``."""
    parser.add_argument("--json", action="store_true", help="résultats en JSON")


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="mesures de performance")
    sub = parser.add_subparsers(dest="bench_command", metavar="MESURE")
    parser.set_defaults(handler=lambda _args: (parser.print_help(), 2)[1])

    refresh = sub.add_parser(
        "refresh",
        help="actualisation complète comparée à pyarrow seul (jeu synthétique « large »)",
    )
    add_bench_options(refresh)
    refresh.add_argument("--scale", choices=("small", "large"), default="large",
                         help="taille du jeu synthétique (défaut : large)")  # fmt: skip
    refresh.add_argument(
        "--seed", metavar="GRAINE", type=int, default=1, help="graine du jeu synthétique"
    )
    refresh.add_argument(
        "--keep",
        metavar="DOSSIER",
        help="garder (ou réutiliser) la sauvegarde synthétique dans ce dossier",
    )
    refresh.set_defaults(handler=_bench_refresh)

    import oncosecours.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "bench":
            continue
        module = importlib.import_module(f"oncosecours.commands.{info.name}")
        hook = getattr(module, "register_bench", None)
        if callable(hook):
            hook(sub)
    for _name, extra in sorted(BENCHES.items()):
        extra(sub)


def _bench_refresh(args: argparse.Namespace) -> int:
    from oncosecours.ops.bench_refresh import report, run

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    numbers = run(args.scale, args.seed, args.keep, progress=say)
    if args.json:
        print(json.dumps(numbers, ensure_ascii=False, indent=2))
    else:
        print(report(numbers))
    return 0
