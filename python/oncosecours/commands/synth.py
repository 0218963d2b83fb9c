"""``oncosecours synth``: write a synthetic Chimio backup (demo, tests, benchmarks)."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="écrire une sauvegarde Chimio synthétique (démonstration, essais, mesures)",
        description=(
            "Écrit dans un dossier vide les cinq sauvegardes au format de Chimio (mêmes "
            "fichiers, colonnes, séparateurs et virgules décimales), avec des identités "
            "françaises fictives. Même graine et même date : mêmes fichiers, octet pour octet. "
            "Ses clés sont loin de celles d'une vraie sauvegarde Chimio (molécules à partir de "
            "9001, protocoles de 900001, produits et lignes de 9000001, historique de "
            "900000001, patients 99xxxxxxxx) : elle peut être rechargée avec une vraie "
            "(oncosecours refresh --backups SYNTHÈSE --backups CHIMIO)."
        ),
    )
    parser.add_argument("--out", metavar="DOSSIER", required=True, help="dossier à créer (vide)")
    parser.add_argument("--scale", choices=("small", "large"), default="small",
                        help="small : quelques centaines de patients ; large : une grande unité "
                        "(50 000 patients, 1 000 000 lignes d'historique)")  # fmt: skip
    parser.add_argument("--seed", metavar="GRAINE", type=int, default=0, help="graine (défaut : 0)")
    parser.add_argument(
        "--date",
        metavar="AAAA-MM-JJ",
        help="date de la sauvegarde simulée (défaut : aujourd'hui)",
    )
    parser.add_argument("--json", action="store_true", help="sortie JSON")
    parser.set_defaults(handler=_synth)


def _synth(args: argparse.Namespace) -> int:
    from datetime import date

    from oncosecours.domain.errors import OncoError
    from oncosecours.refresh.synth import generate

    day = None
    if args.date:
        try:
            day = date.fromisoformat(args.date)
        except ValueError:
            raise OncoError(f"Date invalide : « {args.date} » (attendu AAAA-MM-JJ)",
                            field="date") from None  # fmt: skip

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    counts = generate(args.out, args.scale, args.seed, day, progress=None if args.json else say)
    if args.json:
        print(json.dumps({"dossier": args.out, "lignes": counts}, ensure_ascii=False))
    else:
        print(
            f"Sauvegarde synthétique écrite dans {args.out} : {counts['patients']} patients, "
            f"{counts['protocols']} protocoles ({counts['protocol_lines']} lignes), "
            f"{counts['molecules']} molécules, {counts['products']} produits, "
            f"{counts['history']} lignes d'historique."
        )
    return 0
