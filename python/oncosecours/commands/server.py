"""``oncosecours server init/start/stop/status``: the unit's PostgreSQL server on its own PC.

psycopg and the server modules are imported only when one of these commands runs."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_json, emit

FOLDER_HELP = "dossier du serveur sur ce PC (données, journal, mots de passe)"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "server",
        help="serveur PostgreSQL de l'unité (plusieurs postes) : préparer, démarrer, arrêter, état",
    )
    sub = parser.add_subparsers(dest="server_command", metavar="ACTION")

    init = sub.add_parser(
        "init", help="préparer le serveur dans un dossier (rôle, base, mots de passe)"
    )
    init.add_argument("--dossier", metavar="DOSSIER", required=True, help=FOLDER_HELP)
    init.add_argument(
        "--adresse",
        metavar="IP",
        required=True,
        help="adresse de ce PC sur le réseau isolé de l'unité (ex. 10.0.0.5 ; 127.0.0.1 pour "
        "un essai sur un seul PC)",
    )
    init.add_argument(
        "--port", metavar="PORT", type=int, default=5432, help="port d'écoute (défaut : 5432)"
    )
    init.add_argument(
        "--reseau",
        metavar="CIDR",
        help="réseau des postes autorisés (défaut : le /24 de l'adresse, ex. 10.0.0.0/24)",
    )
    init.add_argument(
        "--bin",
        metavar="DOSSIER",
        help="dossier des programmes PostgreSQL (défaut : le kit, $ONCOSECOURS_PG_BIN, le PATH, "
        "puis le système)",
    )
    init.add_argument(
        "--utilisateur-systeme",
        metavar="COMPTE",
        default="postgres",
        help="compte système qui fait tourner PostgreSQL quand la commande est lancée en root "
        "(défaut : postgres)",
    )
    init.set_defaults(handler=_init)

    for name, text, handler in (
        ("start", "démarrer le serveur", _start),
        ("stop", "arrêter le serveur (le travail enregistré est conservé)", _stop),
    ):
        action = sub.add_parser(name, help=text)
        action.add_argument("--dossier", metavar="DOSSIER", required=True, help=FOLDER_HELP)
        action.set_defaults(handler=handler)

    status = sub.add_parser(
        "status",
        help="le serveur répond-il ? (code 1 sinon) ; sans --dossier : celui des paramètres [base]",
    )
    status.add_argument("--dossier", metavar="DOSSIER", help=FOLDER_HELP)
    status.add_argument(
        "--settings",
        metavar="FICHIER",
        help="paramètres du poste (défaut : $ONCOSECOURS_SETTINGS, sinon ceux livrés)",
    )
    add_json(status)
    status.set_defaults(handler=_status)


def _init(args: argparse.Namespace) -> int:
    from oncosecours.server.cluster import init
    from oncosecours.server.probe import workstation_instructions

    config = init(
        args.dossier,
        args.adresse,
        port=args.port,
        network=args.reseau,
        bin_folder=args.bin,
        system_user=args.utilisateur_systeme,
    )
    runs_as = f", exécuté par le compte {config.system_user}" if config.system_user else ""
    print(
        f"Serveur PostgreSQL {config.version} préparé dans {config.folder} (écoute "
        f"{config.address}:{config.port}{runs_as}) ; base « {config.database} », utilisateur "
        f"« {config.user} ».\nMot de passe de l'administrateur : {config.admin_password_file} "
        "(reste sur ce PC).\nDémarrer : oncosecours server start --dossier "
        f"{config.folder}\n\n{workstation_instructions(config)}"
    )
    return 0


def _start(args: argparse.Namespace) -> int:
    from oncosecours.server.cluster import ServerConfig, start

    config = ServerConfig.load(args.dossier)
    started = start(config)
    state = "démarré" if started else "déjà démarré"
    print(f"Serveur {state} : {config.address}:{config.port} (journal : {config.log})")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from oncosecours.server.cluster import ServerConfig, stop

    config = ServerConfig.load(args.dossier)
    stopped = stop(config)
    print("Serveur arrêté." if stopped else "Serveur déjà arrêté.")
    return 0


def _status(args: argparse.Namespace) -> int:
    if args.dossier:
        return _folder_status(args)
    from oncosecours.settings import load_settings
    from oncosecours.store.engines import POSTGRESQL, engine_of

    settings = load_settings(args.settings)
    if engine_of(settings) != POSTGRESQL:
        emit(
            args,
            {"moteur": engine_of(settings), "serveur": None},
            'Mode SQLite ([base] moteur = "sqlite") : un seul poste, pas de serveur. '
            "Pour le serveur de ce PC : oncosecours server status --dossier DOSSIER",
        )
        return 0
    from oncosecours.server.probe import answer_of_settings

    found = answer_of_settings(settings)
    emit(args, {"moteur": POSTGRESQL, **found.as_dict()}, f"Mode PostgreSQL — {found.line()}")
    return 0 if found.ok else 1


def _folder_status(args: argparse.Namespace) -> int:
    from oncosecours.server.cluster import ServerConfig, is_running
    from oncosecours.server.probe import answer_of, base_block

    config = ServerConfig.load(args.dossier)
    running = is_running(config)
    found = answer_of(config)
    text = "\n".join(
        [
            f"Serveur PostgreSQL d'OncoSecours — dossier {config.folder}",
            f"  programmes : {config.bin} (PostgreSQL {config.version})",
            f"  processus : {'démarré' if running else 'arrêté'}",
            f"  {found.line()}",
            "",
            "À mettre dans les paramètres de chaque poste :",
            base_block(config),
        ]
    )
    data = {
        "dossier": str(config.folder),
        "demarre": running,
        **found.as_dict(),
        "base": base_block(config),
    }
    emit(args, data, text)
    return 0 if found.ok else 1


def register_bench(sub) -> None:
    from oncosecours.commands.bench import add_bench_options

    parser = sub.add_parser(
        "workstations",
        help="plusieurs postes à la fois (SQLite / PostgreSQL) et actualisation (COPY)",
    )
    add_bench_options(parser)
    parser.add_argument("--postes", metavar="N,N", default="1,4,8",
                        help="nombres de postes simultanés (défaut : 1,4,8)")  # fmt: skip
    parser.add_argument("--patients", metavar="N", type=int, default=6,
                        help="patients par poste, circuit complet (défaut : 6)")  # fmt: skip
    parser.add_argument("--scale", choices=("small", "large"), default="large",
                        help="sauvegarde synthétique de l'actualisation (défaut : large)")  # fmt: skip
    parser.set_defaults(handler=_bench_workstations)


def _bench_workstations(args: argparse.Namespace) -> int:
    import json
    import sys

    from oncosecours.domain.errors import OncoError
    from oncosecours.ops.bench_workstations import report, run

    try:
        counts = tuple(int(n) for n in args.postes.split(","))
    except ValueError:
        raise OncoError(f"--postes : nombres séparés par des virgules, pas « {args.postes} »",
                        field="--postes") from None  # fmt: skip
    numbers = run(counts, args.patients, args.scale,
                  progress=lambda m: print(m, file=sys.stderr, flush=True))  # fmt: skip
    print(json.dumps(numbers, ensure_ascii=False, indent=2) if args.json else report(numbers))
    return 0
