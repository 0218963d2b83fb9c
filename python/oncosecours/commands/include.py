"""``oncosecours include ...``: protocols of the snapshot, inclusion, postponing or cancelling a
cure, stopping an inclusion."""

from __future__ import annotations

import argparse
import json

from oncosecours.commands._common import add_common, emit, run_action, run_query


def register(subparsers) -> None:
    parser = subparsers.add_parser("include", help="inclusion d'un patient dans un protocole")
    sub = parser.add_subparsers(dest="include_command", metavar="ACTION")

    protocols = sub.add_parser("protocols", help="lister les protocoles de la sauvegarde")
    add_common(protocols, user=False)
    protocols.add_argument("--search", metavar="TEXTE", help="partie du nom du protocole")
    protocols.set_defaults(handler=_protocols)

    add = sub.add_parser("add", help="inclure un patient et planifier ses cures")
    add_common(add)
    add.add_argument(
        "--patient", metavar="PATIENT", required=True, help="patient : IPP ou #numéro de dossier"
    )
    add.add_argument(
        "--protocol", metavar="PROTOCOLE", required=True, help="numéro ou nom du protocole"
    )
    add.add_argument(
        "--start", metavar="DATE", required=True, help="J1 du premier cycle (AAAA-MM-JJ)"
    )
    add.add_argument(
        "--cycles",
        metavar="N",
        type=int,
        help="nombre total de cycles (défaut : celui du protocole)",
    )
    add.add_argument(
        "--first-cycle",
        metavar="N",
        type=int,
        default=1,
        help="premier cycle à planifier (poursuite d'un traitement commencé dans Chimio)",
    )
    add.set_defaults(handler=_add)

    postpone = sub.add_parser("postpone", help="reporter une cure (les suivantes suivent)")
    add_common(postpone)
    postpone.add_argument("--cure", metavar="N", type=int, required=True, help="numéro de la cure")
    postpone.add_argument("--date", metavar="DATE", required=True, help="nouveau J1 (AAAA-MM-JJ)")
    postpone.add_argument("--reason", metavar="MOTIF", required=True, help="motif du report")
    postpone.set_defaults(handler=_postpone)

    cancel = sub.add_parser(
        "cancel",
        help="annuler une cure (motif obligatoire) ; ses poches non dispensées sont annulées",
    )
    add_common(cancel)
    cancel.add_argument("--cure", metavar="N", type=int, required=True, help="numéro de la cure")
    cancel.add_argument("--reason", metavar="MOTIF", required=True, help="motif de l'annulation")
    cancel.set_defaults(handler=_cancel)

    stop = sub.add_parser(
        "stop", help="arrêter une inclusion : toutes les cures restantes sont annulées"
    )
    add_common(stop)
    stop.add_argument(
        "--inclusion", metavar="N", type=int, required=True, help="numéro de l'inclusion"
    )
    stop.add_argument("--reason", metavar="MOTIF", required=True, help="motif de l'arrêt")
    stop.set_defaults(handler=_stop)

    show = sub.add_parser("show", help="afficher une inclusion, ses lignes et ses cures")
    add_common(show, user=False)
    show.add_argument(
        "--inclusion", metavar="N", type=int, required=True, help="numéro de l'inclusion"
    )
    show.set_defaults(handler=_show)


def _protocols(args: argparse.Namespace) -> int:
    from oncosecours.services.queries import list_protocols

    rows = run_query(args, list_protocols, args.search)
    text = "\n".join(
        f"{r['protocol_id']:>6}  {r['name']}  (cycle {r['cycle_days']} j, "
        f"{r['default_cycles'] or '?'} cycles, max {r['max_cycles'] or '-'}, {r['lines']} lignes)"
        for r in rows
    )
    emit(args, rows, text or "Aucun protocole (charger la sauvegarde : oncosecours refresh).")
    return 0


