"""``oncosecours validate ...``: pending prescriptions, checks, validation or refusal."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, run_action, run_query


def register(subparsers) -> None:
    parser = subparsers.add_parser("validate", help="validation pharmaceutique")
    sub = parser.add_subparsers(dest="validate_command", metavar="ACTION")

    listing = sub.add_parser("list", help="prescriptions en attente de validation")
    add_common(listing, user=False)
    listing.set_defaults(handler=_list)

    show = sub.add_parser("show", help="lancer les contrôles et afficher les alertes")
    add_common(show, user=False)
    show.add_argument(
        "--prescription", metavar="N", type=int, required=True, help="numéro de prescription"
    )
    show.set_defaults(handler=_show)

    accept = sub.add_parser("accept", help="valider (alertes bloquantes justifiées)")
    add_common(accept)
    accept.add_argument(
        "--prescription", metavar="N", type=int, required=True, help="numéro de prescription"
    )
    accept.add_argument(
        "--justify",
        action="append",
        metavar="REGLE=TEXTE",
        help="justification écrite d'une alerte bloquante, ex. ECART_DOSE=dose vue avec le Dr X",
    )
    accept.add_argument("--comment", metavar="TEXTE", help="commentaire")
    accept.add_argument(
        "--refuse", action="store_true", help="refuser au lieu de valider (--comment obligatoire)"
    )
    accept.set_defaults(handler=_accept)

    refuse = sub.add_parser("refuse", help="refuser la prescription (commentaire obligatoire)")
    add_common(refuse)
    refuse.add_argument(
        "--prescription", metavar="N", type=int, required=True, help="numéro de prescription"
    )
    refuse.add_argument("--comment", metavar="TEXTE", required=True, help="motif du refus")
    refuse.set_defaults(handler=_refuse)


def _list(args: argparse.Namespace) -> int:
    from oncosecours.services.queries import pending_validations

    rows = run_query(args, pending_validations)
    text = "\n".join(
        f"prescription {r['id']:>5}  J1 {r['planned_date']}  {r['protocol_name']} C{r['cycle']}  "
        f"{r['patient']}" + ("  (retranscrite)" if r["transcribed"] else "")
        for r in rows
    )
    emit(args, rows, text or "Aucune prescription en attente de validation.")
    return 0


def _show(args: argparse.Namespace) -> int:
    from oncosecours.domain.checks import blocking_rules
    from oncosecours.services.validation import findings_for
    from oncosecours.texts.circuit import findings_block

    findings = run_query(args, findings_for, args.prescription)
    rules = blocking_rules(findings)
    text = findings_block([f.to_dict() for f in findings])
    if rules:
        justify = " ".join(f'--justify "{r}=..."' for r in rules)
        text += (
            f"\nSuite : oncosecours validate accept --prescription {args.prescription} "
            f"--user INITIALES {justify}\n   ou : oncosecours validate refuse --prescription "
            f'{args.prescription} --user INITIALES --comment "..."'
        )
    else:
        text += (
            f"\nSuite : oncosecours validate accept --prescription {args.prescription} "
            "--user INITIALES"
        )
    emit(args, {"findings": [f.to_dict() for f in findings], "a_justifier": rules}, text)
    return 0


def _decision_text(result: dict) -> str:
    verdict = "validée" if result["decision"] == "validated" else "refusée"
    text = f"Prescription n° {result['prescription_id']} {verdict}"
    if result["comment"]:
        text += f" : {result['comment']}"
    text += "."
    for rule, why in result["justifications"].items():
        text += f"\n  justification {rule} : {why}"
    if result["decision"] == "validated":
        text += f"\nSuite (le jour J) : oncosecours goahead give --cure {result['cure_id']}"
    else:
        text += f"\nSuite : oncosecours prescribe preview --cure {result['cure_id']}"
    return text


def _accept(args: argparse.Namespace) -> int:
    from oncosecours.texts.circuit import key_values

    if args.refuse:
        return _refuse(args)
    from oncosecours.services.validation import validate_prescription

    result = run_action(
        args,
        validate_prescription,
        args.prescription,
        justifications=key_values(args.justify, "justification"),
        comment=args.comment,
    )
    emit(args, result, _decision_text(result))
    return 0


def _refuse(args: argparse.Namespace) -> int:
    from oncosecours.services.validation import refuse_prescription

    result = run_action(args, refuse_prescription, args.prescription, comment=args.comment)
    emit(args, result, _decision_text(result))
    return 0
