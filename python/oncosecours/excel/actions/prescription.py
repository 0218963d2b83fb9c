"""Prescription: compute a cure's doses (nothing written), then prescribe or transcribe it."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells
from oncosecours.excel.actions._common import leading_number, number_of

SHEET = "Prescription"
_SHOWN = re.compile(r"^Cure n° (\d+)")
_CARRIED = re.compile(r"^(-?[\d.,]+) % : (.*)$")


def _shown_cure(resume: Any) -> int | None:
    match = _SHOWN.match(cells.as_text(resume) or "")
    return int(match.group(1)) if match else None


def _carried(text: Any) -> tuple[float, str] | None:
    match = _CARRIED.match(cells.as_text(text) or "")
    if not match:
        return None
    return float(match.group(1).replace(",", ".")), match.group(2).strip()


def _options(ctx, form: dict[str, Any], cure_id: int) -> dict[str, Any]:
    """The service's options from the form and, when it shows this cure, the lines table."""
    options: dict[str, Any] = {}
    for key, option in (
        ("poids", "weight_kg"),
        ("taille", "height_cm"),
        ("creatinine", "creatinine_umol_l"),
    ):
        value = cells.as_number(form.get(key))
        if value is not None:
            options[option] = value
    creat_date = cells.as_iso_date(form.get("date_creatinine"))
    if creat_date:
        options["creatinine_date"] = creat_date
    if _shown_cure(form.get("resume")) != cure_id:
        return options
    reductions: dict[str, tuple[float, str]] = {}
    les: dict[str, str] = {}
    doses: dict[str, float] = {}
    for row in ctx.book.read_table(ctx.layout.sheet(SHEET)):
        line = number_of(row, "ligne")
        if line is None:
            continue
        key = str(line)
        pct = cells.as_number(row.get("reduction"))
        reason = cells.as_text(row.get("motif")) or ""
        if key not in reductions and pct is not None:
            carried = _carried(row.get("reprise"))
            if not (carried and abs(carried[0] - float(pct)) < 1e-9 and carried[1] == reason):
                reductions[key] = (pct, reason)
        elif key not in reductions and _carried(row.get("reprise")):
            reductions[key] = (0, "")  # the carried reduction was erased: cancel it
        code = cells.as_text(row.get("code_les"))
        if code and key not in les:
            les[key] = code.upper()
        dose = cells.as_number(row.get("dose"))
        computed = cells.as_number(row.get("dose_calculee"))
        if (
            isinstance(dose, (int, float))
            and isinstance(computed, (int, float))
            and abs(dose - computed) > 1e-9
            and key not in doses
        ):
            doses[key] = dose
    if reductions:
        options["reductions"] = reductions
    if les:
        options["les_codes"] = les
    if doses:
        options["doses"] = doses
    return options


def _day(ctx, form: dict[str, Any]) -> date:
    chosen = cells.as_iso_date(form.get("date"))
    if chosen:
        try:
            return date.fromisoformat(chosen)
        except ValueError:
            raise OncoError(f"Date illisible : « {chosen} »", field="date") from None
    return ctx.day


def _adjustments(line: dict[str, Any]) -> str:
    out = [f"{a['rule']} : {a['message']}" for a in json.loads(line["adjustments_json"] or "[]")]
    out += [f"remarque : {n}" for n in json.loads(line["notes_json"] or "[]")]
    if line["dose_overridden"]:
        out.append(f"dose saisie à la main (calculée {line['computed_dose']:g} {line['unit']})")
    return "\n".join(out)


