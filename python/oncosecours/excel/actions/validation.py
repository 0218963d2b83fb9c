"""Pharmaceutical validation of the selected prescriptions."""

from __future__ import annotations

import re
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells
from oncosecours.excel.actions._common import number_of, run_batch, selected

SHEET = "Validation"
_RULE_TEXT = re.compile(r"^\s*([A-Z][A-Z0-9_]+)\s*:\s*(.+)$")


def justifications(text: str | None, blocking: list[str]) -> dict[str, str]:
    """The Justification cell as ``{RULE: text}``.

    ``RULE : texte`` lines (or ``;``-separated parts) justify that rule; plain text justifies
    every blocking rule that fired. Nothing is invented: no text, no justification."""
    if not text:
        return {}
    parts = [p for p in re.split(r"[;\n]", text) if p.strip()]
    given: dict[str, str] = {}
    loose: list[str] = []
    for part in parts:
        match = _RULE_TEXT.match(part)
        if match and match.group(1) in blocking:
            given[match.group(1)] = match.group(2).strip()
        else:
            loose.append(part.strip())
    if loose:
        shared = " ; ".join(loose)
        for rule in blocking:
            given.setdefault(rule, shared)
    return given


def _prescription(row: dict[str, Any]) -> int:
    number = number_of(row, "prescription")
    if number is None:
        raise OncoError("Ligne sans numéro de prescription", field="prescription")
    return number


def _name(row: dict[str, Any]) -> str:
    return f"prescription n° {cells.from_excel(row.get('prescription'))} ({row.get('patient')})"


def validate(ctx) -> str:
    """« Valider » -> services.validation.validate_prescription (``validate accept``)."""
    from oncosecours.domain import checks
    from oncosecours.services.validation import findings_for, validate_prescription

    rows = selected(ctx, SHEET, "la ou les prescriptions à valider")

    def step(row: dict[str, Any]) -> int:
        number = _prescription(row)
        found = findings_for(ctx.conn, number, settings=ctx.settings, today=ctx.day)
        blocking = checks.blocking_rules(found)
        validate_prescription(
            ctx.conn,
            ctx.actor(),
            number,
            justifications=justifications(cells.as_text(row.get("justification")), blocking),
            comment=cells.as_text(row.get("commentaire")),
            settings=ctx.settings,
            today=ctx.day,
        )
        return number

    done = run_batch(ctx, rows, "Validation", _name, step)
    ctx.refresh("Accueil", "Validation", "Feu vert")
    return f"prescription(s) validée(s) : {', '.join(f'n° {n}' for n in done)}"


def refuse(ctx) -> str:
    """« Refuser » -> services.validation.refuse_prescription (``validate refuse``)."""
    from oncosecours.services.validation import refuse_prescription

    rows = selected(ctx, SHEET, "la ou les prescriptions à refuser")

    def step(row: dict[str, Any]) -> int:
        number = _prescription(row)
        comment = cells.as_text(row.get("commentaire")) or cells.as_text(row.get("justification"))
        refuse_prescription(
            ctx.conn,
            ctx.actor(),
            number,
            comment=comment or "",
            settings=ctx.settings,
            today=ctx.day,
        )
        return number

    done = run_batch(ctx, rows, "Refus", _name, step)
    ctx.refresh("Accueil", "Validation", "Feu vert", "Patients", lists=True)
    return f"prescription(s) refusée(s) : {', '.join(f'n° {n}' for n in done)}"
