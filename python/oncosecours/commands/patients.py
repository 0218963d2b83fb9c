"""``oncosecours patient ...``: create, bring in from the backup, update, measure, find, show."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import (
    add_common,
    emit,
    nombre,
    run_action,
    run_query,
)

PATIENT_HELP = "patient : IPP, ou #numéro de dossier (ex. #12)"


def _identity_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--birth-name", metavar="NOM", required=required, help="nom de naissance")
    parser.add_argument("--usual-name", metavar="NOM", help="nom d'usage")
    parser.add_argument("--first-name", metavar="PRENOM", required=required, help="prénom")
    parser.add_argument(
        "--birth-date",
        metavar="DATE",
        required=required,
        help="date de naissance (AAAA-MM-JJ ou JJ/MM/AAAA)",
    )
    parser.add_argument("--sex", metavar="M|F", required=required, help="sexe : M ou F")
    parser.add_argument("--ward", metavar="SERVICE", help="service ou unité de soins")


def _measure_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weight", metavar="KG", type=nombre, help="poids en kg")
    parser.add_argument("--height", metavar="CM", type=nombre, help="taille en cm")
    parser.add_argument("--creatinine", metavar="UMOL_L", type=nombre, help="créatinine en µmol/L")
    parser.add_argument(
        "--measured-on", metavar="DATE", help="date des mesures (défaut : aujourd'hui)"
    )


def _other_person(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--other-person",
        action="store_true",
        help="confirmer qu'il s'agit d'une autre personne qu'un homonyme signalé (tracé)",
    )


def register(subparsers) -> None:
    parser = subparsers.add_parser("patient", help="patients : identité et mesures")
    sub = parser.add_subparsers(dest="patient_command", metavar="ACTION")

    add = sub.add_parser("add", help="créer un patient (homonymes refusés sauf confirmation)")
    add_common(add)
    add.add_argument("--ipp", metavar="IPP", help="IPP (identifiant patient de l'hôpital)")
    _identity_options(add, required=True)
    _measure_options(add)
    _other_person(add)
    add.set_defaults(handler=_add)

    imp = sub.add_parser("import", help="reprendre un patient de la sauvegarde Chimio")
    add_common(imp)
    imp.add_argument(
        "--ipp", metavar="IPP", required=True, help="IPP ou numéro patient de la sauvegarde"
    )
    imp.add_argument(
        "--birth-name", metavar="NOM", help="nom de naissance (si absent de la sauvegarde)"
    )
    imp.add_argument("--first-name", metavar="PRENOM", help="prénom (si absent de la sauvegarde)")
    imp.add_argument("--usual-name", metavar="NOM", help="nom d'usage (si absent de la sauvegarde)")
    imp.add_argument("--ward", metavar="SERVICE", help="service ou unité de soins")
    _other_person(imp)
    imp.set_defaults(handler=_import)

    upd = sub.add_parser("update", help="corriger l'identité d'un patient (tracé avant/après)")
    add_common(upd)
    upd.add_argument("--patient", metavar="PATIENT", required=True, help=PATIENT_HELP)
    upd.add_argument("--ipp", metavar="IPP", help="nouvel IPP")
    _identity_options(upd, required=False)
    _other_person(upd)
    upd.set_defaults(handler=_update)

    measure = sub.add_parser("measure", help="saisir poids, taille ou créatinine datés")
    add_common(measure)
    measure.add_argument("--patient", metavar="PATIENT", required=True, help=PATIENT_HELP)
    _measure_options(measure)
    measure.set_defaults(handler=_measure)

    find = sub.add_parser("find", help="chercher un patient (crise et sauvegarde)")
    add_common(find, user=False)
    find.add_argument("--ipp", metavar="IPP", help="IPP")
    find.add_argument("--name", metavar="NOM", help="nom de naissance ou d'usage (début du nom)")
    find.add_argument("--birth-date", metavar="DATE", help="date de naissance")
    find.set_defaults(handler=_find)

    show = sub.add_parser("show", help="afficher un patient, ses cures et ses notes")
    add_common(show, user=False)
    show.add_argument("--patient", metavar="PATIENT", required=True, help=PATIENT_HELP)
    show.set_defaults(handler=_show)


def _created_text(patient: dict, verb: str) -> str:
    from oncosecours.store.circuit import patient_label, patient_ref

    ref = patient_ref(patient)
    return (
        f"Patient {verb} : {patient_label(patient)} (dossier n° {patient['id']}).\n"
        f"Suite : oncosecours include add --patient {ref} --protocol PROTOCOLE --start AAAA-MM-JJ"
    )


def _add(args: argparse.Namespace) -> int:
    from oncosecours.services.patients import create_patient

    patient = run_action(
        args,
        create_patient,
        ipp=args.ipp,
        birth_name=args.birth_name,
        usual_name=args.usual_name,
        first_name=args.first_name,
        birth_date=args.birth_date,
        sex=args.sex,
        ward=args.ward,
        weight_kg=args.weight,
        height_cm=args.height,
        creatinine_umol_l=args.creatinine,
        measured_on=args.measured_on,
        confirm_homonym=args.other_person,
    )
    emit(args, patient, _created_text(patient, "créé"))
    return 0


def _import(args: argparse.Namespace) -> int:
    from oncosecours.services.patients import import_patient

    patient = run_action(
        args,
        import_patient,
        args.ipp,
        birth_name=args.birth_name,
        first_name=args.first_name,
        usual_name=args.usual_name,
        ward=args.ward,
        confirm_homonym=args.other_person,
    )
    emit(args, patient, _created_text(patient, "repris de la sauvegarde"))
    return 0


def _update(args: argparse.Namespace) -> int:
    from oncosecours.services.patients import update_patient

    changes = {
        field: getattr(args, field)
        for field in ("ipp", "birth_name", "usual_name", "first_name", "birth_date", "sex", "ward")
        if getattr(args, field) is not None
    }
    patient = run_action(
        args, update_patient, args.patient, changes=changes, confirm_homonym=args.other_person
    )
    from oncosecours.store.circuit import patient_label

    emit(args, patient, f"Patient modifié : {patient_label(patient)}.")
    return 0


def _measure(args: argparse.Namespace) -> int:
    from oncosecours.services.patients import record_measurements

    saved = run_action(
        args,
        record_measurements,
        args.patient,
        weight_kg=args.weight,
        height_cm=args.height,
        creatinine_umol_l=args.creatinine,
        measured_on=args.measured_on,
    )
    text = "\n".join(
        f"Mesure enregistrée : {m['mesure']} {m['valeur']:g} {m['unité']} du {m['date']}."
        for m in saved
    )
    emit(args, saved, text)
    return 0


def _find(args: argparse.Namespace) -> int:
    from oncosecours.domain.errors import OncoError
    from oncosecours.services.queries import find_patients

    if not (args.ipp or args.name or args.birth_date):
        raise OncoError("Préciser --ipp, --name ou --birth-date", field="recherche")
    rows = run_query(args, find_patients, ipp=args.ipp, name=args.name, birth_date=args.birth_date)
    lines = []
    for r in rows:
        if r["origine"] == "crise":
            lines.append(f"{r['ref']:<12} {r['libelle']}")
        else:
            lines.append(
                f"{r['ref']:<12} {r['libelle']}\n"
                f"             → à reprendre : oncosecours patient import --ipp {r['ref']}"
            )
    emit(args, rows, "\n".join(lines) or "Aucun patient trouvé.")
    return 0


def _show(args: argparse.Namespace) -> int:
    from oncosecours.services.queries import patient_summary
    from oncosecours.texts.circuit import patient_block

    summary = run_query(args, patient_summary, args.patient)
    emit(args, summary, patient_block(summary))
    return 0
