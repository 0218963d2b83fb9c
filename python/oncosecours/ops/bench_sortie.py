"""``oncosecours bench sortie``: the crisis-exit exports of a long crisis, timed.

A store is made with the synthetic generator's backup (``oncosecours synth``, scale small) and a
crisis of ``weeks`` x 7 days x ``per_day`` preparations written in bulk (store.sortie_bench); then
each export runs as a user runs it and is timed: gathering the records, the re-entry CSV files,
the Word dossiers, the billing file, the reconciliation, the archive (without PDF/A: LibreOffice's
time is reported by the demo and the documents bench) and its verification.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PIN = "1234"


def _settings(folder: Path) -> Any:
    from oncosecours.settings import load_settings

    path = folder / "etablissement-banc.toml"
    path.write_text('[etablissement]\nfiness = "999999999"\n', encoding="utf-8")
    return load_settings(path)


def run(weeks: int = 6, per_day: int = 60, *, keep: str | None = None) -> dict[str, Any]:
    from oncosecours.documents.dossier import render_dossiers
    from oncosecours.refresh import synth
    from oncosecours.services.refresh import refresh_snapshot
    from oncosecours.services.sortie import archive, billing, reconcile, reentry
    from oncosecours.services.sortie.records import gather
    from oncosecours.services.users import bootstrap_admin, create_user
    from oncosecours.store.db import connect
    from oncosecours.store.sortie_bench import fill_crisis

    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="oncosecours-banc-sortie-"))
    work.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    try:
        settings = _settings(work)
        start = date.today() - timedelta(days=weeks * 7)
        store = work / "oncosecours.sqlite"
        if store.exists():
            store.unlink()
        conn = connect(store)
        admin = bootstrap_admin(conn, "ADM", "Administrateur Banc", PIN)
        users = {"ADM": admin.id}
        for initials, role in (("DR1", "prescripteur"), ("PH1", "pharmacien"),
                               ("PR1", "préparateur"), ("PR2", "préparateur"),
                               ("IDE1", "infirmier")):  # fmt: skip
            users[initials] = create_user(conn, admin, initials, f"{initials} Banc", role, PIN).id
        pharmacist = create_user(conn, admin, "PH2", "PH2 Banc", "pharmacien", PIN)
        backup = work / "sauvegarde-synthetique"
        shutil.rmtree(backup, ignore_errors=True)
        began = time.perf_counter()
        synth.generate(backup, "small", 7, start - timedelta(days=1))
        refresh_snapshot(conn, admin, backup, settings=settings)
        timings["sauvegarde synthétique chargée"] = time.perf_counter() - began
        began = time.perf_counter()
        counts = fill_crisis(conn, users, start, weeks * 7, per_day)
        timings["crise écrite (hors mesure)"] = time.perf_counter() - began

        def timed(label: str, function):
            t0 = time.perf_counter()
            value = function()
            timings[label] = time.perf_counter() - t0
            return value

        records = timed("rassembler la crise", lambda: gather(conn))
        written = timed("CSV de reprise", lambda: reentry.export_csv(records, work / "reprise"))
        timed("dossiers Word (un par patient)",
              lambda: render_dossiers(records, work / "reprise" / "dossiers", settings))  # fmt: skip
        bill = timed("facturation liste en sus", lambda: billing.export_billing(
            conn, pharmacist, work / "facturation", settings=settings))  # fmt: skip
        report = timed("rapprochement", lambda: reconcile.breaks(conn))
        folder = timed(
            "archive (sans PDF/A)", lambda: archive.write_archive(conn, work / "archives")
        )
        check = timed("vérification de l'archive", lambda: archive.verify(folder["dossier"]))
        conn.close()
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    measured = [k for k in timings if "hors mesure" not in k and "synthétique" not in k]
    total = sum(timings[k] for k in measured)
    lines = [
        f"Sortie de crise : {weeks} semaines × 7 jours × {per_day} préparations = "
        f"{counts['preparations']} préparations, {counts['patients']} patients, "
        f"{folder['journal_evenements']} événements d'audit",
    ]
    lines += [f"  {label:<34} {seconds:7.2f} s" for label, seconds in timings.items()]
    lines.append(f"  {'total des exports':<34} {total:7.2f} s")
    lines.append(
        f"  ({sum(w['lignes'] for w in written)} lignes CSV, {bill['lignes']} lignes facturées, "
        f"{len(report['ruptures'])} ruptures, archive {'intègre' if check['ok'] else 'ALTÉRÉE'})"
    )
    return {
        "semaines": weeks,
        "par_jour": per_day,
        **counts,
        "secondes": {k: round(v, 3) for k, v in timings.items()},
        "total_exports_s": round(total, 3),
        "ruptures": len(report["ruptures"]),
        "lignes_facturees": bill["lignes"],
        "texte": "\n".join(lines),
    }
