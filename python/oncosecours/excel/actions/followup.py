"""After the hood: control, pharmaceutical release, dispensing, administration, care plan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells
from oncosecours.excel.actions._common import (
    documents_dir,
    number_of,
    open_file,
    run_batch,
    selected,
)


def _prep(row: dict[str, Any]) -> int:
    number = number_of(row, "preparation")
    if number is None:
        raise OncoError("Ligne sans préparation", field="préparation")
    return number


def _name(row: dict[str, Any]) -> str:
    number = cells.as_text(row.get("ordonnancier")) or f"ligne {row.get('ligne')}"
    return f"{number} ({row.get('patient')}, {row.get('molecule')})"


def control(ctx) -> str:
    """« Contrôler » -> services.release.control_preparation (``control``)."""
    from oncosecours.services.release import control_preparation

    rows = selected(ctx, "Libération", "la ou les poches contrôlées")

    def step(row: dict[str, Any]) -> str:
        weight = cells.as_number(row.get("poids_mesure"))
        if isinstance(weight, str) and ";" in weight:  # a dose in several bags: « 281,2 ; 280,9 »
            weight = [cells.as_number(part) for part in weight.split(";") if part.strip()]
        if weight is None:
            raise OncoError("Saisissez le poids mesuré (g)", field="poids mesuré")
        visual = cells.as_text(row.get("controle_visuel"))
        if visual is None:
            raise OncoError("Indiquez si le contrôle visuel est conforme (Oui/Non)", field="visuel")
        result = control_preparation(
            ctx.conn,
            ctx.actor(),
            _prep(row),
            weight,
            visual_ok=cells.as_bool(visual),
            double_checker=cells.as_text(row.get("double_controle")),
            comment=cells.as_text(row.get("commentaire")),
        )
        flags = f" ({', '.join(result['flags'])})" if result["flags"] else ""
        return f"{result['number']}{flags}"

    done = run_batch(ctx, rows, "Contrôle", _name, step)
    ctx.refresh("Accueil", "Libération", "Fabrication")
    return f"contrôle enregistré : {', '.join(done)}"


def release(ctx) -> str:
    """« Libérer » -> services.release.release_preparation / reject_preparation (``release``)."""
    from oncosecours.services.release import reject_preparation, release_preparation

    rows = selected(ctx, "Libération", "la ou les poches à libérer")
    released, rejected = [], []

    def step(row: dict[str, Any]) -> None:
        decision = (cells.as_text(row.get("decision")) or "Libérer").lower()
        text = cells.as_text(row.get("justification"))
        if decision.startswith("refus"):
            result = reject_preparation(ctx.conn, ctx.actor(), _prep(row), text or "")
            rejected.append(result["number"])
        else:
            result = release_preparation(ctx.conn, ctx.actor(), _prep(row), justification=text)
            released.append(result["number"])

    run_batch(ctx, rows, "Libération", _name, step)
    ctx.refresh("Accueil", "Libération", "Dispensation", "Fabrication")
    parts = []
    if released:
        parts.append(f"libérée(s) : {', '.join(released)}")
    if rejected:
        parts.append(f"refusée(s) : {', '.join(rejected)}")
    return " ; ".join(parts)


def dispense(ctx) -> str:
    """« Dispenser » -> services.dispensing.dispense (``dispense``)."""
    from oncosecours.services.dispensing import dispense as service

    rows = selected(ctx, "Dispensation", "la ou les poches remises au service")

    def step(row: dict[str, Any]) -> str:
        service(
            ctx.conn,
            ctx.actor(),
            _prep(row),
            recipient=cells.as_text(row.get("recu_par")) or "",
            ward=cells.as_text(row.get("service")),
        )
        return cells.as_text(row.get("ordonnancier")) or str(_prep(row))

    done = run_batch(ctx, rows, "Dispensation", _name, step)
    ctx.refresh("Accueil", "Dispensation", "Administration")
    return f"dispensée(s) : {', '.join(done)}"


INCIDENTS = {"arrêt": "arret", "arret": "arret", "extravasation": "extravasation"}
INCIDENTS |= {"réaction": "reaction", "reaction": "reaction"}


def administer(ctx) -> str:
    """« Administrer » -> services.administration.administer (``administer``)."""
    from oncosecours.services.administration import administer as service

    rows = selected(ctx, "Administration", "la ou les lignes administrées")

    def step(row: dict[str, Any]) -> str:
        start = _moment(row.get("debut"))
        end = _moment(row.get("fin"))
        if start is None or end is None:
            raise OncoError("Saisissez le début et la fin de l'administration", field="début")
        incident = (cells.as_text(row.get("incident")) or "aucun").lower()
        comment = cells.as_text(row.get("commentaire"))
        incidents = []
        if incident != "aucun":
            kind = INCIDENTS.get(incident)
            if kind is None:
                raise OncoError(f"Incident inconnu : « {incident} »", field="incident")
            incidents.append({"kind": kind, "comment": comment or ""})
        prep = number_of(row, "preparation")
        target = {"preparation": prep} if prep is not None else {"line_id": number_of(row, "ligne")}
        service(
            ctx.conn,
            ctx.actor(),
            started_at=start,
            ended_at=end,
            incidents=incidents,
            justification=cells.as_text(row.get("justification")),
            comment=None if incidents else comment,
            **target,
        )
        return cells.as_text(row.get("ordonnancier")) or f"ligne {row.get('ligne')}"

    done = run_batch(ctx, rows, "Administration", _name, step)
    ctx.refresh("Accueil", "Administration")
    return f"administration enregistrée : {', '.join(done)}"


def _moment(value: Any) -> Any:
    """A date-time cell as the service takes it: a datetime as is (seconds kept), else text
    (``14:05``, ``02/03/2026 14:05``...) that the service parses with the line's day."""
    value = cells.from_excel(value)
    if value is None or isinstance(value, datetime):
        return value
    return cells.as_text(value)


def care_plan(ctx) -> str:
    """« Plan de soins » -> documents.render.render_care_plans (``documents``): the selected
    patient's plan for the displayed day, or every patient's when nothing is selected."""
    from oncosecours.documents.render import render_care_plans

    sheet = ctx.layout.sheet("Administration")
    rows = ctx.book.selected_rows(sheet)
    patients = sorted({cells.as_text(r.get("ipp")) for r in rows if cells.as_text(r.get("ipp"))})
    if len(patients) > 1:
        raise OncoError("Sélectionnez les lignes d'un seul patient", field="sélection")
    ctx.book.status("OncoSecours : plans de soins…")
    folder = documents_dir(ctx, ctx.day)
    result = render_care_plans(
        ctx.conn, ctx.day, folder, ctx.settings, patient=patients[0] if patients else None
    )
    first = result.pdf[0] if result.pdf else (result.combined or result.docx[0])
    open_file(first)
    who = f"patient {patients[0]}" if patients else f"{len(result.docx)} patient(s)"
    note = f" ({result.pdf_error})" if result.pdf_error else ""
    return f"plan de soins ({who}) dans {folder}{note}"
