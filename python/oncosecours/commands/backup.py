"""``oncosecours backup ...``: the second copy of the store, its snapshots, verify and restore;
``oncosecours bench replica``: what the live copy costs a click."""

from __future__ import annotations

import argparse
import sys

from oncosecours.commands._common import add_json, add_store, add_user, emit


def _add_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings",
        metavar="FICHIER",
        help="paramètres de l'établissement (défaut : $ONCOSECOURS_SETTINGS, sinon ceux livrés)",
    )


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "backup",
        help="copie de secours sur un second support : état, copie, vérification, restauration",
    )
    sub = parser.add_subparsers(dest="backup_command", metavar="ACTION")

    status = sub.add_parser("status", help="état de la copie de secours (code 1 si en échec)")
    add_store(status)
    _add_settings(status)
    add_json(status)
    status.set_defaults(handler=_status)

    now = sub.add_parser(
        "now", help="copier maintenant (rattrapage) et écrire l'instantané du jour s'il manque"
    )
    add_store(now)
    _add_settings(now)
    add_json(now)
    now.set_defaults(handler=_now)

    snap = sub.add_parser(
        "snapshot", help="écrire l'instantané du jour s'il manque (lancé aussi en arrière-plan)"
    )
    add_store(snap)
    _add_settings(snap)
    add_json(snap)
    snap.set_defaults(handler=_snapshot)

    verify = sub.add_parser(
        "verify",
        help="vérifier la base, la copie de secours et les instantanés (code 1 si un échec)",
    )
    add_store(verify)
    _add_settings(verify)
    add_json(verify)
    verify.set_defaults(handler=_verify)

    restore = sub.add_parser(
        "restore",
        help="reconstruire la base depuis la copie de secours ou un instantané, après vérification",
    )
    restore.add_argument(
        "--from",
        dest="source",
        metavar="FICHIER",
        required=True,
        help="copie de secours ou instantané à restaurer",
    )
    add_store(restore)
    add_user(restore)
    _add_settings(restore)
    restore.add_argument(
        "--force",
        action="store_true",
        help="remplacer aussi une base intacte (elle est toujours mise de côté)",
    )
    add_json(restore)
    restore.set_defaults(handler=_restore)


def register_bench(sub) -> None:
    """``oncosecours bench replica`` (in the ``bench`` group)."""
    from oncosecours.commands.bench import add_bench_options

    bench = sub.add_parser(
        "replica",
        help="coût de la copie de secours sur un clic, avec et sans copie, selon la taille de la base",
    )
    bench.add_argument(
        "--rows",
        metavar="N",
        default="small,100000,300000",
        help="tailles de base à mesurer : small ou large (sauvegarde synthétique chargée par "
        "l'actualisation) ou un nombre de lignes d'historique Chimio "
        "(défaut : small,100000,300000)",
    )
    bench.add_argument(
        "--clicks", metavar="N", type=int, default=30, help="clics mesurés par cas (défaut : 30)"
    )
    bench.add_argument(
        "--cli-clicks",
        metavar="N",
        type=int,
        default=7,
        help="commandes complètes mesurées par cas (défaut : 7)",
    )
    bench.add_argument("--dir", metavar="DOSSIER", help="dossier de travail (défaut : temporaire)")
    bench.add_argument(
        "--copy-dir",
        metavar="DOSSIER",
        help="second support à mesurer (ex. une clé USB ; défaut : le dossier de travail)",
    )
    add_bench_options(bench)
    bench.set_defaults(handler=_bench)


def _settings(args: argparse.Namespace):
    from oncosecours.settings import load_settings
    from oncosecours.store import replica

    settings = load_settings(getattr(args, "settings", None))
    replica.use_settings(settings)
    return settings


def _status(args: argparse.Namespace) -> int:
    from oncosecours.store.replica import replica_status

    status = replica_status(_settings(args), args.store)
    lines = [status["message"]]
    for extra in status["details"]:
        if extra not in status["message"]:
            lines.append(f"  - {extra}")
    emit(args, status, "\n".join(lines))
    return 1 if status["niveau"] == "alerte" else 0


def _now(args: argparse.Namespace) -> int:
    from oncosecours.domain.errors import OncoError
    from oncosecours.store import replica
    from oncosecours.store.db import connect, resolve

    settings = _settings(args)
    store = resolve(args.store)
    target = replica.target_for(settings, store)
    if target is None:
        raise OncoError(
            "Aucune copie de secours configurée",
            field="copie_secours.dossier",
            hint="Renseigner le dossier du second support dans les paramètres de l'établissement",
        )
    conn = connect(store, create=False)
    try:
        result = replica.replicate(conn, target, snapshot="maintenant")
    finally:
        conn.close()
    if result["ok"]:
        text = f"Copie de secours écrite : {result['copie']} ({result['duree_ms']:.0f} ms)."
        if result.get("instantane"):
            text += f"\nInstantané du jour : {result['instantane']}"
        for removed in result.get("instantanes_supprimes", []):
            text += f"\nInstantané ancien supprimé (rotation) : {removed}"
        if result.get("mise_de_cote"):
            text += (
                f"\nL'ancienne copie n'était pas un état de cette base : mise de côté sous "
                f"{result['mise_de_cote']}"
            )
        emit(args, result, text)
        return 0
    replica.take_pending_warning()  # said below, not again at exit
    emit(
        args,
        result,
        f"COPIE DE SECOURS IMPOSSIBLE : {result['message']}. La base principale n'est pas "
        "touchée ; réessayer quand le support est disponible.",
    )
    return 1


