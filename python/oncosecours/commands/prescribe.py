"""``oncosecours prescribe ...``: compute (preview), save, transcribe a paper prescription, show."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import (
    add_common,
    emit,
    nombre,
    run_action,
    run_query,
)

KEY_HELP = "CLE = * (toutes les lignes anticancéreuses), numéro de ligne ou nom de molécule"


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cure", metavar="N", type=int, required=True, help="numéro de la cure")
    parser.add_argument(
        "--weight", metavar="KG", type=nombre, help="poids du jour en kg (défaut : le dernier)"
    )
    parser.add_argument(
        "--height", metavar="CM", type=nombre, help="taille en cm (défaut : la dernière)"
    )
    parser.add_argument("--creatinine", metavar="UMOL_L", type=nombre, help="créatinine en µmol/L")
    parser.add_argument(
        "--creatinine-date", metavar="DATE", help="date de la créatinine (défaut : aujourd'hui)"
    )
    parser.add_argument(
        "--reduction",
        action="append",
        metavar="CLE=POURCENT:MOTIF",
        help=f"réduction de dose motivée, ex. DOXORUBICINE=25:FEVG 45 %% ; 0 annule une "
        f"réduction reprise ({KEY_HELP})",
    )
    parser.add_argument(
        "--les", action="append", metavar="CLE=CODE", help="code LES, ex. RITUXIMAB=I999999"
    )
    parser.add_argument("--diluent", action="append", metavar="CLE=DILUANT", help="diluant")
    parser.add_argument("--container", action="append", metavar="CLE=CONTENANT", help="contenant")
    parser.add_argument(
        "--dose",
        action="append",
        metavar="LIGNE=DOSE",
        help="dose écrite (mg...) quand elle diffère du calcul, ex. 3=120",
    )


def register(subparsers) -> None:
    parser = subparsers.add_parser("prescribe", help="prescription d'une cure")
    sub = parser.add_subparsers(dest="prescribe_command", metavar="ACTION")

    preview = sub.add_parser("preview", help="calculer la prescription sans l'enregistrer")
    add_common(preview, user=False)
    _options(preview)
    preview.set_defaults(handler=_preview)

    save = sub.add_parser("save", help="prescrire la cure (prescripteur)")
    add_common(save)
    _options(save)
    save.add_argument(
        "--confirm-measures",
        action="store_true",
        help="confirmer les dernières mesures enregistrées (sinon saisir --weight et --height)",
    )
    save.set_defaults(handler=_save)

    transcribe = sub.add_parser(
        "transcribe", help="retranscrire une ordonnance papier signée (tracé)"
    )
    add_common(transcribe)
    _options(transcribe)
    transcribe.add_argument(
        "--prescriber",
        metavar="NOM",
        required=True,
        help="médecin signataire de l'ordonnance papier",
    )
    transcribe.add_argument(
        "--paper-date", metavar="DATE", required=True, help="date de l'ordonnance papier"
    )
    transcribe.add_argument("--comment", metavar="TEXTE", help="commentaire")
    transcribe.add_argument(
        "--confirm-measures", action="store_true", help="confirmer les dernières mesures"
    )
    transcribe.set_defaults(handler=_transcribe)

    show = sub.add_parser("show", help="afficher une prescription, ses lignes et décisions")
    add_common(show, user=False)
    show.add_argument(
        "--prescription", metavar="N", type=int, required=True, help="numéro de prescription"
    )
    show.set_defaults(handler=_show)


def _service_options(args: argparse.Namespace) -> dict:
    from oncosecours.texts.circuit import key_values, numbers, reductions

    return {
        "weight_kg": args.weight,
        "height_cm": args.height,
        "creatinine_umol_l": args.creatinine,
        "creatinine_date": args.creatinine_date,
        "reductions": reductions(args.reduction),
        "les_codes": key_values(args.les, "code LES"),
        "diluents": key_values(args.diluent, "diluant"),
        "containers": key_values(args.container, "contenant"),
        "doses": numbers(args.dose, "dose"),
    }


def _draft_text(draft: dict, title: str) -> str:
    from oncosecours.store.circuit import patient_label
    from oncosecours.texts.circuit import findings_block, head_block, lines_block

    cure = draft["cure"]
    return "\n".join(
        [
            f"{title} — cure n° {cure['id']}, {draft['inclusion']['protocol_name']} cycle "
            f"{cure['cycle']}, J1 {cure['planned_date']}",
            f"Patient : {patient_label(draft['patient'])}",
            head_block(draft["head"]),
            lines_block(draft["lines"]),
            findings_block(draft["findings"]),
        ]
    )


def _json(draft: dict) -> dict:
    return {k: v for k, v in draft.items() if k not in ("patient", "inclusion")} | {
        "patient_id": draft["patient"]["id"],
        "inclusion_id": draft["inclusion"]["id"],
    }


def _require_measures(args: argparse.Namespace) -> None:
    from oncosecours.domain.errors import OncoError

    if not args.confirm_measures and (args.weight is None or args.height is None):
        raise OncoError(
            "Confirmer le poids et la taille du jour : --weight et --height, ou "
            "--confirm-measures pour reprendre les dernières mesures enregistrées",
            field="mesures",
        )


def _preview(args: argparse.Namespace) -> int:
    from oncosecours.services.prescription import preview_prescription

    draft = run_query(args, preview_prescription, args.cure, **_service_options(args))
    text = _draft_text(draft, "APERÇU (rien n'est enregistré)")
    text += (
        f"\nSuite : oncosecours prescribe save --cure {args.cure} --user INITIALES "
        "--confirm-measures (mêmes options)"
    )
    emit(args, _json(draft), text)
    return 0


def _saved(args: argparse.Namespace, draft: dict, title: str) -> None:
    pid = draft["prescription_id"]
    from oncosecours.store.circuit import cure_by_id

    saved = run_query(args, cure_by_id, draft["cure"]["id"])
    draft = draft | {"cure": draft["cure"] | saved}  # the cure as saved (« prescribed »)
    text = _draft_text(draft, f"{title} : prescription n° {pid}")
    text += (
        f"\nSuite (pharmacien) : oncosecours validate show --prescription {pid} ; "
        f"oncosecours validate accept --prescription {pid} --user INITIALES"
    )
    emit(args, _json(draft), text)


def _save(args: argparse.Namespace) -> int:
    from oncosecours.services.prescription import prescribe

    _require_measures(args)
    draft = run_action(args, prescribe, args.cure, **_service_options(args))
    _saved(args, draft, "PRESCRITE")
    return 0


def _transcribe(args: argparse.Namespace) -> int:
    from oncosecours.services.prescription import transcribe_prescription

    _require_measures(args)
    draft = run_action(
        args,
        transcribe_prescription,
        args.cure,
        prescriber_name=args.prescriber,
        paper_date=args.paper_date,
        comment=args.comment,
        **_service_options(args),
    )
    _saved(args, draft, "RETRANSCRITE")
    return 0


def _show(args: argparse.Namespace) -> int:
    from oncosecours.services.queries import prescription_detail
    from oncosecours.texts.circuit import (
        CURE_FR,
        findings_block,
        head_block,
        lines_block,
        note_line,
    )

    detail = run_query(args, prescription_detail, args.prescription)
    p = detail["prescription"]
    who = p["prescriber_name"]
    if p["transcribed"]:
        who += f" (ordonnance papier du {p['paper_date']}, retranscrite)"
    out = [
        f"Prescription n° {p['id']} — {CURE_FR[p['state']]} — cure n° {detail['cure']['id']} "
        f"({detail['inclusion']['protocol_name']} cycle {detail['cure']['cycle']}, J1 "
        f"{detail['cure']['planned_date']})",
        f"Patient : {detail['libelle']}",
        f"Prescripteur : {who}, le {p['prescribed_at'][:16].replace('T', ' ')}",
        head_block(p),
        lines_block(detail["lines"]),
        findings_block(p["findings"]),
    ]
    for v in detail["validations"]:
        verdict = "VALIDÉE" if v["decision"] == "validated" else "REFUSÉE"
        out.append(
            f"{verdict} par {v['pharmacist']} le {v['decided_at'][:16].replace('T', ' ')}"
            + (f" : {v['comment']}" if v["comment"] else "")
        )
        for rule, text in v["justifications"].items():
            out.append(f"  justification {rule} : {text}")
    out.extend(note_line(n) for n in detail["notes"])
    emit(args, detail, "\n".join(out))
    return 0
