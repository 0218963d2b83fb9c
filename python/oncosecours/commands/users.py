"""``oncosecours user ...``: create the first administrator, then the team."""

from __future__ import annotations

import argparse
import sys

from oncosecours.commands._common import (
    add_common,
    emit,
    open_store,
    read_pin,
    run_action,
    run_query,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser("user", help="utilisateurs et rôles")
    sub = parser.add_subparsers(dest="user_command", metavar="ACTION")

    init = sub.add_parser("init", help="créer le premier administrateur d'une base vide")
    add_common(init, user=False)
    init.add_argument(
        "--initials", metavar="INITIALES", required=True, help="initiales de l'administrateur"
    )
    init.add_argument("--name", metavar="NOM", required=True, help="nom complet")
    init.set_defaults(handler=_init)

    add = sub.add_parser("add", help="créer un utilisateur (administrateur seulement)")
    add_common(add)
    add.add_argument(
        "--initials", metavar="INITIALES", required=True, help="initiales du nouvel utilisateur"
    )
    add.add_argument("--name", metavar="NOM", required=True, help="nom complet")
    add.add_argument(
        "--role",
        metavar="RÔLE",
        required=True,
        help="prescripteur, pharmacien, préparateur, infirmier ou administrateur",
    )
    add.add_argument(
        "--pin",
        metavar="PIN",
        help="code PIN du nouvel utilisateur (sinon demandé deux fois ; jamais $ONCOSECOURS_PIN)",
    )
    add.set_defaults(handler=_add)

    unlock = sub.add_parser(
        "unlock",
        help="déverrouiller un utilisateur bloqué après trop de codes PIN erronés "
        "(administrateur seulement)",
    )
    add_common(unlock)
    unlock.add_argument("initials", metavar="INITIALES", help="initiales de l'utilisateur bloqué")
    unlock.set_defaults(handler=_unlock)

    listing = sub.add_parser("list", help="lister les utilisateurs")
    add_common(listing, user=False)
    listing.set_defaults(handler=_list)


def _init(args: argparse.Namespace) -> int:
    from oncosecours.services.users import bootstrap_admin

    conn = open_store(args, create=True)
    admin = bootstrap_admin(conn, args.initials, args.name, read_pin(args.initials))
    emit(args, admin.__dict__, f"Administrateur {admin.initials} ({admin.name}) créé.")
    return 0


def _add(args: argparse.Namespace) -> int:
    from oncosecours.services.users import create_user

    def create(conn, admin):  # the administrator's PIN is checked before the new one is asked
        pin = args.pin or _new_user_pin(args.initials)
        return create_user(conn, admin, args.initials, args.name, args.role, pin)

    user = run_action(args, create)
    emit(args, user.__dict__, f"Utilisateur {user.initials} ({user.name}, {user.role}) créé.")
    return 0


def _unlock(args: argparse.Namespace) -> int:
    from oncosecours.services.users import unlock_user

    result = run_action(args, unlock_user, args.initials)
    emit(args, result, f"Utilisateur {result['initiales']} déverrouillé : il peut se reconnecter.")
    return 0


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _new_user_pin(initials: str) -> str:
    """The new user's own PIN: typed twice at the console, never $ONCOSECOURS_PIN (which holds
    the administrator's PIN: every new user would silently get it)."""
    import getpass

    from oncosecours.domain.errors import OncoError

    if not _interactive():
        raise OncoError(
            f"Code PIN du nouvel utilisateur {initials} manquant : le donner avec --pin, ou "
            "lancer la commande dans une console pour le saisir (deux fois). "
            "$ONCOSECOURS_PIN n'est pas utilisé : c'est le PIN de l'administrateur",
            field="PIN",
        )
    first = getpass.getpass(f"Code PIN du nouvel utilisateur {initials} : ")
    second = getpass.getpass(f"Code PIN de {initials}, à nouveau : ")
    if first != second:
        raise OncoError("Les deux saisies du code PIN diffèrent : rien n'est créé", field="PIN")
    return first


def _list(args: argparse.Namespace) -> int:
    from oncosecours.services.users import list_users

    rows = run_query(args, list_users)
    text = "\n".join(f"{r['initials']:<8} {r['role']:<15} {r['name']}" for r in rows) or (
        "Aucun utilisateur."
    )
    emit(args, rows, text)
    return 0