def _snapshot(args: argparse.Namespace) -> int:
    from oncosecours import clock
    from oncosecours.domain.errors import OncoError
    from oncosecours.store import replica
    from oncosecours.store.db import connect, resolve

    settings = _settings(args)
    store = resolve(args.store)
    target = replica.target_for(settings, store)
    if target is None:
        raise OncoError("Aucune copie de secours configurée", field="copie_secours.dossier")
    if not target.folder.is_dir():
        raise OncoError(
            f"Dossier de la copie de secours introuvable : {target.folder}",
            field="copie_secours.dossier",
        )
    conn = connect(store, create=False)
    try:
        written = replica.write_snapshot(conn, target, clock.today())
    finally:
        conn.close()
    if written.get("instantane"):
        text = f"Instantané du jour écrit : {written['instantane']}"
    elif written.get("instantane_en_cours"):
        text = "Instantané du jour en cours d'écriture par un autre programme."
    else:
        text = f"L'instantané du jour existe déjà : {target.snapshot_path(clock.today())}"
    emit(args, written, text)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from oncosecours.store.backup_check import verify_all

    result = verify_all(_settings(args), args.store)
    lines = [result["base"].line()]
    if result["copie"] is not None:
        lines.append(result["copie"].line())
    lines += [s.line() for s in result["instantanes"]]
    lines += result["remarques"]
    lines.append(
        "Vérification réussie." if result["ok"] else "VÉRIFICATION EN ÉCHEC : voir ci-dessus."
    )
    data = {
        "ok": result["ok"],
        "base": result["base"].as_dict(),
        "copie": result["copie"].as_dict() if result["copie"] else None,
        "instantanes": [s.as_dict() for s in result["instantanes"]],
        "remarques": result["remarques"],
    }
    emit(args, data, "\n".join(lines))
    return 0 if result["ok"] else 1


def _restore(args: argparse.Namespace) -> int:
    from oncosecours.commands._common import read_pin
    from oncosecours.domain.errors import OncoError
    from oncosecours.ops.restore import authorize, check_source, restore
    from oncosecours.store.db import resolve

    settings = _settings(args)
    check = check_source(args.source)
    if not check.ok:
        raise OncoError(
            "Restauration refusée : la source ne passe pas les vérifications ("
            + " ; ".join(check.problems)
            + ")",
            file=str(args.source),
            hint="Essayer la copie de secours ou un autre instantané (oncosecours backup verify)",
        )
    who = authorize(args.source, args.user, read_pin(args.user))
    result = restore(
        args.source, resolve(args.store), actor=who, force=args.force, settings=settings
    )
    lines = [
        f"Base restaurée depuis {result['source']} : {result['evenements_source']} événements d'audit "
        f"(dernier : {(result['dernier_evenement_source'] or '—')[:16].replace('T', ' ')}).",
        f"Base de travail : {result['base']}",
    ]
    if result["mise_de_cote"]:
        lines.append("Ancienne base mise de côté : " + ", ".join(result["mise_de_cote"]))
    previous = result["base_precedente"]
    if previous.get("existe") and not previous.get("intact"):
        lines.append("Elle était abîmée : " + " ; ".join(previous.get("problemes") or []))
    copied = result["copie_de_secours"]
    if copied is not None and copied["ok"]:
        lines.append(f"Copie de secours mise à jour : {copied['copie']}")
    elif copied is not None:
        lines.append("ATTENTION : copie de secours non mise à jour — " + copied["message"])
    lines.append("Vérifier avec « oncosecours backup verify » puis reprendre le travail.")
    emit(args, result, "\n".join(lines))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from oncosecours.domain.errors import OncoError
    from oncosecours.ops import bench_backup

    sizes: list[int | str] = []
    for item in (x.strip() for x in str(args.rows).split(",")):
        if item in ("small", "large"):
            sizes.append(item)
        elif item.isdigit():
            sizes.append(int(item))
        elif item:
            raise OncoError(
                f"Taille illisible : « {item} » (un nombre de lignes, small ou large)", field="rows"
            )
    if not sizes or args.clicks < 3:
        raise OncoError("Il faut au moins une taille et au moins 3 clics", field="rows")
    result = bench_backup.run(
        sizes,
        args.clicks,
        work_dir=args.dir,
        copy_dir=args.copy_dir,
        cli_clicks=max(1, args.cli_clicks),
        log=sys.stderr,
    )
    emit(args, result, bench_backup.text(result))
    return 0
