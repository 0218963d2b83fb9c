"""Données: reload the Chimio backups into the store."""

from __future__ import annotations

from pathlib import Path

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells


def refresh(ctx) -> str:
    """« Actualiser les sauvegardes » -> services.refresh.refresh_snapshot (``refresh``)."""
    from oncosecours.services.refresh import refresh_snapshot

    named = cells.as_text(
        ctx.book.read_fields(ctx.layout.sheet("Paramètres"), ["sauvegardes"]).get("sauvegardes")
    )
    if not named:
        raise OncoError(
            "Indiquez le dossier des sauvegardes Chimio dans la feuille Paramètres",
            field="dossier des sauvegardes",
        )
    folder = Path(named)
    if not folder.is_absolute():
        folder = ctx.book.folder / folder
    queries = ctx.book.folder / "queries"
    result = refresh_snapshot(
        ctx.conn,
        ctx.actor(),
        folder,
        settings=ctx.settings,
        queries_dir=queries if queries.is_dir() else None,
        progress=lambda message: ctx.book.status(f"OncoSecours : {message.strip()}"),
        today=ctx.day,
    )
    ctx.refresh("Accueil", *[s.name for s in ctx.layout.sheets if s.table], lists=True)
    counts = ", ".join(f"{n} {table}" for table, n in result["tables"].items())
    message = f"sauvegarde du {result['backup_date']} chargée ({counts})"
    if result["warnings"]:
        ctx.book.alert(
            "Sauvegarde chargée, avec des avertissements :\n• " + "\n• ".join(result["warnings"]),
            title="OncoSecours — sauvegardes",
            critical=bool(result["stale"]),
        )
    return message
