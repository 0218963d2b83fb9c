"""The re-entry dossier of one patient (``templates/dossier_patient.docx``) and the archive's
ordonnancier in PDF/A.

Pure mapping for the dossier: a patient record of :func:`oncosecours.services.sortie.records.gather`
in, a context of ready-to-print French strings out (``champs.toml`` [modeles.dossier_patient]).
The samples build the same records, so ``templates check`` prints them through this mapping.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from oncosecours.documents import context as C
from oncosecours.domain import workflow

KIND = "dossier_patient"


def _when(value: Any) -> str:
    return C.datetime(value) if value else ""


def _inclusion(inc: Mapping[str, Any]) -> dict[str, str]:
    state = "active"
    if inc.get("state") == "stopped":
        state = (
            f"arrêtée le {_when(inc.get('stopped_at'))} par {inc.get('stopped_by_initials') or ''}"
            f" : {inc.get('stop_reason') or ''}"
        )
    return {
        "protocole": str(inc["protocol_name"]),
        "debut": C.date(inc["start_date"]),
        "cycles": str(inc["cycles"]),
        "etat": state,
        "par": f"{inc.get('created_by_initials') or ''} le {_when(inc.get('created_at'))}",
    }


def _cure(inc: Mapping[str, Any], rec: Mapping[str, Any]) -> dict[str, str]:
    cure = rec["cure"]
    cancel = ""
    if cure.get("cancelled_at"):
        cancel = (
            f"annulée le {_when(cure['cancelled_at'])} par "
            f"{cure.get('cancelled_by_initials') or ''} : {cure.get('cancel_reason') or ''}"
        )
    return {
        "protocole": str(inc["protocol_name"]),
        "cycle": str(cure["cycle"]),
        "j1": C.date(cure["planned_date"]),
        "etat": workflow.CURE_STATES.get(cure["state"], str(cure["state"])),
        "reports": " ; ".join(
            f"{C.date(m.get('from'))} → {C.date(m.get('to'))} ({m.get('reason') or ''}, "
            f"{m.get('by') or ''})"
            for m in rec.get("postponements") or []
        ),
        "annulation": cancel,
    }


def _line(cure: Mapping[str, Any], presc: Mapping[str, Any], line: Mapping[str, Any]) -> dict:
    unit = C.unit(line["unit"])
    prescribed = f"{C.dose(line['dose'])} {unit}"
    if line.get("reduction_pct"):
        prescribed += f", réduite de {C.num(line['reduction_pct'])} %"
        if line.get("reduction_reason"):
            prescribed += f" ({line['reduction_reason']})"
    if line.get("les_code"):
        prescribed += f" (LES {line['les_code']})"
    decision = presc.get("validation_decision")
    if decision:
        validation = (
            f"{'validée' if decision == 'validated' else 'refusée'} par "
            f"{presc.get('validated_by') or ''} le {_when(presc.get('validated_at'))}"
        )
        if presc.get("validation_comment"):
            validation += f" : {presc['validation_comment']}"
    else:
        validation = "non validée"
    who = f"{presc['prescriber_name']}, {_when(presc['prescribed_at'])}"
    if presc.get("transcribed"):
        who += " (retranscription d'une ordonnance papier)"
    return {
        "date": f"{C.date(line['admin_date'])} C{cure['cycle']} J{line['day']}",
        "molecule": C.upper_name(line["molecule_name"]),
        "calcul": f"{C.dose(line['protocol_dose'])} {C.unit(line['protocol_unit'])} → "
        f"{C.dose(line['computed_dose'])} {unit}",
        "prescrit": prescribed,
        "prescripteur": who,
        "validation": validation,
    }


def _preparation(prep: Mapping[str, Any]) -> dict[str, str]:
    lots = " ; ".join(
        f"{lot['component']} lot {lot['lot']} exp. {C.date(lot['expiry'])}"
        for lot in prep.get("lots") or []
    )
    made = f"{_when(prep['prepared_at'])} par {prep['prepared_by_initials']}"
    if lots:
        made += f" ; {lots}"
    control = ""
    if prep.get("controlled_at"):
        tolerance = "dans la tolérance" if prep.get("in_tolerance") else "HORS TOLÉRANCE"
        control = (
            f"{C.num(prep['measured_weight_g'], 1)} g ({tolerance}) par "
            f"{prep['controlled_by_initials']} le {_when(prep['controlled_at'])}"
        )
    release = ""
    if prep.get("release_decision"):
        release = (
            f"{'libérée' if prep['release_decision'] == 'released' else 'REFUSÉE'} par "
            f"{prep['released_by']} le {_when(prep['released_at'])}"
        )
        reason = prep.get("release_justification") or prep.get("release_comment")
        if reason:
            release += f" : {reason}"
    fate = []
    if prep.get("dispensed_at"):
        fate.append(f"dispensée le {_when(prep['dispensed_at'])} à {prep.get('recipient') or ''}")
    if prep.get("started_at"):
        fate.append(f"administrée le {_when(prep['started_at'])}")
    if prep.get("cancelled_at"):
        fate.append(f"ANNULÉE le {_when(prep['cancelled_at'])} : {prep.get('cancel_reason') or ''}")
    if not fate:
        fate.append(workflow.label("preparation", prep["state"]))
    return {
        "numero": str(prep["ord_number"]),
        "molecule": f"{C.upper_name(prep['molecule_name'])} {C.dose(prep['dose'])} "
        f"{C.unit(prep['unit'])}",
        "preparation": made,
        "controle": control,
        "liberation": release,
        "devenir": " ; ".join(fate),
    }


def _administration(line: Mapping[str, Any], admin: Mapping[str, Any]) -> dict[str, str]:
    bag = next((p for p in line["preparations"] if p["id"] == admin.get("preparation_id")), None)
    import json

    incidents = [
        f"{i.get('label', '')} : {i.get('comment', '')}"
        for i in json.loads(admin.get("incidents_json") or "[]")
    ]
    course = "complète" if admin.get("completed") else "ARRÊTÉE avant la fin"
    if incidents:
        course += " ; " + " ; ".join(incidents)
    if admin.get("comment"):
        course += f" ; {admin['comment']}"
    end = C.datetime(admin["ended_at"])
    return {
        "molecule": C.upper_name(line["molecule_name"])
        + (f" ({bag['ord_number']})" if bag else ""),
        "horaire": f"{C.datetime(admin['started_at'])} → {end[-5:] if end else ''}",
        "deroulement": course,
        "par": str(admin.get("administered_by_initials") or ""),
    }


def dossier(
    record: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    date_from: Any,
    date_to: Any,
    backup_date: Any = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Context of one patient's re-entry dossier."""
    patient = record["patient"]
    identity = C.patient_fields(patient)
    identity["origine"] = (
        "créé pendant la crise" if patient.get("source") == "crise" else
        "repris de la sauvegarde Chimio"
    )  # fmt: skip
    inclusions, cures, lines, preps, admins = [], [], [], [], []
    for inc_rec in record["inclusions"]:
        inc = inc_rec["inclusion"]
        inclusions.append(_inclusion(inc))
        for cure_rec in inc_rec["cures"]:
            cures.append(_cure(inc, cure_rec))
            for presc in cure_rec["prescriptions"]:
                for line in presc["lines"]:
                    lines.append(_line(cure_rec["cure"], presc, line))
                    preps += [_preparation(p) for p in line["preparations"]]
                    if line.get("administration"):
                        admins.append(_administration(line, line["administration"]))
    ctx = C.common(settings, KIND, backup_date=backup_date, now=now)
    ctx.update(
        {
            "periode": {"du": C.date(date_from), "au": C.date(date_to)},
            "patient": {
                k: identity[k]
                for k in (
                    "nom",
                    "nom_naissance",
                    "prenom",
                    "date_naissance",
                    "sexe",
                    "ipp",
                    "service",
                    "origine",
                )
            },  # fmt: skip
            "inclusions": inclusions,
            "cures": cures,
            "lignes": lines,
            "preparations": preps,
            "administrations": admins,
        }
    )
    return ctx


