"""Stock: discarding leftovers from the Stock sheet."""

from __future__ import annotations

from typing import Any

from oncosecours.excel import cells
from oncosecours.excel.actions._common import run_batch, selected


def discard(ctx) -> str:
    """« Jeter le reliquat » -> services.stock.discard_leftover (``stock discard``)."""
    from oncosecours.services.stock import discard_leftover

    rows = selected(ctx, "Stock", "le ou les reliquats à jeter")
    done: list[str] = []

    def step(row: dict[str, Any]) -> None:
        number = cells.as_text(row.get("reliquat")) or ""
        discard_leftover(ctx.conn, ctx.actor(), number, cells.as_text(row.get("motif")) or "")
        done.append(number)

    run_batch(ctx, rows, "Stock", lambda r: f"reliquat {r.get('reliquat')}", step)
    ctx.refresh("Stock", "Journal")
    return "reliquat(s) jeté(s) : " + ", ".join(done)
