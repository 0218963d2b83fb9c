"""Patients (identitovigilance) and their dated measurements.

A patient whose folded name and birth date match an existing one (crisis patients or backup) is
refused unless the user confirms it is a different person; that confirmation is its own audit event.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from oncosecours import clock
from oncosecours.domain import dosing
from oncosecours.domain.errors import OncoError
from oncosecours.domain.identity import (
    Identity,
    check_birth_date,
    check_ipp,
    check_name,
    identity_key,
    normalize_sex,
    parse_date,
    same_person_suspected,
)
from oncosecours.services.core import Action, Actor, action, squeeze
from oncosecours.store import audit
from oncosecours.store import patients as patient_store
from oncosecours.store.circuit import (
    MEASURE_FR,
    MEASURE_UNITS,
    latest_measurement,
    patient_by_id,
    patient_label,
    resolve_patient,
)

PATIENT_ROLES = ("prescripteur", "pharmacien", "infirmier")
"""Who creates, imports and updates patients (the physician, the pharmacist, the ward nurse)."""
MEASURE_ROLES = ("prescripteur", "pharmacien", "infirmier")

IDENTITY_FIELDS = ("ipp", "birth_name", "usual_name", "first_name", "birth_date", "sex", "ward")
FIELDS_FR = {
    "ipp": "IPP",
    "birth_name": "nom de naissance",
    "usual_name": "nom d'usage",
    "first_name": "prénom",
    "birth_date": "date de naissance",
    "sex": "sexe",
    "ward": "service",
}
_CHECKERS = {"weight": dosing.check_weight, "height": dosing.check_height}
_CHECKERS["creatinine"] = dosing.check_creatinine


def _today(today: date | None) -> date:
    return today or clock.today()


# --- deceased patients (rule PATIENT_DECEDE) ------------------------------------------------------


def _fr_day(iso_text: str) -> str:
    try:
        return date.fromisoformat(iso_text[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return iso_text


def backup_death(conn: sqlite3.Connection, patient: dict[str, Any]) -> dict[str, Any] | None:
    """The backup patient with a death date that a crisis patient is linked to, if any.

    Linked means: brought in from that backup patient (``ref_patient_id``), or carrying its IPP
    (a refresh may bring a patient created during the crisis). ``None`` when the backup knows
    no death for this patient.
    """
    ipp = (patient.get("ipp") or "").strip().upper() or None
    return patient_store.backup_death(conn, patient.get("ref_patient_id"), ipp)


def _deceased_error(who: str, death: dict[str, Any], doing: str) -> OncoError:
    return OncoError(
        f"{who} est décédé(e) le {_fr_day(str(death['death_date']))} selon la sauvegarde Chimio "
        f"(patient n° {death['patient_id']}) : {doing} refusé(e)",
        field="patient",
        rule="PATIENT_DECEDE",
        hint="Vérifier l'identité (homonyme, erreur d'IPP, mauvais dossier) : un patient décédé "
        "ne reçoit jamais de prescription",
    )


def refuse_deceased(conn: sqlite3.Connection, patient: dict[str, Any], doing: str) -> None:
    """Refuse (rule PATIENT_DECEDE, with the date) an action for a patient the backup gives as
    deceased. ``doing``: the action in French (``"inclusion"``, ``"prescription"``...)."""
    death = backup_death(conn, patient)
    if death is not None:
        raise _deceased_error(patient_label(patient), death, doing)


def _clean_identity(values: dict[str, Any], today: date) -> dict[str, Any]:
    clean = {
        "ipp": check_ipp(values.get("ipp")),
        "birth_name": check_name(values.get("birth_name"), "nom de naissance").upper(),
        "first_name": check_name(values.get("first_name"), "prénom"),
        "birth_date": check_birth_date(values.get("birth_date"), today).isoformat(),
        "sex": normalize_sex(values.get("sex")),
    }
    usual = values.get("usual_name")
    clean["usual_name"] = check_name(usual, "nom d'usage").upper() if usual else None
    ward = squeeze(values.get("ward"))
    clean["ward"] = ward or None
    return clean


def _identity(values: dict[str, Any]) -> Identity:
    return Identity(
        values.get("birth_name") or "",
        values.get("first_name") or "",
        str(values.get("birth_date") or ""),
        values.get("usual_name"),
    )


def _record_homonym_confirmation(
    act: Action, patient_id: int, homonyms: list[dict[str, Any]]
) -> None:
    """Audit that the user confirmed this patient is another person than its homonyms."""
    act.record(
        "patient",
        patient_id,
        None,
        {"confirmation": "autre personne que les homonymes", "homonymes": homonyms},
    )


def _homonyms(
    conn: sqlite3.Connection,
    values: dict[str, Any],
    exclude_id: int | None = None,
    exclude_ref: str | None = None,
) -> list[dict[str, Any]]:
    """Crisis patients, and backup patients not yet brought in, that may be the same person."""
    me = _identity(values)
    found = []
    for row in patient_store.born_on(conn, values["birth_date"], exclude_id):
        if same_person_suspected(me, _identity(row)):
            found.append({"origine": "crise", "label": patient_label(row), "id": row["id"]})
    for row in patient_store.backup_born_on(conn, values["birth_date"], exclude_ref):
        if same_person_suspected(me, _identity(row)):
            death = row["death_date"]
            found.append(
                {
                    "origine": "sauvegarde",
                    "label": f"{row['birth_name']} {row['first_name']}, né(e) le "
                    f"{row['birth_date'][:10]}, IPP {row['ipp'] or row['patient_id']}"
                    + (f", DÉCÉDÉ(E) le {_fr_day(str(death))}" if death else ""),
                    "id": row["patient_id"],
                }
            )
    return found


def _guard_homonyms(
    act_conn: sqlite3.Connection,
    values: dict[str, Any],
    confirm: bool,
    exclude_id: int | None = None,
    exclude_ref: str | None = None,
) -> list[dict[str, Any]]:
    homonyms = _homonyms(act_conn, values, exclude_id, exclude_ref)
    if homonyms and not confirm:
        listed = " ; ".join(h["label"] + f" [{h['origine']}]" for h in homonyms)
        raise OncoError(
            f"Homonyme possible : {listed}",
            rule="HOMONYME",
            field="identité",
            hint="S'il s'agit bien d'une autre personne, confirmer (option --other-person en ligne de commande) ; "
            "sinon utiliser le dossier existant",
        )
    return homonyms


def _guard_ipp(conn: sqlite3.Connection, ipp: str | None, exclude_id: int | None = None) -> None:
    if not ipp:
        return
    row = patient_store.with_ipp(conn, ipp, exclude_id)
    if row is not None:
        raise OncoError(
            f"IPP {ipp} déjà attribué à {patient_label(row)}", field="IPP", rule="IPP_DOUBLON"
        )


def _check_measure(kind: str, value: object) -> float:
    if kind not in _CHECKERS:
        raise OncoError(
            f"Mesure inconnue : « {kind} » (poids, taille ou créatinine)", field="mesure"
        )
    return _CHECKERS[kind](value)


def _measure_date(measured_on: object, today: date, birth_date: str) -> str:
    when = parse_date(measured_on, "date de mesure") if measured_on else today
    if when > today:
        raise OncoError(
            f"Date de mesure dans le futur : {when.isoformat()}", field="date de mesure"
        )
    if when.isoformat() < birth_date:
        raise OncoError(
            f"Date de mesure antérieure à la naissance : {when.isoformat()}", field="date de mesure"
        )
    return when.isoformat()


def _insert_measure(
    act, patient_id: int, kind: str, value: float, measured_on: str
) -> dict[str, Any]:
    measure_id = patient_store.insert_measurement(
        act.conn, patient_id, kind, value, measured_on, audit.now_iso(), act.actor.id
    )
    after = {
        "patient_id": patient_id,
        "mesure": MEASURE_FR[kind],
        "valeur": value,
        "unité": MEASURE_UNITS[kind],
        "date": measured_on,
    }
    act.record("mesure", measure_id, None, after)
    return {"id": measure_id, **after}


def _measures_from(
    weight_kg: object, height_cm: object, creatinine_umol_l: object
) -> list[tuple[str, float]]:
    wanted = (("weight", weight_kg), ("height", height_cm), ("creatinine", creatinine_umol_l))
    return [(kind, _check_measure(kind, value)) for kind, value in wanted if value is not None]


def create_patient(
    conn: sqlite3.Connection,
    actor: Actor,
    *,
    birth_name: str,
    first_name: str,
    birth_date: str | date,
    sex: str,
    ipp: str | None = None,
    usual_name: str | None = None,
    ward: str | None = None,
    weight_kg: float | None = None,
    height_cm: float | None = None,
    creatinine_umol_l: float | None = None,
    measured_on: str | date | None = None,
    confirm_homonym: bool = False,
    today: date | None = None,
) -> dict[str, Any]:
    """Create a crisis patient (and first measurements). Returns the patient row."""
    day = _today(today)
    values = _clean_identity(
        {
            "ipp": ipp,
            "birth_name": birth_name,
            "first_name": first_name,
            "birth_date": birth_date,
            "sex": sex,
            "usual_name": usual_name,
            "ward": ward,
        },
        day,
    )
    measures = _measures_from(weight_kg, height_cm, creatinine_umol_l)
    with action(conn, actor, "créer_patient", PATIENT_ROLES, "créer un patient") as act:
        _guard_ipp(conn, values["ipp"])
        if values["ipp"] and patient_store.in_backup(conn, values["ipp"]):
            raise OncoError(
                f"L'IPP {values['ipp']} existe dans la sauvegarde Chimio",
                field="IPP",
                rule="PATIENT_SAUVEGARDE",
                hint=f"Reprendre ce patient avec « oncosecours patient import --ipp {values['ipp']} »",
            )
        homonyms = _guard_homonyms(conn, values, confirm_homonym)
        patient_id = _insert_patient(act, values, "crise", None, bool(homonyms))
        when = _measure_date(measured_on, day, values["birth_date"])
        for kind, value in measures:
            _insert_measure(act, patient_id, kind, value, when)
    return patient_by_id(conn, patient_id)


def _insert_patient(
    act, values: dict[str, Any], source: str, ref_id: str | None, homonym: bool
) -> int:
    key = identity_key(values["birth_name"], values["first_name"], values["birth_date"])
    patient_id = patient_store.insert_patient(
        act.conn,
        {
            **{
                f: values[f]
                for f in ("ipp", "birth_name", "usual_name", "first_name", "birth_date", "sex")
            },
            "ward": values["ward"],
            "source": source,
            "ref_patient_id": ref_id,
            "folded_key": key,
            "homonym_confirmed": int(homonym),
            "created_at": audit.now_iso(),
            "created_by": act.actor.id,
        },
    )
    act.record("patient", patient_id, None, {**values, "source": source, "ref": ref_id})
    if homonym:
        _record_homonym_confirmation(
            act, patient_id, _homonyms(act.conn, values, exclude_id=patient_id)
        )
    return patient_id


def import_patient(
    conn: sqlite3.Connection,
    actor: Actor,
    key: str,
    *,
    birth_name: str | None = None,
    first_name: str | None = None,
    usual_name: str | None = None,
    ward: str | None = None,
    confirm_homonym: bool = False,
    today: date | None = None,
) -> dict[str, Any]:
    """Bring a backup patient (by IPP or backup number) into the crisis patients.

    The backup's identity is kept; names missing from the backup must be given, and a given
    name that contradicts the backup is refused (identitovigilance).
    """
    day = _today(today)
    text = str(key or "").strip()
    ref = patient_store.backup_patient(conn, text)
    if ref is None:
        raise OncoError(
            f"Patient absent de la sauvegarde : « {text} »",
            field="IPP",
            rule="PATIENT_INCONNU",
            hint="Vérifier l'IPP, ou créer le patient avec « oncosecours patient add »",
        )
    if ref.get("death_date") and str(ref["death_date"]).strip():
        shown = " ".join(
            str(part) for part in (ref.get("birth_name"), ref.get("first_name")) if part
        )
        who = f"Le patient {shown or ref['patient_id']}, né(e) le {(ref.get('birth_date') or '?')[:10]}"
        raise _deceased_error(who, ref, "reprise du dossier")
    given = {"birth_name": birth_name, "first_name": first_name, "usual_name": usual_name}
    merged: dict[str, Any] = {}
    for field, value in given.items():
        stored = ref.get(field)
        if stored and value and identity_key(stored, "", "") != identity_key(value, "", ""):
            raise OncoError(
                f"{FIELDS_FR[field].capitalize()} saisi « {value} » différent de la sauvegarde "
                f"« {stored} »",
                field=FIELDS_FR[field],
                rule="IDENTITE_DISCORDANTE",
            )
        merged[field] = stored or value
    values = _clean_identity(
        {
            **merged,
            "ipp": ref.get("ipp") or ref["patient_id"],
            "birth_date": (ref.get("birth_date") or "")[:10],
            "sex": ref.get("sex"),
            "ward": ward,
        },
        day,
    )
    with action(conn, actor, "reprendre_patient", PATIENT_ROLES, "reprendre un patient") as act:
        existing = patient_store.from_backup_patient(conn, ref["patient_id"])
        if existing is not None:
            raise OncoError(
                f"Patient déjà repris de la sauvegarde : {patient_label(existing)}",
                rule="DEJA_FAIT",
            )
        _guard_ipp(conn, values["ipp"])
        homonyms = _guard_homonyms(conn, values, confirm_homonym, exclude_ref=ref["patient_id"])
        patient_id = _insert_patient(act, values, "sauvegarde", ref["patient_id"], bool(homonyms))
    return patient_by_id(conn, patient_id)


def update_patient(
    conn: sqlite3.Connection,
    actor: Actor,
    patient: object,
    *,
    changes: dict[str, Any],
    confirm_homonym: bool = False,
    today: date | None = None,
) -> dict[str, Any]:
    """Change identity fields (keys of IDENTITY_FIELDS); before/after values are audited."""
    unknown = set(changes) - set(IDENTITY_FIELDS)
    if unknown:
        raise OncoError(f"Champ non modifiable : {', '.join(sorted(unknown))}", field="champ")
    day = _today(today)
    with action(conn, actor, "modifier_patient", PATIENT_ROLES, "modifier un patient") as act:
        current = resolve_patient(conn, patient)
        before = {f: current[f] for f in IDENTITY_FIELDS}
        values = _clean_identity({**before, **changes}, day)
        diff = {f: values[f] for f in IDENTITY_FIELDS if values[f] != before[f]}
        if not diff:
            raise OncoError(
                "Aucune modification : les valeurs saisies sont déjà celles du dossier",
                rule="DEJA_FAIT",
            )
        _guard_ipp(conn, values["ipp"], exclude_id=current["id"])
        identity_changed = any(
            f in diff for f in ("birth_name", "usual_name", "first_name", "birth_date")
        )
        homonyms = (
            _guard_homonyms(conn, values, confirm_homonym, exclude_id=current["id"])
            if identity_changed
            else []
        )
        key = identity_key(values["birth_name"], values["first_name"], values["birth_date"])
        patient_store.update_identity(
            conn, current["id"], values, key, bool(homonyms), audit.now_iso()
        )
        act.record("patient", current["id"], {f: before[f] for f in diff}, diff)
        if homonyms:
            _record_homonym_confirmation(act, current["id"], homonyms)
    return patient_by_id(conn, current["id"])


def record_measurements(
    conn: sqlite3.Connection,
    actor: Actor,
    patient: object,
    *,
    weight_kg: float | None = None,
    height_cm: float | None = None,
    creatinine_umol_l: float | None = None,
    measured_on: str | date | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Record dated measurements (plausibility checked); the same value twice is refused."""
    day = _today(today)
    measures = _measures_from(weight_kg, height_cm, creatinine_umol_l)
    if not measures:
        raise OncoError("Aucune mesure saisie (poids, taille ou créatinine)", field="mesure")
    with action(conn, actor, "saisir_mesure", MEASURE_ROLES, "saisir une mesure") as act:
        current = resolve_patient(conn, patient)
        when = _measure_date(measured_on, day, current["birth_date"])
        saved = []
        for kind, value in measures:
            last = latest_measurement(conn, current["id"], kind)
            if last and last["measured_on"] == when and last["value"] == value:
                raise OncoError(
                    f"{MEASURE_FR[kind].capitalize()} {value:g} {MEASURE_UNITS[kind]} du {when} "
                    "déjà enregistré(e) (double clic ?)",
                    rule="DEJA_FAIT",
                    field=MEASURE_FR[kind],
                )
            saved.append(_insert_measure(act, current["id"], kind, value, when))
    return saved
