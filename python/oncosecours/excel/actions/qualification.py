"""« Qualifier ce poste » (after the VBA self-test) -> qualification.run.qualify, the same
service as ``oncosecours qualification run``."""

from __future__ import annotations


def qualify(ctx) -> str:
    """IQ + OQ on this PC with the self-test's results; the report goes beside the store."""
    from oncosecours.qualification.excel_results import default_path
    from oncosecours.qualification.run import actor_label, report_folder
    from oncosecours.qualification.run import qualify as service

    who = actor_label(ctx.actor())
    kit = ctx.book.folder
    ctx.book.status("OncoSecours : qualification en cours (quelques dizaines de secondes)…")
    result = service(kit, who, report_folder(ctx.store_path), excel_results=default_path(kit),
                     settings=ctx.settings)  # fmt: skip
    record, files = result["record"], result["fichiers"]
    shown = files["pdf"] or files["docx"]
    message = f"qualification {record['verdict']} ({record['resume']}) : rapport {shown}"
    if record["verdict"] != "CONFORME":
        failing = [f"{e['ref']} {e['title']}" for e in record["essais"]
                   if e["verdict"] == "non_conforme"]  # fmt: skip
        ctx.book.alert("Qualification NON CONFORME :\n• " + "\n• ".join(failing[:12])
                       + f"\n\nRapport : {shown}", title="OncoSecours — qualification",
                       critical=True)  # fmt: skip
    ctx.refresh("Accueil")
    return message
