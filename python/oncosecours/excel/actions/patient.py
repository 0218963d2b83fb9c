"""Patient: create (or bring in from the backup) a patient, include them in a protocol."""

from __future__ import annotations

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells
from oncosecours.excel.actions._common import bracket_number


def new_patient(ctx) -> str:
    """« Nouveau patient » -> services.patients.create_patient (``oncosecours patient add``), or
    import_patient (``patient import``) when the IPP is in the Chimio backup, then the measures."""
    from oncosecours.services import patients
    from oncosecours.services.queries import find_patients
    from oncosecours.store.circuit import patient_label

    sheet = ctx.layout.sheet("Patients")
    form = ctx.book.read_fields(sheet)
    actor = ctx.actor()
    ipp = cells.as_text(form.get("ipp"))
    confirm = cells.as_bool(form.get("homonyme"))
    measures = {
        "weight_kg": cells.as_number(form.get("poids")),
        "height_cm": cells.as_number(form.get("taille")),
        "creatinine_umol_l": cells.as_number(form.get("creatinine")),
    }
    measured_on = cells.as_iso_date(form.get("date_mesures"))
    in_backup = ipp and any(
        found["origine"] == "sauvegarde" for found in find_patients(ctx.conn, ipp=ipp)
    )
    if in_backup:
        person = patients.import_patient(
            ctx.conn,
            actor,
            ipp,
            birth_name=cells.as_text(form.get("nom_naissance")),
            first_name=cells.as_text(form.get("prenom")),
            usual_name=cells.as_text(form.get("nom_usage")),
            ward=cells.as_text(form.get("service")),
            confirm_homonym=confirm,
        )
        done = "repris de la sauvegarde Chimio"
        if any(v is not None for v in measures.values()):
            patients.record_measurements(
                ctx.conn, actor, person["id"], measured_on=measured_on, **measures
            )
    else:
        birth_name = cells.as_text(form.get("nom_naissance"))
        first_name = cells.as_text(form.get("prenom"))
        if not birth_name or not first_name:
            raise OncoError(
                "Nom de naissance et prénom sont obligatoires (ou un IPP de la sauvegarde)",
                field="nom de naissance",
            )
        person = patients.create_patient(
            ctx.conn,
            actor,
            birth_name=birth_name,
            first_name=first_name,
            birth_date=cells.as_iso_date(form.get("date_naissance")) or "",
            sex=cells.as_text(form.get("sexe")) or "",
            ipp=ipp,
            usual_name=cells.as_text(form.get("nom_usage")),
            ward=cells.as_text(form.get("service")),
            measured_on=measured_on,
            confirm_homonym=confirm,
            **measures,
        )
        done = "créé"
    ctx.refresh("Patients", lists=True)
    return f"patient {done} : {patient_label(person)}"


def include(ctx) -> str:
    """« Inclure dans un protocole » -> services.inclusion.include_patient (``include add``).

    The patient is the selected row of the Patients table, else the form's IPP."""
    from oncosecours.services.inclusion import include_patient
    from oncosecours.store.circuit import patient_by_id, patient_label

    sheet = ctx.layout.sheet("Patients")
    form = ctx.book.read_fields(sheet)
    chosen = ctx.book.selected_rows(sheet)
    if len(chosen) > 1:
        raise OncoError("Sélectionnez un seul patient à inclure", field="sélection")
    if chosen:
        row = chosen[0]
        patient = cells.as_text(row.get("ipp")) or f"#{cells.from_excel(row.get('id'))}"
    else:
        patient = cells.as_text(form.get("ipp"))
    if not patient:
        raise OncoError(
            "Sélectionnez le patient dans le tableau ou saisissez son IPP", field="patient"
        )
    protocol = bracket_number(form.get("protocole"))
    if not protocol:
        raise OncoError("Choisissez le protocole dans la liste", field="protocole")
    start = cells.as_iso_date(form.get("debut"))
    if not start:
        raise OncoError("Saisissez la date de début (J1)", field="début")
    cycles = cells.as_number(form.get("cycles"))
    inclusion = include_patient(
        ctx.conn,
        ctx.actor(),
        patient,
        protocol,
        start,
        cycles=int(cycles) if isinstance(cycles, (int, float)) else None,
    )
    ctx.refresh("Accueil", "Patients", lists=True)
    person = patient_by_id(ctx.conn, inclusion["patient_id"])
    return (
        f"{patient_label(person)} inclus(e) dans « {inclusion['protocol_name']} » : "
        f"{len(inclusion['cures'])} cure(s) planifiée(s), J1 le {fr_date(start)}"
    )


def fr_date(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"
