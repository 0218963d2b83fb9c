"""What the handlers share: the selected rows, a batch of service calls with progress, files."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells

_LEADING_NUMBER = re.compile(r"^\s*#?(\d+)")
_BRACKET_NUMBER = re.compile(r"\[(\d+)\]\s*$")


def selected(ctx, sheet_name: str, what: str) -> list[dict[str, Any]]:
    """The selected rows of a sheet's table; refused in French when nothing is selected there."""
    sheet = ctx.layout.sheet(sheet_name)
    rows = ctx.book.selected_rows(sheet)
    if not rows:
        raise OncoError(
            f"Sélectionnez {what} dans le tableau de la feuille « {sheet_name} » "
            "(une ou plusieurs lignes), puis recommencez",
            field="sélection",
        )
    return rows


def leading_number(value: Any, what: str) -> int:
    """``12 — DUPONT ...`` (a drop-down choice) or ``12`` -> 12."""
    value = cells.from_excel(value)
    if isinstance(value, int):
        return value
    match = _LEADING_NUMBER.match(str(value or ""))
    if not match:
        raise OncoError(f"Choisissez {what} dans la liste", field=what)
    return int(match.group(1))


def bracket_number(value: Any) -> str | None:
    """``FOLFOX 4 [123]`` (a drop-down choice) -> ``123``; other text is returned as typed."""
    text = cells.as_text(value)
    if not text:
        return None
    match = _BRACKET_NUMBER.search(text)
    return match.group(1) if match else text


def number_of(row: dict[str, Any], key: str) -> int | None:
    value = cells.from_excel(row.get(key))
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return leading_number(value, key)


def run_batch(
    ctx, rows: list[dict[str, Any]], label: str, name_of: Callable, step: Callable
) -> list[Any]:
    """Run ``step(row)`` for each row, each in its own service transaction, with progress.

    A refused row does not stop the others; the refusals are shown together. When every row is
    refused, the whole action is a refusal.
    """
    ctx.actor()  # identification first: a wrong PIN stops everything before any row
    done, refused = [], []
    total = len(rows)
    for index, row in enumerate(rows, start=1):
        if total > 1:
            ctx.book.status(f"OncoSecours : {label} {index}/{total}…")
        try:
            done.append(step(row))
        except OncoError as error:
            refused.append(f"• {name_of(row)} : {error}")
    if refused and not done:
        raise OncoError("\n".join(refused) if total > 1 else refused[0][2:])
    if refused:
        ctx.book.alert(
            f"{label} : {len(done)} enregistrée(s), {len(refused)} refusée(s) :\n"
            + "\n".join(refused),
            title="OncoSecours — en partie refusé",
            critical=True,
        )
    return done


def documents_dir(ctx, day) -> Path:
    """``documents/AAAA-MM-JJ`` beside the workbook."""
    folder = ctx.book.folder / "documents" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_file(path: Path | None) -> None:
    """Open a produced document with its Windows application (nothing elsewhere)."""
    starter = getattr(os, "startfile", None)
    if path is not None and starter is not None:
        try:
            starter(str(path))
        except OSError:
            pass
