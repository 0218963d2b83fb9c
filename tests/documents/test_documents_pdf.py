"""PDF conversion with LibreOffice: every document opens and has the expected number of pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from documents_helpers import has_soffice

from oncosecours.documents import pdf, render
from oncosecours.domain.errors import OncoError

DAY = "2026-03-02"
needs_lo = pytest.mark.skipif(not has_soffice(), reason="LibreOffice (soffice) absent")


def _page_size_mm(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    found = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    return tuple(round(float(v) * 25.4 / 72) for v in found.groups())


@pytest.mark.libreoffice
@pytest.mark.slow
@needs_lo
def test_every_document_of_the_day_converts_with_its_page_count(day_conn, day_store, tmp_path):
    fiches = render.render_day(day_conn, DAY, "fabrication", tmp_path / "f", pdf=False)
    labels = render.render_day(day_conn, DAY, "labels", tmp_path / "e", pdf=False)
    sheet = render.render_day(day_conn, DAY, "labels", tmp_path / "p", sheet=True, pdf=False)
    plans = render.render_day(day_conn, DAY, "care-plan", tmp_path / "s", pdf=False)
    register = render.render_ordonnancier(
        day_conn, "2026-03-01", DAY, "patient", tmp_path / "o", pdf=False
    ).docx
    everything = fiches + labels + [f for f in sheet if "planche" in f.name] + plans + register
    produced = pdf.convert(everything)  # one LibreOffice call per output folder
    assert len(produced) == len(everything)
    pages = {p.stem: pdf.page_count(p) for p in produced}
    live = 4  # five preparations, one cancelled
    assert pages[f"fiches_{DAY}_toutes"] == live
    assert pages[f"etiquettes_{DAY}_toutes"] == live
    assert pages[f"etiquettes_{DAY}_planche"] == 1
    assert pages[f"plans_de_soins_{DAY}_tous"] == 3
    singles = {k: v for k, v in pages.items() if not re.search("toutes|tous|planche", k)}
    assert set(singles.values()) == {1}, singles
    label_pdf = next(p for p in produced if p.name.startswith("etiquette_"))
    assert _page_size_mm(label_pdf) == (100, 70)
    fiche_pdf = next(p for p in produced if p.name.startswith("fiche_"))
    assert _page_size_mm(fiche_pdf) == (210, 297)
    plan_pdf = next(p for p in produced if p.name.startswith("plan_de_soins_"))
    assert _page_size_mm(plan_pdf) == (297, 210)
    text = _pdf_text(fiche_pdf)
    if text is not None:
        assert "FICHE DE FABRICATION" in text and "O'BRIEN" in text


def _pdf_text(path: Path) -> str | None:
    tool = shutil.which("pdftotext")
    if not tool:
        return None
    return subprocess.run([tool, str(path), "-"], capture_output=True, text=True).stdout


@pytest.mark.libreoffice
@pytest.mark.slow
@needs_lo
def test_awkward_samples_convert_one_page_each(tmp_path):
    result = render.render_samples(tmp_path, pdf=True)
    assert result.pdf_error is None
    pages = {p.stem: pdf.page_count(p) for p in result.pdf}
    assert len(pages) == len(result.docx)
    assert pages["exemple_fiche_tous"] == 5
    assert pages["exemple_etiquette_tous"] == 5
    assert pages["exemple_etiquettes_planche"] == 1
    assert pages["exemple_plan_de_soins_tous"] == 3
    singles = {k: v for k, v in pages.items() if not k.endswith(("_tous", "_planche"))}
    assert set(singles.values()) == {1}, singles  # even the very long names fit


@pytest.mark.libreoffice
@needs_lo
def test_page_count_reader_agrees_with_pdfinfo(tmp_path):
    tool = shutil.which("pdfinfo")
    if not tool:
        pytest.skip("pdfinfo absent")
    result = render.render_samples(tmp_path, pdf=True, kinds=["plan_de_soins"])
    for produced in result.pdf:
        info = subprocess.run([tool, str(produced)], capture_output=True, text=True).stdout
        assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == pdf.page_count(produced)


def test_missing_libreoffice_keeps_the_docx_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv(pdf.ENV_VAR, str(tmp_path / "no-soffice"))
    assert pdf.soffice() is None
    result = render.render_samples(tmp_path / "a", kinds=["ordonnancier"])  # pdf=None: optional
    assert result.docx and not result.pdf
    assert "LibreOffice absent" in result.pdf_error
    with pytest.raises(OncoError, match="LibreOffice .soffice. introuvable"):
        render.render_samples(tmp_path / "b", kinds=["ordonnancier"], pdf=True)
    assert pdf.convert([]) == []


def _fake_soffice(tmp_path: Path, per_call: int) -> Path:
    """A stand-in for soffice that, like the real one past ~247 files, converts only the first
    ``per_call`` files it is given and still exits 0."""
    script = tmp_path / "fake-soffice"
    script.write_text(
        "#!" + __import__("sys").executable + "\n"
        "import sys, pathlib\n"
        "args = sys.argv[1:]\n"
        "out = pathlib.Path(args[args.index('--outdir') + 1])\n"
        "files = [a for a in args if a.endswith('.docx')]\n"
        f"for f in files[:{per_call}]:\n"
        "    (out / (pathlib.Path(f).stem + '.pdf')).write_bytes(b'%PDF-1.4 fake')\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def test_batches_are_split_and_skipped_files_retried(tmp_path, monkeypatch):
    files = []
    for index in range(5):
        file = tmp_path / f"doc{index}.docx"
        file.write_bytes(b"x")
        files.append(file)
    monkeypatch.setattr(pdf, "CHUNK", 3)
    monkeypatch.setenv(pdf.ENV_VAR, str(_fake_soffice(tmp_path, per_call=2)))
    produced = pdf.convert(files, tmp_path / "out")
    assert [p.name for p in produced] == [f"doc{i}.pdf" for i in range(5)]
    assert all(p.exists() for p in produced)
    monkeypatch.setenv(pdf.ENV_VAR, str(_fake_soffice(tmp_path, per_call=0)))
    with pytest.raises(OncoError, match="Conversion PDF échouée pour doc0.docx"):
        pdf.convert(files, tmp_path / "none")