def _alerts_for(line: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    mine = [
        f for f in findings if (f.get("valeurs") or {}).get("molecule") == line["molecule_name"]
    ]
    return "\n".join(
        f"{'⛔' if f['gravite'] == 'bloquant' else '⚠'} [{f['regle']}] {f['message']}" for f in mine
    )


def _rows(draft: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for line in draft["lines"]:
        basis = line["basis"] or ""
        if line["basis_value"] is not None:
            basis = f"{basis} {line['basis_value']:g}"
        carried = (
            f"{line['reduction_pct']:g} % : {line['reduction_reason'] or ''}"
            if line["reduction_source"] == "reprise"
            else None
        )
        rows.append(
            {
                "ligne": line["line_no"],
                "jour": f"J{line['day']}",
                "date": line["admin_date"],
                "molecule": line["molecule_name"],
                "dose_protocole": line["protocol_dose"],
                "unite_protocole": line["protocol_unit"],
                "base": basis,
                "dose_theorique": line["theoretical_dose"],
                "reduction": line["reduction_pct"] or None,
                "motif": line["reduction_reason"],
                "reprise": carried,
                "dose_calculee": line["computed_dose"],
                "dose": line["dose"],
                "unite": line["unit"],
                "code_les": line["les_code"],
                "ajustements": _adjustments(line),
                "alertes": _alerts_for(line, draft["findings"]),
            }
        )
    return rows


def _summary(draft: dict[str, Any], title: str) -> str:
    from oncosecours.store.circuit import patient_label
    from oncosecours.texts.circuit import head_block

    cure, inclusion = draft["cure"], draft["inclusion"]
    findings = draft["findings"]
    blocking = sum(1 for f in findings if f["gravite"] == "bloquant")
    planned = cure["planned_date"]
    text = (
        f"{title} — {patient_label(draft['patient'])} — {inclusion['protocol_name']} "
        f"C{cure['cycle']}, J1 {planned[8:10]}/{planned[5:7]}/{planned[:4]}\n"
        f"{head_block(draft['head'])}\n"
    )
    if findings:
        text += f"{len(findings)} alerte(s) dont {blocking} bloquante(s) : " + " ; ".join(
            f"[{f['regle']}] {f['message']}" for f in findings
        )
    else:
        text += "Contrôles : aucune alerte."
    return text


def _show(ctx, draft: dict[str, Any], title: str) -> None:
    sheet = ctx.layout.sheet(SHEET)
    ctx.book.write_table(sheet, _rows(draft))
    ctx.book.write_fields(sheet, {"resume": _summary(draft, title)})


def _cure(form: dict[str, Any]) -> int:
    if cells.from_excel(form.get("cure")) is None:
        raise OncoError("Choisissez la cure à prescrire (case « Cure »)", field="cure")
    return leading_number(form.get("cure"), "cure")


def compute(ctx) -> str:
    """« Calculer » -> services.prescription.preview_prescription (``prescribe preview``)."""
    from oncosecours.services.prescription import preview_prescription

    form = ctx.book.read_fields(ctx.layout.sheet(SHEET))
    cure_id = _cure(form)
    draft = preview_prescription(
        ctx.conn,
        cure_id,
        settings=ctx.settings,
        today=_day(ctx, form),
        **_options(ctx, form, cure_id),
    )
    _show(ctx, draft, f"Cure n° {cure_id} (calcul, non enregistré)")
    blocking = sum(1 for f in draft["findings"] if f["gravite"] == "bloquant")
    return (
        f"cure n° {cure_id} calculée : {len(draft['lines'])} ligne(s), "
        f"{len(draft['findings'])} alerte(s) dont {blocking} bloquante(s) — rien n'est enregistré"
    )


def save(ctx) -> str:
    """« Enregistrer » -> services.prescription.prescribe (``prescribe save``), or
    transcribe_prescription (``prescribe transcribe``) for a paper prescription."""
    from oncosecours.services import prescription as service

    form = ctx.book.read_fields(ctx.layout.sheet(SHEET))
    cure_id = _cure(form)
    options = _options(ctx, form, cure_id)
    day = _day(ctx, form)
    if cells.as_bool(form.get("transcription")):
        draft = service.transcribe_prescription(
            ctx.conn,
            ctx.actor(),
            cure_id,
            prescriber_name=cells.as_text(form.get("medecin_papier")) or "",
            paper_date=cells.as_iso_date(form.get("date_papier")) or "",
            comment=cells.as_text(form.get("commentaire")),
            settings=ctx.settings,
            today=day,
            **options,
        )
        what = "retranscrite"
    else:
        draft = service.prescribe(
            ctx.conn, ctx.actor(), cure_id, settings=ctx.settings, today=day, **options
        )
        what = "enregistrée"
    number = draft["prescription_id"]
    _show(ctx, draft, f"Cure n° {cure_id} — prescription n° {number} {what}")
    ctx.refresh("Accueil", "Validation", "Patients", "Feu vert", lists=True)
    return f"prescription n° {number} {what} (cure n° {cure_id}), à valider par un pharmacien"
