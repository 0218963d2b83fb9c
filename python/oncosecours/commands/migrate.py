"""``oncosecours migrate --to postgresql|sqlite``: move the register between the one-PC file
and the unit's server, verified on arrival (:mod:`oncosecours.ops.migrate`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from oncosecours.commands._common import add_json, add_store, add_user, emit


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="déplacer le registre : fichier SQLite -> serveur PostgreSQL, ou l'inverse",
        description="« --to postgresql » copie la base SQLite (--store) dans le registre VIDE du "
        "serveur nommé par [base] des paramètres ; « --to sqlite » écrit le registre du serveur "
        "dans un nouveau fichier (--vers). Le journal d'audit et les lignes du registre sont "
        "vérifiés à l'arrivée ; le déplacement est tracé.",
    )
    parser.add_argument("--to", dest="engine", choices=("postgresql", "sqlite"), required=True,
                        help="moteur de destination")  # fmt: skip
    add_store(parser)
    parser.add_argument("--vers", metavar="FICHIER",
                        help="avec --to sqlite : le nouveau fichier de base (jamais écrasé)")  # fmt: skip
    add_user(parser)
    add_json(parser)
    parser.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    from oncosecours.commands._common import read_pin
    from oncosecours.domain.errors import OncoError
    from oncosecours.ops import migrate
    from oncosecours.store.db import resolve
    from oncosecours.store.engines import POSTGRESQL, engine_of, postgres_target, settings_in_use

    settings = settings_in_use()
    pin = read_pin(args.user)
    if args.engine == "postgresql":
        target = postgres_target(settings)
        if not target.host:
            raise OncoError("Serveur non renseigné : écrire hote, port, nom_base, utilisateur et "
                            "la source du mot de passe dans [base] des paramètres",
                            field="base.hote")  # fmt: skip
        result = migrate.to_postgresql(resolve(args.store), target, args.user, pin)
        text = (f"Registre copié sur le serveur {result['vers']} : {result['evenements']} "
                f"événement(s) d'audit, {sum(result['lignes'].values())} ligne(s).\n"
                f"{result['verification']}\nÉcrire ensuite moteur = \"postgresql\" dans [base] "
                "des paramètres de chaque poste.")  # fmt: skip
    else:
        if engine_of(settings) != POSTGRESQL:
            raise OncoError('--to sqlite lit le registre du serveur : [base] moteur = '
                            '"postgresql" attendu dans les paramètres', field="base.moteur")  # fmt: skip
        if not args.vers:
            raise OncoError("Indiquer le nouveau fichier avec --vers", field="--vers")
        from oncosecours.store.db import connect

        conn = connect(args.store)
        try:
            result = migrate.to_sqlite(conn, Path(args.vers), args.user, pin)
        finally:
            conn.close()
        text = (f"Registre du serveur écrit dans {result['vers']} : {result['evenements']} "
                f"événement(s) d'audit.\n{result['verification']}\nPour travailler dessus : "
                'moteur = "sqlite" dans [base], puis --store ce fichier.')  # fmt: skip
    emit(args, result, text)
    return 0