def _detail_text(inc: dict) -> str:
    from oncosecours.domain.display import fr_dose
    from oncosecours.texts.circuit import CURE_FR

    out = [
        f"Inclusion n° {inc['id']} : {inc['protocol_name']}, cycle de {inc['cycle_days']} jours, "
        f"{inc['cycles']} cycles, début {inc['start_date']}."
    ]
    if inc.get("stop_reason"):
        out.append(f"  ARRÊTÉE le {inc['stopped_at'][:10]} : {inc['stop_reason']}")
    for line in inc["lines"]:
        days = ", ".join(f"J{d}" for d in json.loads(line["days_json"]))
        kind = {1: "anticancéreux", 2: "support", 3: "rinçage"}.get(line["line_type"], "?")
        out.append(
            f"  L{line['line_no']:<2} {line['molecule_name']} {fr_dose(line['dose'])} {line['unit']} "
            f"({kind}, {days})"
        )
    for cure in inc["cures"]:
        days = ", ".join(f"J{d['jour']} {d['date']}" for d in cure["days"])
        out.append(
            f"  cure n° {cure['id']:<5} cycle {cure['cycle']:<3} "
            f"{CURE_FR.get(cure['state'], cure['state']):<10} {days}"
            + (f"  (motif : {cure['cancel_reason']})" if cure.get("cancel_reason") else "")
        )
    return "\n".join(out)


def _add(args: argparse.Namespace) -> int:
    from oncosecours.services.inclusion import include_patient

    inc = run_action(
        args,
        include_patient,
        args.patient,
        args.protocol,
        args.start,
        cycles=args.cycles,
        first_cycle=args.first_cycle,
    )
    first = inc["cures"][0]["id"]
    text = (
        _detail_text(inc)
        + f"\nSuite : oncosecours prescribe preview --cure {first} --user INITIALES"
    )
    emit(args, inc, text)
    return 0


def _postpone(args: argparse.Namespace) -> int:
    from oncosecours.services.inclusion import postpone_cure

    result = run_action(args, postpone_cure, args.cure, args.date, args.reason)
    text = "\n".join(
        [f"Cure n° {args.cure} reportée ({result['reason']}) :"]
        + [
            f"  cure n° {m['cure']} cycle {m['cycle']} : {m['avant']} → {m['après']}"
            for m in result["moved"]
        ]
    )
    emit(args, result, text)
    return 0


def _cancel_text(result: dict) -> list[str]:
    out = [
        f"Cure n° {result['cure_id']} (cycle {result['cycle']}) de {result['patient']} "
        f"annulée : {result['reason']}."
    ]
    if result["cancelled_bags"]:
        numbers = ", ".join(b["number"] for b in result["cancelled_bags"])
        out.append(f"  Poches annulées (gardent leur numéro d'ordonnancier) : {numbers}.")
    for bag in result["released_bags_left"]:
        out.append(
            f"  ! Poche n° {bag['number']} libérée : à annuler par un pharmacien "
            f"(oncosecours prepare cancel --prep {bag['number']} --reason MOTIF)."
        )
    for bag in result["bags_to_return"]:
        out.append(
            f"  ! Poche n° {bag['number']} déjà dispensée : NE PAS ADMINISTRER, "
            "la faire revenir à la pharmacie."
        )
    if result["administered_lines"]:
        out.append(
            f"  {result['administered_lines']} ligne(s) déjà administrée(s) : elles restent "
            "enregistrées et comptent dans les contrôles (doses cumulées)."
        )
    return out


def _cancel(args: argparse.Namespace) -> int:
    from oncosecours.services.cancellation import cancel_cure

    result = run_action(args, cancel_cure, args.cure, args.reason)
    emit(args, result, "\n".join(_cancel_text(result)))
    return 0


def _stop(args: argparse.Namespace) -> int:
    from oncosecours.services.cancellation import stop_inclusion

    result = run_action(args, stop_inclusion, args.inclusion, args.reason)
    out = [
        f"Inclusion n° {result['inclusion_id']} ({result['protocol']}) arrêtée : "
        f"{result['reason']}."
    ]
    if not result["cancelled_cures"]:
        out.append("  Aucune cure restante à annuler.")
    for cure in result["cancelled_cures"]:
        out.extend("  " + line for line in _cancel_text(cure))
    for cure in result["kept_cures"]:
        out.append(
            f"  Cure n° {cure['cure_id']} (cycle {cure['cycle']}) entièrement administrée : "
            "conservée."
        )
    emit(args, result, "\n".join(out))
    return 0


def _show(args: argparse.Namespace) -> int:
    from oncosecours.services.inclusion import inclusion_detail

    inc = run_query(args, inclusion_detail, args.inclusion)
    emit(args, inc, _detail_text(inc))
    return 0
