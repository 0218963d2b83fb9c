"""``oncosecours batch ...``: dose-banded batches (bags prepared ahead for a dose band, then
assigned to a patient's line with their own ordonnancier number)."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import actor, add_common, emit, nombre, open_store
from oncosecours.commands.prepare import LOT_HELP, _lots_arg


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "batch", help="lots standardisés : poches préparées à l'avance pour une dose (bande)"
    )
    sub = parser.add_subparsers(dest="batch_command", metavar="ACTION")
    parser.set_defaults(handler=lambda _args: (parser.print_help(), 2)[1])

    make = sub.add_parser("make", help="préparer un lot de poches d'une même dose")
    add_common(make)
    make.add_argument("--molecule", metavar="N", type=int, required=True, help="n° de molécule")
    make.add_argument("--dose", metavar="DOSE", type=nombre, required=True, help="dose de la bande")
    make.add_argument("--unit", metavar="UNITE", default="mg", help="unité de la dose (défaut mg)")
    make.add_argument("--bags", metavar="N", type=int, required=True, help="nombre de poches")
    make.add_argument("--lot", metavar="LOT", action="append", required=True, help=LOT_HELP)
    make.add_argument("--diluent", metavar="DILUANT", help="diluant (défaut : le premier permis)")
    make.add_argument("--bag-volume", metavar="ML", type=nombre, help="volume de chaque poche")
    make.set_defaults(handler=_make)

    assign = sub.add_parser(
        "assign", help="attribuer une poche d'un lot à une ligne prescrite (n° d'ordonnancier)"
    )
    add_common(assign)
    assign.add_argument("--batch", metavar="N", type=int, required=True, help="n° du lot")
    assign.add_argument("--line", metavar="N", type=int, required=True, help="ligne prescrite")
    assign.set_defaults(handler=_assign)

    listing = sub.add_parser("list", help="lots standardisés et poches disponibles")
    add_common(listing, user=False)
    listing.set_defaults(handler=_list)


def _make(args: argparse.Namespace) -> int:
    from oncosecours.services.banded import make_batch

    conn = open_store(args)
    batch = make_batch(
        conn,
        actor(args, conn),
        args.molecule,
        args.dose,
        args.unit,
        args.bags,
        lots=_lots_arg(args.lot),
        diluent=args.diluent,
        bag_volume_ml=args.bag_volume,
    )
    emit(args, batch, _batch_text(batch))
    return 0


def _assign(args: argparse.Namespace) -> int:
    from oncosecours.commands.prepare import sheet_text
    from oncosecours.services.banded import assign_bag

    conn = open_store(args)
    sheet = assign_bag(conn, actor(args, conn), args.batch, args.line)
    emit(args, sheet, sheet_text(sheet))
    return 0


def _list(args: argparse.Namespace) -> int:
    from oncosecours.store.stock import batches

    rows = batches(open_store(args))
    emit(args, rows, "\n".join(_batch_text(row) for row in rows) or "Aucun lot standardisé.")
    return 0


def _batch_text(batch: dict) -> str:
    from oncosecours.domain.findings import fr_num

    free = batch.get("bags_available")
    if free is None:
        free = sum(1 for bag in batch.get("bags", []) if bag["state"] == "available")
    return (
        f"Lot standardisé n° {batch['id']} : {batch['molecule_name']} "
        f"{fr_num(batch['band_dose'], 3)} {batch['unit']}, {batch['bag_count']} poches "
        f"({free} disponibles), {batch['diluent'] or 'sans diluant'} "
        f"{fr_num(batch['diluent_volume_ml'] or 0)} mL, poids cible "
        f"{fr_num(batch['target_weight_g'], 1)} g, à utiliser avant le {batch['use_by'][:16]}"
    )
