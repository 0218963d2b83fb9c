"""Production: the go-ahead, preparation with its ordonnancier number, fiches and labels."""

from __future__ import annotations

import re
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


def go_ahead(ctx) -> str:
    """« Feu vert » -> services.go_ahead.give_go_ahead / withhold_go_ahead (``goahead give`` /
    ``goahead withhold``), for the displayed day."""
    from oncosecours.services.go_ahead import give_go_ahead, withhold_go_ahead

    rows = selected(ctx, "Feu vert", "la ou les cures")
    given, withheld = [], []

    def step(row: dict[str, Any]) -> None:
        cure = number_of(row, "cure")
        if cure is None:
            raise OncoError("Ligne sans numéro de cure", field="cure")
        decision = (cells.as_text(row.get("decision")) or "Feu vert").lower()
        if decision.startswith("diff"):
            withhold_go_ahead(
                ctx.conn, ctx.actor(), cure, cells.as_text(row.get("motif")) or "", ctx.day
            )
            withheld.append(cure)
        else:
            give_go_ahead(ctx.conn, ctx.actor(), cure, ctx.day)
            given.append(cure)

    run_batch(
        ctx, rows, "Feu vert", lambda r: f"cure n° {r.get('cure')} ({r.get('patient')})", step
    )
    ctx.refresh("Accueil", "Feu vert", "Fabrication", "Administration")
    parts = []
    if given:
        parts.append(f"feu vert donné : {', '.join(f'cure n° {c}' for c in given)}")
    if withheld:
        parts.append(f"feu vert différé : {', '.join(f'cure n° {c}' for c in withheld)}")
    return " ; ".join(parts)


def lots(text: str | None) -> list:
    """``nature:produit:lot:péremption[:quantité]`` items separated by ``;`` or new lines."""
    from oncosecours.domain.production import parse_lot_text

    items = [p.strip() for p in re.split(r"[;\n]", text or "") if p.strip()]
    return [parse_lot_text(item, i) for i, item in enumerate(items)]


def stock_options(row: dict[str, Any]) -> dict[str, Any]:
    """Tare weighed, substitution product and leftovers chosen, typed in the Fabrication row."""
    tare = cells.as_number(row.get("tare"))
    if tare is not None and not isinstance(tare, (int, float)):
        raise OncoError(
            f"Tare illisible : « {row.get('tare')} » (en grammes, ex. 28,5)", field="tare"
        )
    chosen = [p.strip() for p in re.split(r"[;,\s]+", cells.as_text(row.get("reliquats")) or "")]
    return {
        "tare_g": tare,
        "product": cells.as_text(row.get("produit")),
        "leftovers": [p for p in chosen if p] or None,
    }


def prepare(ctx) -> str:
    """« Préparer » -> services.preparation.prepare (``prepare make``) for a line not prepared yet,
    or record_lots (``prepare lots``) for a prepared bag whose lots are typed in."""
    from oncosecours.services.preparation import prepare as make
    from oncosecours.services.preparation import record_lots

    rows = selected(ctx, "Fabrication", "la ou les lignes à préparer")
    numbers: list[str] = []

    def step(row: dict[str, Any]) -> None:
        typed = lots(cells.as_text(row.get("lots")))
        prep = number_of(row, "preparation")
        if prep is not None:
            if not typed:
                raise OncoError(
                    f"déjà préparée (n° {cells.as_text(row.get('ordonnancier'))}) : saisir ses "
                    "lots dans la colonne « Lots » pour les enregistrer",
                    rule="DEJA_FAIT",
                )
            sheet = record_lots(ctx.conn, ctx.actor(), prep, typed)
        else:
            line = number_of(row, "ligne")
            if line is None:
                raise OncoError("Ligne sans numéro", field="ligne")
            sheet = make(
                ctx.conn,
                ctx.actor(),
                line,
                lots=typed,
                settings=ctx.settings,
                **stock_options(row),
            )
        numbers.append(sheet["ord_number"])

    run_batch(
        ctx,
        rows,
        "Préparation",
        lambda r: f"ligne {r.get('ligne')} ({r.get('patient')}, {r.get('molecule')})",
        step,
    )
    ctx.refresh("Accueil", "Fabrication", "Libération", "Stock")
    return f"préparation(s) enregistrée(s) : {', '.join(numbers)}"


def _documents(ctx, kind: str, label: str) -> str:
    from oncosecours.documents.render import render_preparations

    sheet = ctx.layout.sheet("Fabrication")
    rows = ctx.book.selected_rows(sheet)
    if not rows:
        rows = ctx.book.read_table(sheet)
    refs = [p for p in (number_of(r, "preparation") for r in rows) if p is not None]
    if not refs:
        raise OncoError(
            "Aucune préparation parmi les lignes (sélectionnez des lignes déjà préparées)",
            field="sélection",
        )
    ctx.book.status(f"OncoSecours : {label} ({len(refs)})…")
    folder = documents_dir(ctx, ctx.day)
    result = render_preparations(
        ctx.conn,
        refs,
        kind,
        folder,
        ctx.settings,
        combined_name=f"{label.lower().replace(' ', '_')}_{ctx.day.isoformat()}_selection",
    )
    printable = next((p for p in result.pdf if p.stem == (result.combined or p).stem), None)
    open_file(printable or result.combined)
    note = f" ({result.pdf_error})" if result.pdf_error else ""
    return f"{label} : {len(refs)} préparation(s), fichiers dans {folder}{note}"


def worksheets(ctx) -> str:
    """« Fiches de fabrication » -> documents.render.render_preparations (``documents``)."""
    return _documents(ctx, "fabrication", "Fiches de fabrication")


def labels(ctx) -> str:
    """« Étiquettes » -> documents.render.render_preparations (``documents``)."""
    return _documents(ctx, "etiquette", "Étiquettes")
