"""The Stock sheet: leftovers on the shelf (usable, then past their use-by) and the day's
shortage warnings, from services.stock.stock_view (no SQL here)."""

from __future__ import annotations

import sqlite3

from oncosecours.excel.views import SheetContent, ViewContext


def stock(conn: sqlite3.Connection, ctx: ViewContext) -> SheetContent:
    from oncosecours.services.stock import stock_view

    view = stock_view(conn, ctx.day)
    rows = []
    for item, status in [(i, "utilisable") for i in view["reliquats"]] + [
        (i, "PÉRIMÉ : à jeter") for i in view["reliquats_perimes"]
    ]:
        rows.append(
            {
                "reliquat": item["reliquat"],
                "produit": item["produit"],
                "lot": item["lot"] or "À TRACER",
                "quantite": item["quantite_restante"],
                "unite": item["unite"],
                "volume_ml": item["volume_restant_ml"],
                "ouvert_le": item["ouvert_le"],
                "utiliser_avant": item["a_utiliser_avant"],
                "statut": status if item["lot"] else "lot à tracer",
                "motif": None,
            }
        )
    alerts = [need["alerte"] for need in view["besoins"] if need.get("alerte")]
    return SheetContent(fields={"ruptures": " | ".join(alerts) or "aucune"}, rows=rows)