def render_dossiers(
    records,
    out_dir: str | os.PathLike,
    settings: Mapping[str, Any] | None = None,
    *,
    pdf: bool | None = False,
    backup_date: Any = None,
):
    """One .docx per patient of the records (and all of them in one file), PDF if asked."""
    from oncosecours.documents.render import Renderer, safe_name

    renderer = Renderer(settings)
    contexts = [
        dossier(
            r,
            renderer.settings,
            date_from=records.date_from,
            date_to=records.date_to,
            backup_date=backup_date,
        )  # fmt: skip
        for r in records.patients
    ]
    names = [
        f"dossier_{safe_name(c['patient']['nom_naissance'] + ' ' + c['patient']['prenom'])}_"
        f"{c['patient']['ipp'] or 'sans_IPP'}"
        for c in contexts
    ]
    return renderer.render(
        KIND, contexts, out_dir, names, combined_name="dossiers_tous_patients", pdf=pdf
    )


def archive_ordonnancier(conn, settings: Mapping[str, Any] | None = None) -> Callable:
    """The archive's register documents: the ordonnancier extract (.docx) and its PDF/A."""

    def write(folder: Path, date_from: str, date_to: str) -> list[Path]:
        from oncosecours.documents.pdfa import convert_pdfa
        from oncosecours.documents.render import render_ordonnancier

        result = render_ordonnancier(conn, date_from, date_to, "date", folder, settings,
                                     pdf=False)  # fmt: skip
        return list(result.docx) + [convert_pdfa(docx, folder) for docx in result.docx]

    return write


# --- samples (templates check, templates sample) -------------------------------------------------


