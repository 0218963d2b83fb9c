"""``oncosecours stock ...``: leftovers (reliquats) and vials on the shelf, the day's needs and
shortages, discarding a leftover, the vial inventory; ``oncosecours bench leftovers``."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import actor, add_common, emit, open_store
from oncosecours.commands.bench import add_bench_options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stock", help="stock : reliquats de flacons, flacons, besoins du jour et ruptures"
    )
    sub = parser.add_subparsers(dest="stock_command", metavar="ACTION")
    parser.set_defaults(handler=lambda _args: (parser.print_help(), 2)[1])

    show = sub.add_parser(
        "show", help="reliquats et flacons en stock, besoins du jour et alertes de rupture"
    )
    add_common(show, user=False)
    show.add_argument(
        "--date", metavar="AAAA-MM-JJ", help="jour des besoins (défaut : aujourd'hui)"
    )
    show.set_defaults(handler=_show)

    discard = sub.add_parser("discard", help="jeter un reliquat (motif obligatoire, tracé)")
    add_common(discard)
    discard.add_argument("--reliquat", metavar="R12", required=True, help="numéro du reliquat")
    discard.add_argument("--reason", metavar="MOTIF", required=True, help="motif du rejet")
    discard.set_defaults(handler=_discard)

    count = sub.add_parser("count", help="inventaire : nombre de flacons d'un produit en stock")
    add_common(count)
    count.add_argument("--product", metavar="PRODUIT", required=True, help="code ou nom du produit")
    count.add_argument("--vials", metavar="N", type=int, required=True, help="flacons en stock")
    count.set_defaults(handler=_count)


def _show(args: argparse.Namespace) -> int:
    from oncosecours.services.stock import leftover_text, stock_view

    view = stock_view(open_store(args), args.date)
    lines = [f"Stock du {view['date']}", "", "Reliquats utilisables :"]
    lines += [f"  {leftover_text(item)}" for item in view["reliquats"]] or ["  aucun"]
    if view["reliquats_perimes"]:
        lines += ["", "Reliquats PÉRIMÉS à jeter (oncosecours stock discard) :"]
        lines += [f"  {leftover_text(item)}" for item in view["reliquats_perimes"]]
    lines += ["", "Flacons inventoriés :"]
    lines += [
        f"  {v['produit']} : {v['flacons']} flacon(s)"
        + (" — ÉCART D'INVENTAIRE (stock négatif)" if v["ecart"] else "")
        for v in view["flacons"]
    ] or ["  aucun inventaire (oncosecours stock count)"]
    lines += ["", "Besoins des préparations prévues :"]
    for need in view["besoins"]:
        lines.append(
            f"  {need['molecule']} : {_fr(need['besoin'])} {need['unite']} pour "
            f"{len(need['patients'])} patient(s)"
        )
        if need["alerte"]:
            lines.append(f"    {need['alerte']}")
    if not view["besoins"]:
        lines.append("  aucune préparation restant à faire")
    emit(args, view, "\n".join(lines))
    return 0


def _fr(value: float) -> str:
    from oncosecours.domain.findings import fr_num

    return fr_num(value, 3)


def _discard(args: argparse.Namespace) -> int:
    from oncosecours.services.stock import discard_leftover, leftover_text

    conn = open_store(args)
    item = discard_leftover(conn, actor(args, conn), args.reliquat, args.reason)
    emit(args, item, "Reliquat jeté : " + leftover_text(item))
    return 0


def _count(args: argparse.Namespace) -> int:
    from oncosecours.services.stock import count_vials

    conn = open_store(args)
    result = count_vials(conn, actor(args, conn), args.product, args.vials)
    emit(args, result, f"Inventaire : {result['produit']} : {result['flacons']} flacon(s)")
    return 0


def register_bench(sub) -> None:
    parser = sub.add_parser(
        "leftovers",
        help="perte de médicament sur une semaine simulée, avec et sans reliquats en stock",
    )
    add_bench_options(parser)
    parser.add_argument("--seed", metavar="GRAINE", type=int, default=1, help="graine")
    parser.add_argument(
        "--patients", metavar="N", type=int, default=12, help="patients par jour et par molécule"
    )
    parser.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    import json

    from oncosecours.ops.bench_leftovers import week_report

    report = week_report(seed=args.seed, per_day=args.patients)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(
        f"Semaine simulée : 5 jours, {args.patients} patients par jour et par molécule "
        f"(graine {args.seed}). Flacons ouverts / quantité ouverte / perte :"
    )
    for row in report["molecules"]:
        cells = [
            f"{label} {row[key]['flacons_ouverts']} fl. / {_fr(row[key]['quantite_ouverte'])} mg "
            f"/ perte {_fr(row[key]['perte'])} mg"
            for label, key in (
                ("sans reliquats", "sans"),
                ("reliquats", "avec"),
                ("reliquats + moins de flacons", "avec_moins_de_flacons"),
            )
        ]
        print(
            f"  {row['molecule']} (reliquat {_fr(row['stabilite_reliquat_h'])} h) : "
            + " ; ".join(cells)
        )
    print(
        f"Total : {report['flacons_sans']} flacons sans reliquats ; avec reliquats "
        f"{report['flacons_avec']} ({report['flacons_economises']} économisés), "
        f"{report['flacons_avec_moins']} en préférant les grands flacons "
        f"({report['flacons_economises_moins']} économisés) ; quantité ouverte "
        f"{_fr(report['quantite_sans'])} → {_fr(report['quantite_avec'])} mg"
    )
    return 0
