"""``oncosecours goahead ...``: the prescriber's go-ahead (feu vert, « OK chimio ») for the day."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, run_action, run_query


def register(subparsers) -> None:
    parser = subparsers.add_parser("goahead", help="feu vert du prescripteur (« OK chimio »)")
    sub = parser.add_subparsers(dest="goahead_command", metavar="ACTION")

    give = sub.add_parser("give", help="donner le feu vert d'une cure validée, le jour même")
    add_common(give)
    give.add_argument("--cure", metavar="N", type=int, required=True, help="numéro de la cure")
    give.add_argument(
        "--date", metavar="AAAA-MM-JJ", help="jour de la cure concerné (défaut : aujourd'hui)"
    )
    give.set_defaults(handler=_give)

    withhold = sub.add_parser("withhold", help="refuser le feu vert (motif obligatoire)")
    add_common(withhold)
    withhold.add_argument("--cure", metavar="N", type=int, required=True, help="numéro de la cure")
    withhold.add_argument(
        "--reason", metavar="MOTIF", required=True, help="motif (ex. neutropénie grade 3)"
    )
    withhold.add_argument(
        "--date", metavar="AAAA-MM-JJ", help="jour de la cure concerné (défaut : aujourd'hui)"
    )
    withhold.set_defaults(handler=_withhold)

    withdraw = sub.add_parser(
        "withdraw",
        help="retirer un feu vert donné (motif obligatoire), tant qu'aucune poche du jour n'existe",
    )
    add_common(withdraw)
    withdraw.add_argument("--cure", metavar="N", type=int, required=True, help="numéro de la cure")
    withdraw.add_argument(
        "--reason", metavar="MOTIF", required=True, help="motif (ex. fièvre à l'arrivée)"
    )
    withdraw.add_argument(
        "--date", metavar="AAAA-MM-JJ", help="jour de la cure concerné (défaut : aujourd'hui)"
    )
    withdraw.set_defaults(handler=_withdraw)

    waiting = sub.add_parser("list", help="cures validées du jour en attente de feu vert")
    add_common(waiting, user=False)
    waiting.add_argument("--date", metavar="AAAA-MM-JJ", help="jour (défaut : aujourd'hui)")
    waiting.set_defaults(handler=_list)


def _text(result: dict) -> str:
    if result.get("withdraws_id"):
        return (
            f"Feu vert retiré pour la cure n° {result['cure_id']} du {result['date']} : "
            f"{result['reason']}. Il pourra être redonné (oncosecours goahead give)."
        )
    if result["decision"] == "given":
        return f"Feu vert donné pour la cure n° {result['cure_id']} du {result['date']}."
    return (
        f"Feu vert refusé pour la cure n° {result['cure_id']} du {result['date']} : "
        f"{result['reason']}."
    )


def _give(args: argparse.Namespace) -> int:
    from oncosecours.services.go_ahead import give_go_ahead

    result = run_action(args, give_go_ahead, args.cure, args.date)
    emit(args, result, _text(result))
    return 0


def _withhold(args: argparse.Namespace) -> int:
    from oncosecours.services.go_ahead import withhold_go_ahead

    result = run_action(args, withhold_go_ahead, args.cure, args.reason, args.date)
    emit(args, result, _text(result))
    return 0


def _withdraw(args: argparse.Namespace) -> int:
    from oncosecours.services.go_ahead import withdraw_go_ahead

    result = run_action(args, withdraw_go_ahead, args.cure, args.reason, args.date)
    emit(args, result, _text(result))
    return 0


def _list(args: argparse.Namespace) -> int:
    from datetime import date

    from oncosecours.services.go_ahead import waiting_cures

    rows = run_query(args, waiting_cures, args.date or date.today())
    lines = [
        f"cure {r['cure_id']:>5}  cycle {r['cycle']:>2}  {r['patient']}"
        + (
            f"  (feu vert {'retiré' if r.get('withdrawn') else 'refusé'} : {r['reason']})"
            if r["state"] == "withheld"
            else ""
        )
        for r in rows
    ]
    emit(args, rows, "\n".join(lines) or "Aucune cure en attente de feu vert.")
    return 0
