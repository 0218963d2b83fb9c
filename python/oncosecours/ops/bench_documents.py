"""Benchmark: a large unit's day of fiches de fabrication, naive docxtpl loop vs compiled way.

Both ways write the same documents (same template, same contexts, same QR codes) in the same
run; the ratio is what matters (absolute times depend on the machine).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def run(
    count: int = 350,
    *,
    out_dir: str | Path | None = None,
    pdf: bool = False,
    settings: Any = None,
    templates: Any = None,
) -> dict[str, Any]:
    """Render ``count`` fiches both ways; returns the timings (seconds) and the ratio."""
    from oncosecours.documents import engine, samples
    from oncosecours.documents.render import Renderer

    renderer = Renderer(settings, templates)
    contexts = samples.bulk_fabrication(count, renderer.settings)
    template = renderer.template_path("fabrication")
    temporary = None
    if out_dir is None:
        temporary = tempfile.mkdtemp(prefix="oncosecours-bench-")
        base = Path(temporary)
    else:
        base = Path(out_dir)
    naive_dir, fast_dir = base / "naive", base / "compile"
    naive_dir.mkdir(parents=True, exist_ok=True)
    fast_dir.mkdir(parents=True, exist_ok=True)
    env = engine.environment()
    try:
        start = time.perf_counter()
        for index, context in enumerate(contexts):
            engine.render_naive(
                template,
                context,
                naive_dir / f"fiche_{index:04d}.docx",
                renderer.images("fabrication", context),
                env,
            )
        naive = time.perf_counter() - start

        start = time.perf_counter()
        fresh = Renderer(renderer.settings, templates)  # includes loading + compiling once
        for index, context in enumerate(contexts):
            fresh.write_one("fabrication", context, fast_dir / f"fiche_{index:04d}.docx")
        fast = time.perf_counter() - start

        start = time.perf_counter()
        fresh.write_combined("fabrication", contexts, fast_dir / "fiches_toutes.docx")
        combined = time.perf_counter() - start

        result: dict[str, Any] = {
            "documents": count,
            "naive_s": naive,
            "compile_s": fast,
            "ratio": naive / fast if fast else float("inf"),
            "combined_s": combined,
            "naive_ms_per_doc": 1000 * naive / count,
            "compile_ms_per_doc": 1000 * fast / count,
        }
        if pdf:
            from oncosecours.documents import pdf as pdf_mod

            files = sorted(fast_dir.glob("*.docx"))
            start = time.perf_counter()
            pdf_mod.convert(files)
            result["pdf_s"] = time.perf_counter() - start
            result["pdf_files"] = len(files)
        return result
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


def text(result: dict[str, Any]) -> str:
    lines = [
        f"Fiches de fabrication : {result['documents']} documents"
        + (" (une journée d'une grande unité)" if result["documents"] >= 300 else ""),
        f"  boucle naïve (docxtpl : charger, rendre, enregistrer à chaque fiche) : "
        f"{result['naive_s']:.2f} s ({result['naive_ms_per_doc']:.1f} ms/fiche)",
        f"  modèle compilé une fois (Jinja sur le XML, zip en mémoire)           : "
        f"{result['compile_s']:.2f} s ({result['compile_ms_per_doc']:.1f} ms/fiche)",
        f"  rapport : {result['ratio']:.1f} fois plus rapide (objectif : au moins 4)",
        f"  fichier unique à imprimer ({result['documents']} pages) : {result['combined_s']:.2f} s",
    ]
    if "pdf_s" in result:
        lines.append(
            f"  conversion PDF (LibreOffice, {result['pdf_files']} fichiers, 200 par appel) : "
            f"{result['pdf_s']:.1f} s"
        )
    return "\n".join(lines)
