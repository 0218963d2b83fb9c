"""Options and helpers shared by the sub-commands: ``--store``, ``--user``, ``--json``."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sqlite3
from typing import Any

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


def open_store(args: argparse.Namespace) -> sqlite3.Connection:
    from oncosecours.store.db import connect

    return connect(getattr(args, "store", None))


def read_pin(initials: str) -> str:
    pin = os.environ.get(PIN_ENV)
    if pin is None:
        pin = getpass.getpass(f"Code PIN de {initials} : ")
    return pin


def actor(args: argparse.Namespace, conn: sqlite3.Connection):
    from oncosecours.services.users import authenticate

    return authenticate(conn, args.user, read_pin(args.user))


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print JSON with ``--json``, else the French text."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)
