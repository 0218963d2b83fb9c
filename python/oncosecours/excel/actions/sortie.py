"""Sortie de crise: re-entry into Chimio, billing, reconciliation, archive, closing.

Files are written in ``sortie\\...`` beside the workbook; each button calls the same service as
its ``oncosecours sortie`` command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells
from oncosecours.excel.actions._common import run_batch, selected


def _folder(ctx, part: str) -> Path:
    folder = ctx.book.folder / "sortie" / part / datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def reentry_export(ctx) -> str:
    """« Reprise Chimio » -> services.sortie.reentry.export_csv + documents.dossier (same as
    ``oncosecours sortie reentry export``)."""
    from oncosecours.documents.dossier import render_dossiers
    from oncosecours.services.sortie.records import gather
    from oncosecours.services.sortie.reentry import export_csv

    records = gather(ctx.conn)
    out = _folder(ctx, "reprise")
    written = export_csv(records, out)
    if records.patients:
        render_dossiers(records, out / "dossiers", ctx.settings, pdf=False)
    ctx.book.write_fields(ctx.layout.sheet("Reprise"), {"dossier": str(out)})
    ctx.refresh("Reprise")
    ctx.book.activate("Reprise")
    return (
        f"reprise écrite dans {out} : {len(written)} fichier(s) CSV, "
        f"{len(records.patients)} dossier(s) patient"
    )


def reentry_tick(ctx) -> str:
    """« Pointer la reprise » -> services.sortie.reentry.tick (``sortie reentry tick``)."""
    from oncosecours.services.sortie.reentry import tick

    rows = selected(ctx, "Reprise", "les éléments ressaisis dans Chimio")

    def step(row: dict[str, Any]) -> str:
        key = cells.as_text(row.get("element"))
        done = tick(ctx.conn, ctx.actor(), [key], cells.as_text(row.get("commentaire")))
        return done[0]["key"]

    done = run_batch(ctx, rows, "Pointage", lambda r: cells.as_text(r.get("element")), step)
    ctx.refresh("Reprise")
    return f"pointé(s) : {', '.join(done)}"


def billing(ctx) -> str:
    """« Facturation liste en sus » -> services.sortie.billing.export_billing (``sortie billing``)."""
    from oncosecours.services.sortie.billing import export_billing

    out = _folder(ctx, "facturation")
    result = export_billing(ctx.conn, ctx.actor(), out, settings=ctx.settings)
    if result["refused"]:
        ctx.book.alert(
            f"{len(result['refused'])} préparation(s) REFUSÉE(S), non facturée(s) :\n"
            + "\n".join(f"• {r['numero_ordonnancier']} {r['patient']} : {r['raison']}"
                        for r in result["refused"]),
            title="OncoSecours — facturation",
            critical=True,
        )  # fmt: skip
    ctx.refresh("Rapprochement")
    return (
        f"facturation : {result['lignes']} ligne(s), {len(result['refused'])} refusée(s), "
        f"fichier {result['path']}"
    )


def reconcile(ctx) -> str:
    """« Rapprochement » -> services.sortie.reconcile.breaks (``sortie reconcile``)."""
    ctx.refresh("Rapprochement")
    ctx.book.activate("Rapprochement")
    from oncosecours.services.sortie.reconcile import breaks

    report = breaks(ctx.conn)
    return f"{len(report['ruptures'])} rupture(s), dont {report['ouvertes']} à justifier"


def justify(ctx) -> str:
    """« Justifier la rupture » -> services.sortie.reconcile.justify (``sortie justify``)."""
    from oncosecours.services.sortie.reconcile import justify as service

    rows = selected(ctx, "Rapprochement", "la ou les ruptures justifiées")

    def step(row: dict[str, Any]) -> str:
        text = cells.as_text(row.get("justification"))
        if not text:
            raise OncoError("Écrivez la justification (colonne « Justification »)",
                            field="justification")  # fmt: skip
        done = service(ctx.conn, ctx.actor(), cells.as_text(row.get("rupture")), text)
        return f"{done['regle']}:{done['cle']}"

    done = run_batch(ctx, rows, "Justification", lambda r: cells.as_text(r.get("rupture")), step)
    ctx.refresh("Rapprochement")
    return f"justifiée(s) : {', '.join(done)}"


def archive(ctx) -> str:
    """« Archiver » -> services.sortie.archive.write_archive (``sortie archive``)."""
    from oncosecours.documents.dossier import archive_ordonnancier
    from oncosecours.documents.pdf import soffice
    from oncosecours.services.sortie.archive import write_archive

    documents = archive_ordonnancier(ctx.conn, ctx.settings) if soffice() else None
    result = write_archive(ctx.conn, ctx.book.folder / "sortie" / "archives", documents=documents)
    ctx.book.write_fields(ctx.layout.sheet("Reprise"), {"dossier": result["dossier"]})
    return (
        f"archive écrite : {result['dossier']} ({result['fichiers']} fichiers"
        + (", ordonnancier PDF/A" if result["pdf"] else ", sans PDF : LibreOffice absent")
        + ")"
    )


def close(ctx) -> str:
    """« Clore la crise » -> services.sortie.closing.close_crisis (``sortie close``)."""
    from oncosecours.services.sortie.closing import close_crisis

    sheet = ctx.layout.sheet("Reprise")
    typed = cells.as_text(ctx.book.read_fields(sheet, ["confirmation"]).get("confirmation"))
    if (typed or "").strip().upper() != "CLORE":
        raise OncoError("Pour clore la crise, écrivez CLORE dans la case « Clôture » de la "
                        "feuille Reprise, puis recommencez", field="confirmation")  # fmt: skip
    done = close_crisis(ctx.conn, ctx.actor())
    ctx.book.write_fields(sheet, {"confirmation": None})
    ctx.refresh("Reprise")
    return f"crise close par {done['by']} : le registre est en lecture seule"
