"""``oncosecours refresh``: reload the Chimio backups (the ribbon's « Actualiser »)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from oncosecours.commands._common import add_json, add_store, run_action, run_query

LABELS = (
    ("patients", "patients"),
    ("protocols", "protocoles"),
    ("protocol_lines", "lignes de protocole"),
    ("molecules", "molécules"),
    ("products", "produits"),
    ("history", "lignes d'historique"),
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "refresh",
        help="recharger les sauvegardes Chimio (actualiser l'instantané)",
        description=(
            "Lit les cinq sauvegardes Chimio du dossier avec les requêtes de queries/, les "
            "vérifie, puis remplace l'instantané de la base en une seule transaction. En cas "
            "de problème, rien n'est modifié et le message dit quel fichier, quelle ligne, "
            "quelle colonne et quelle étape. Plusieurs --backups forment un seul instantané "
            "(tables mises bout à bout, une même clé dans deux dossiers est refusée, date de la "
            "plus ancienne sauvegarde)."
        ),
    )
    parser.add_argument(
        "--backups",
        metavar="DOSSIER",
        action="append",
        help="dossier des sauvegardes Chimio (répéter l'option pour réunir plusieurs dossiers)",
    )
    add_store(parser)
    parser.add_argument(
        "--user",
        metavar="INITIALES",
        help="pharmacien ou administrateur qui actualise (PIN : $ONCOSECOURS_PIN ou demandé)",
    )
    add_json(parser)
    parser.add_argument(
        "--queries", metavar="DOSSIER", help="dossier des requêtes (défaut : queries/ livré)"
    )
    parser.add_argument(
        "--status",
        action="store_true",
        help="afficher seulement la date, l'âge et le contenu de l'instantané chargé",
    )
    parser.add_argument("--quiet", action="store_true", help="ne pas afficher la progression")
    parser.set_defaults(handler=_refresh)


def _progress(quiet: bool):
    if quiet:
        return None
    started = time.perf_counter()

    def show(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    return show


def _status(args: argparse.Namespace) -> int:
    from oncosecours.refresh.status import snapshot_status
    from oncosecours.settings import load_settings

    status = run_query(args, snapshot_status, load_settings())
    if args.json:
        print(json.dumps(status, ensure_ascii=False, indent=2))
        return 0
    print(status["message"])
    if status["loaded"]:
        for key, label in LABELS:
            print(f"  {label:<22} {status['counts'][key]:>10,}".replace(",", " "))
        if status["warnings"]:
            print(f"Avertissements du chargement : {len(status['warnings'])}")
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from oncosecours.domain.errors import OncoError

    if args.status:
        return _status(args)
    if not args.backups or not args.user:
        raise OncoError(
            "Indiquer le dossier des sauvegardes (--backups) et l'utilisateur (--user)",
            hint="ex. oncosecours refresh --backups D:\\sauvegardes --user PH1",
        )
    from oncosecours.services.refresh import refresh_snapshot
    from oncosecours.settings import load_settings

    settings = load_settings()
    result = run_action(
        args,
        refresh_snapshot,
        args.backups,  # one folder, or several made into one snapshot
        settings=settings,
        queries_dir=args.queries,
        progress=_progress(args.quiet),
    )
    several = len(result["dossiers"]) > 1
    if args.json:
        shape = {k: result[k] for k in ("tables", "backup_date", "warnings")}
        if several:  # one folder: exactly the agreed shape
            shape["dossiers"] = [{"dossier": d["dossier"], "tables": d["lignes"]}
                                 for d in result["dossiers"]]  # fmt: skip
        print(json.dumps(shape, ensure_ascii=False, indent=2))
        return 0
    day = result["backup_date"]
    print(
        f"Sauvegarde Chimio du {day[8:10]}/{day[5:7]}/{day[:4]} chargée "
        f"({result['backup_date_source']})."
    )
    for key, label in LABELS:
        print(f"  {label:<22} {result['tables'][key]:>10,}".replace(",", " "))
    if several:
        print("Dont, par dossier :")
        for folder in result["dossiers"]:
            counts = ", ".join(
                f"{folder['lignes'][key]:,} {label}".replace(",", " ") for key, label in LABELS
            )
            print(f"  {folder['dossier']} : {counts}")
    warnings = result["warnings"]
    if warnings:
        print(f"Avertissements ({len(warnings)}) :")
        for warning in warnings:
            print(f"  - {warning}")
    return 0
