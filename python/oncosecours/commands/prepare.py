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
    _stock_options(make)
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
    _stock_options(preview, tare=False)
    preview.set_defaults(handler=_preview)

    show = sub.add_parser("show", help="afficher la fiche d'une préparation")
    add_common(show, user=False)
    show.add_argument(
        "--prep", metavar="NUMERO", required=True, help="numéro d'ordonnancier (ou #id)"
    )
    show.set_defaults(handler=_show)


def _stock_options(parser: argparse.ArgumentParser, *, tare: bool = True) -> None:
    parser.add_argument(
        "--product",
        metavar="PRODUIT",
        help="substitution : préparer avec cette présentation (code ou nom) de la même molécule",
    )
    parser.add_argument(
        "--leftover",
        metavar="R12",
        action="append",
        default=[],
        help="reliquat du stock à utiliser (répétable) ; par défaut ils sont proposés "
        "(moins de perte, puis date limite la plus proche)",
    )
    parser.add_argument(
        "--no-leftovers", action="store_true", help="n'utiliser aucun reliquat du stock"
    )
    if tare:
        parser.add_argument(
            "--tare",
            metavar="G",
            type=nombre,
            help="tare pesée du contenant vide (g) : le poids cible devient brut",
        )


def _stock_kwargs(args: argparse.Namespace) -> dict:
    return {
        "product": args.product,
        "leftovers": args.leftover or None,
        "use_leftovers": not args.no_leftovers,
    }


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
    plan = sheet.get("plan") or {}
    amount_unit = plan.get("unit") or "mg"
    for p in sheet["products"]:
        out.append(
            f"  flacon : {p['count']} × {p['name']}, prélever {fr_num(p['volume_to_draw_ml'], 2)} mL"
        )
    for used in plan.get("leftover_used") or []:
        out.append(
            f"  reliquat {used['label']} : {used['product']} lot {used.get('lot') or '—'}, "
            f"{fr_num(used['mg'], 3)} {amount_unit}, prélever {fr_num(used['volume_ml'], 2)} mL"
        )
    for bag in plan.get("poches") or []:
        out.append(
            f"  poche {bag['index']}/{bag['count']} : {fr_num(bag['dose'], 3)} {bag['unit']} "
            f"({fr_num(bag['draw_volume_ml'], 2)} mL) dans {fr_num(bag['bag_volume_ml'])} mL"
        )
    out += [
        f"Diluant : {sheet['diluent'] or 'aucun'} {fr_num(sheet['diluent_volume_ml'] or 0)} mL, "
        f"contenant : {sheet['container'] or '—'}",
        f"Volume final : {fr_num(sheet['final_volume_ml'], 1)} mL, concentration "
        f"{fr_num(sheet['final_conc_mg_ml'], 3)} {amount_unit}/mL",
        f"Protéger de la lumière : {'OUI' if sheet['light_protect'] else 'non'} ; filtre : "
        + (f"{fr_num(sheet['filter_um'])} µm" if sheet["filter_um"] else "aucun")
        + f" ; conservation : {sheet['storage'] or '—'}",
        f"À utiliser avant le {use_by} ({sheet['use_by_reason']})",
        (
            f"Poids cible (brut, tare {fr_num(sheet['tare_g'], 1)} g comprise) : "
            if sheet.get("tare_g")
            else "Poids cible (net) : "
        )
        + f"{fr_num(sheet['target_weight_g'], 1)} g, accepté de "
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
    if sheet.get("reliquat_cree"):
        out.append(f"Reliquat mis en stock : {sheet['reliquat_cree']}")
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
        tare_g=args.tare,
        **_stock_kwargs(args),
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

    result = run_query(args, preview, args.line, stock_options=_stock_kwargs(args))
    plan = result["plan"]
    from oncosecours.domain.findings import fr_num

    lines = [f"Ligne {args.line} : {result['patient']}"]
    for p in result["products"]:
        lines.append(
            f"  {p['count']} × {p['name']}, prélever {fr_num(p['volume_to_draw_ml'], 2)} mL"
        )
    lines.append(
        f"  {result['diluent']} {fr_num(plan['bag_volume_ml'] or 0)} mL, volume final "
        f"{fr_num(plan['final_volume_ml'], 1)} mL, {fr_num(plan['final_concentration_mg_ml'], 3)} "
        f"{plan.get('unit') or 'mg'}/mL"
    )
    weights = result["weights"]
    lines.append(
        f"  poids cible {fr_num(weights['gross_g'], 1)} g "
        + (f"brut (tare {fr_num(weights['tare_g'], 1)} g)" if weights["tare_g"] else "net")
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
