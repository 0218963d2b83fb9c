"""Options and helpers shared by the sub-commands: ``--store``, ``--user``, ``--json``."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

PIN_ENV = "ONCOSECOURS_PIN"


def add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="FICHIER",
        help="base OncoSecours (défaut : $ONCOSECOURS_STORE, sinon celle du classeur)",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="sortie JSON (pour les scripts)")


def add_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--user",
        metavar="INITIALES",
        required=True,
        help="initiales de l'utilisateur (PIN lu dans $ONCOSECOURS_PIN ou demandé)",
    )


def add_common(parser: argparse.ArgumentParser, *, user: bool = True) -> None:
    """The three options every action command takes."""
    add_store(parser)
    if user:
        add_user(parser)
    add_json(parser)


def nombre(text: str) -> float:
    """argparse type of every decimal option: « 60,5 » (virgule française) or « 60.5 »."""
    import math

    cleaned = text.strip().replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        value = math.nan
    if not cleaned or cleaned.count(".") > 1 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"nombre invalide : « {text} » (ex. 60,5 ou 60.5)")
    return value


nombre.__name__ = "nombre"


def heure(text: str) -> str:
    """argparse type of a time of day: « 08:30 », « 8h30 » -> "08:30" (00:00 to 23:59)."""
    from oncosecours.documents.context import parse_t0
    from oncosecours.domain.errors import OncoError

    try:
        return parse_t0(text)
    except OncoError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def open_store(args: argparse.Namespace, *, create: bool = False) -> sqlite3.Connection:
    """The store named by ``--store`` (else ``$ONCOSECOURS_STORE``, else the workbook's), opened
    once per command: a later call with the same ``args`` returns the same connection.

    A missing file is refused in French (a typo must not start an empty store, nor an empty
    store overwrite the second copy); only ``user init`` passes ``create=True``."""
    conn = getattr(args, "_store_conn", None)
    if conn is None:
        from oncosecours.store.db import connect

        conn = connect(getattr(args, "store", None), create=create)
        args._store_conn = conn
    return conn


def run_action(args: argparse.Namespace, service: Callable[..., T], *params, **options) -> T:
    """``service(conn, user, *params, **options)`` on the command's store, as the user of
    ``--user`` (PIN from $ONCOSECOURS_PIN or asked): what every action command does."""
    conn = open_store(args)
    return service(conn, actor(args, conn), *params, **options)


def run_query(args: argparse.Namespace, query: Callable[..., T], *params, **options) -> T:
    """``query(conn, *params, **options)`` on the command's store: a read, no user needed."""
    return query(open_store(args), *params, **options)


def read_pin(initials: str) -> str:
    pin = os.environ.get(PIN_ENV)
    if pin is None:
        pin = getpass.getpass(f"Code PIN de {initials} : ")
    return pin


def actor(args: argparse.Namespace, conn: sqlite3.Connection):
    from oncosecours.services.users import authenticate

    return authenticate(conn, args.user, read_pin(args.user))


def utf8_stdout() -> bool:
    """False when stdout cannot show every character (a cp1252 redirect on Windows): JSON is
    then written with \\u escapes, lossless for the script that reads it."""
    import sys

    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    return encoding in ("utf8", "utf8sig")


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print JSON with ``--json``, else the French text."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=not utf8_stdout(), indent=2, default=str))
    else:
        print(text)
