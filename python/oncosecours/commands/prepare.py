"""``oncosecours prepare ...``: prepare a line (ordonnancier number), lots, cancel, preview, show."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import (
    add_common,
    emit,
    nombre,
    run_action,
    run_query,
)

LOT_HELP = (
    "lot utilisé, répétable : nature:produit:lot:péremption[:quantité] "
    "(ex. flacon:OXALIPLATINE 100 mg/20 mL:AB123:06/2027 ou diluant:Glucose 5 %%:G77:2027-01-31). "
    "Un seul lot sans quantité pour un produit vaut pour tous les flacons ouverts de ce produit ; "
    "plusieurs lots d'un même produit : une quantité pour chacun, dont la somme fait les flacons "
    "ouverts (règle LOT_QUANTITE ; ex. flacon:OXALIPLATINE 100 mg/20 mL:AB123:06/2027:2)"
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "prepare", help="préparation d'une ligne : numéro d'ordonnancier, fiche, lots"
    )
    sub = parser.add_subparsers(dest="prepare_command", metavar="ACTION")

    make = sub.add_parser("make", help="préparer une ligne (attribue le numéro d'ordonnancier)")
    add_common(make)
    make.add_argument(
        "--line", metavar="N", type=int, required=True, help="numéro de la ligne prescrite"
    )
    make.add_argument("--lot", metavar="LOT", action="append", default=[], help=LOT_HELP)
    make.add_argument("--diluent", metavar="DILUANT", help="diluant (défaut : celui de la ligne)")
    make.add_argument("--bag-volume", metavar="ML", type=nombre, help="volume de la poche en mL")
    make.add_argument(
        "--container", metavar="CONTENANT", help="contenant (défaut : celui de la ligne)"
    )
    make.add_argument(
        "--stability-h", metavar="HEURES", type=nombre, help="stabilité après dilution (heures)"
    )
    make.add_argument(
        "--justification", metavar="TEXTE", help="source de la stabilité saisie (obligatoire avec)"
    )
    make.set_defaults(handler=_make)

    lots = sub.add_parser("lots", help="saisir les lots d'une préparation (avant contrôle)")
    add_common(lots)
    lots.add_argument(
        "--prep", metavar="NUMERO", required=True, help="numéro d'ordonnancier (ou #id)"
    )
    lots.add_argument("--lot", metavar="LOT", action="append", required=True, help=LOT_HELP)
    lots.set_defaults(handler=_lots)

    cancel = sub.add_parser("cancel", help="annuler une préparation (elle garde son numéro)")
    add_common(cancel)
    cancel.add_argument(
        "--prep", metavar="NUMERO", required=True, help="numéro d'ordonnancier (ou #id)"
    )
    cancel.add_argument("--reason", metavar="MOTIF", required=True, help="motif de l'annulation")
    cancel.set_defaults(handler=_cancel)

    preview = sub.add_parser("preview", help="calculer la préparation d'une ligne sans l'écrire")
    add_common(preview, user=False)
    preview.add_argument(
        "--line", metavar="N", type=int, required=True, help="numéro de la ligne prescrite"
    )
    preview.set_defaults(handler=_preview)

    show = sub.add_parser("show", help="afficher la fiche d'une préparation")
    add_common(show, user=False)
    show.add_argument(
        "--prep", metavar="NUMERO", required=True, help="numéro d'ordonnancier (ou #id)"
    )
    show.set_defaults(handler=_show)


def _lots_arg(values: list[str]) -> list:
    from oncosecours.domain.production import parse_lot_text

    return [parse_lot_text(text, i) for i, text in enumerate(values)]


def sheet_text(sheet: dict) -> str:
    """The fiche de fabrication as plain text."""
    from datetime import datetime

    from oncosecours.domain.display import fr_dose
    from oncosecours.domain.findings import fr_num
    from oncosecours.domain.production import fr_datetime

    use_by = fr_datetime(datetime.fromisoformat(sheet["use_by"]))
    out = [
        f"Préparation n° {sheet['ord_number']} — {sheet['state_fr']}",
        f"Patient : {sheet['patient_name']}, né(e) le {sheet['patient_birth_date']}, "
        f"IPP {sheet['patient_ipp'] or '—'}, {sheet['patient_ward'] or ''}",
        f"Protocole : {sheet['protocol_name']}, cycle {sheet['cycle']} J{sheet['day']} "
        f"({sheet['admin_date']}), prescripteur {sheet['prescriber_name']}",
        f"Médicament : {sheet['molecule_name']} {fr_dose(sheet['dose'])} {sheet['unit']} "
        f"({sheet['route'] or ''})",
    ]
    for p in sheet["products"]:
        out.append(
            f"  flacon : {p['count']} × {p['name']}, prélever {fr_num(p['volume_to_draw_ml'], 2)} mL"
        )
    out += [
        f"Diluant : {sheet['diluent'] or 'aucun'} {fr_num(sheet['diluent_volume_ml'] or 0)} mL, "
        f"contenant : {sheet['container'] or '—'}",
        f"Volume final : {fr_num(sheet['final_volume_ml'], 1)} mL, concentration "
        f"{fr_num(sheet['final_conc_mg_ml'], 3)} mg/mL",
        f"Protéger de la lumière : {'OUI' if sheet['light_protect'] else 'non'} ; filtre : "
        + (f"{fr_num(sheet['filter_um'])} µm" if sheet["filter_um"] else "aucun")
        + f" ; conservation : {sheet['storage'] or '—'}",
        f"À utiliser avant le {use_by} ({sheet['use_by_reason']})",
        f"Poids cible (net) : {fr_num(sheet['target_weight_g'], 1)} g, accepté de "
        f"{fr_num(sheet['weight_min_g'], 1)} à {fr_num(sheet['weight_max_g'], 1)} g "
        f"(± {fr_num(sheet['tolerance_pct'])} %)",
        f"Préparée par {sheet['prepared_by_initials']} le "
        f"{fr_datetime(datetime.fromisoformat(sheet['prepared_at']))}",
    ]
    if sheet["lots"]:
        for lot in sheet["lots"]:
            out.append(
                f"  lot {lot['kind']} {lot['component']} : {lot['lot']} "
                f"(péremption {lot['expiry']}, × {lot['quantity']})"
            )
    else:
        out.append("Lots : À SAISIR avant le contrôle")
    for finding in sheet["findings"]:
        out.append(f"  ! {finding['message']}")
    return "\n".join(out)


def _make(args: argparse.Namespace) -> int:
    from oncosecours.services.preparation import prepare

    sheet = run_action(
        args,
        prepare,
        args.line,
        lots=_lots_arg(args.lot),
        diluent=args.diluent,
        bag_volume_ml=args.bag_volume,
        container=args.container,
        stability_h=args.stability_h,
        stability_justification=args.justification,
    )
    emit(args, sheet, sheet_text(sheet))
    return 0


def _lots(args: argparse.Namespace) -> int:
    from oncosecours.services.preparation import record_lots

    sheet = run_action(args, record_lots, args.prep, _lots_arg(args.lot))
    emit(args, sheet, sheet_text(sheet))
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from oncosecours.services.preparation import cancel_preparation

    sheet = run_action(args, cancel_preparation, args.prep, args.reason)
    emit(
        args,
        sheet,
        f"Préparation n° {sheet['ord_number']} annulée (le numéro reste à l'ordonnancier).",
    )
    return 0


def _preview(args: argparse.Namespace) -> int:
    from oncosecours.services.preparation_plan import preview

    result = run_query(args, preview, args.line)
    plan = result["plan"]
    from oncosecours.domain.findings import fr_num

    lines = [f"Ligne {args.line} : {result['patient']}"]
    for p in result["products"]:
        lines.append(
            f"  {p['count']} × {p['name']}, prélever {fr_num(p['volume_to_draw_ml'], 2)} mL"
        )
    lines.append(
        f"  {result['diluent']} {fr_num(plan['bag_volume_ml'] or 0)} mL, volume final "
        f"{fr_num(plan['final_volume_ml'], 1)} mL, {fr_num(plan['final_concentration_mg_ml'], 3)} mg/mL"
    )
    lines += [f"  ! {f['message']}" for f in plan["findings"]]
    lines += [f"  note : {n}" for n in result["notes"]]
    emit(args, result, "\n".join(lines))
    return 0


def _show(args: argparse.Namespace) -> int:
    from oncosecours.services.preparation_queries import preparation_sheet

    sheet = run_query(args, preparation_sheet, args.prep)
    emit(args, sheet, sheet_text(sheet))
    return 0