def sample_records() -> list[dict[str, Any]]:
    """Two patients: a full one (postponement, reduction, out-of-tolerance release, incident,
    cancelled bag) and an empty one (an inclusion with nothing done yet)."""
    user = {"created_by_initials": "DR1", "created_at": "2026-03-02T08:10:00+01:00"}
    patient = {
        "id": 1, "ipp": "80012345", "birth_name": "N'Diaye", "usual_name": "O'Brien & Fils",
        "first_name": "Aïssatou", "birth_date": "1961-02-14", "sex": "F",
        "ward": "Hôpital de jour d'oncologie", "source": "crise",
    }  # fmt: skip
    prep = {
        "id": 7, "ord_number": "2026-000123", "molecule_name": "Oxaliplatine", "dose": 145.35,
        "unit": "mg", "prepared_at": "2026-03-09T08:15:00+01:00", "prepared_by_initials": "PR1",
        "lots": [{"component": "OXALIPLATINE 100 mg/20 mL", "lot": "A123", "expiry": "2027-01-31"}],
        "controlled_at": "2026-03-09T08:40:00+01:00", "measured_weight_g": 291.2,
        "in_tolerance": 0, "controlled_by_initials": "PR2", "release_decision": "released",
        "released_by": "PH1", "released_at": "2026-03-09T09:02:00+01:00",
        "release_justification": "pesée refaite : 281 g", "release_comment": None,
        "dispensed_at": "2026-03-09T09:10:00+01:00", "recipient": "IDE Julie Martin",
        "started_at": "2026-03-09T10:30:00+01:00", "cancelled_at": None, "state": "administered",
    }  # fmt: skip
    cancelled = {
        **prep, "id": 8, "ord_number": "2026-000124", "controlled_at": None,
        "release_decision": None, "dispensed_at": None, "started_at": None,
        "cancelled_at": "2026-03-09T08:20:00+01:00", "cancel_reason": "poche percée",
        "state": "cancelled", "lots": [],
    }  # fmt: skip
    line = {
        "id": 3, "admin_date": "2026-03-09", "day": 1, "molecule_name": "Oxaliplatine",
        "protocol_dose": 85, "protocol_unit": "mg/m2", "computed_dose": 145.35, "dose": 145.35,
        "unit": "mg", "reduction_pct": 20, "reduction_reason": "neuropathie grade 2",
        "les_code": "I000123", "preparations": [cancelled, prep],
        "administration": {
            "preparation_id": 7, "started_at": "2026-03-09T10:30:00+01:00",
            "ended_at": "2026-03-09T12:30:00+01:00", "completed": 0,
            "incidents_json": '[{"kind": "reaction", "label": "Réaction", '
            '"comment": "rougeur, perfusion ralentie"}]',
            "comment": "surveillance 1 h", "administered_by_initials": "IDE1",
        },
    }  # fmt: skip
    presc = {
        "prescriber_name": "Dr Élise Martin", "prescribed_at": "2026-03-08T17:02:00+01:00",
        "transcribed": 1, "validation_decision": "validated", "validated_by": "PH1",
        "validated_at": "2026-03-09T07:40:00+01:00", "validation_comment": "dose vue avec le Dr",
        "lines": [line],
    }  # fmt: skip
    cure = {
        "cure": {"cycle": 3, "planned_date": "2026-03-09", "state": "administered",
                 "cancelled_at": None},
        "postponements": [{"from": "2026-03-02", "to": "2026-03-09", "reason": "neutropénie",
                           "by": "DR1"}],
        "prescriptions": [presc],
    }  # fmt: skip
    stopped = {
        "protocol_name": "FOLFOX 4 « simplifié » & co", "start_date": "2026-01-12", "cycles": 12,
        "state": "stopped", "stopped_at": "2026-03-10T11:00:00+01:00",
        "stopped_by_initials": "DR1", "stop_reason": "progression", **user,
    }  # fmt: skip
    empty_patient = {
        "id": 2, "ipp": None, "birth_name": "Zidane", "usual_name": None, "first_name": "Yanis",
        "birth_date": "1990-07-01", "sex": "M", "ward": None, "source": "sauvegarde",
    }  # fmt: skip
    return [
        {"patient": patient, "inclusions": [{"inclusion": stopped, "cures": [cure]}]},
        {
            "patient": empty_patient,
            "inclusions": [
                {"inclusion": {"protocol_name": "R-CHOP 21", "start_date": "2026-03-20",
                               "cycles": 6, "state": "active", **user}, "cures": []},
            ],
        },
    ]  # fmt: skip


def sample_contexts(settings: Mapping[str, Any], now: dt.datetime) -> list[dict[str, Any]]:
    return [
        dossier(
            r,
            settings,
            date_from="2026-03-01",
            date_to="2026-03-31",
            backup_date="2026-03-05",
            now=now,
        )  # fmt: skip
        for r in sample_records()
    ]
