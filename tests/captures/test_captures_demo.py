"""``oncosecours captures`` on a real demo output: LibreOffice renders, pdftoppm rasterises."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from png_reader import ihdr, read

from oncosecours.documents.pdf import soffice
from oncosecours.ops import captures

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.slow,
    pytest.mark.skipif(
        soffice() is None or captures.pdftoppm() is None,
        reason="LibreOffice (soffice) ou pdftoppm absent",
    ),
]

A4_AT_96 = (794, 1123)  # pixels of an A4 page at 96 dpi (portrait)


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "oncosecours", *args], capture_output=True, text=True, timeout=600
    )


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict:
    """A demo (Word only, faster) and the captures made from it, kept PDFs included."""
    base = tmp_path_factory.mktemp("captures")
    demo = base / "demo"
    result = _run("demo", "--out", str(demo), "--no-pdf", "--quiet")
    assert result.returncode == 0, result.stderr
    before = _digests(demo)
    out = base / "apercus"
    result = _run("captures", "--demo", str(demo), "--out", str(out), "--garder-pdf", "--json")
    return {"demo": demo, "out": out, "before": before, "result": result}


def test_exits_zero_and_reports_both_pictures(made):
    result = made["result"]
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    names = [Path(item["fichier"]).name for item in report]
    assert names == [captures.WORKBOOK_PNG, captures.FICHE_PNG]
    for item in report:
        path = Path(item["fichier"])
        assert ihdr(path)[:2] == (item["largeur"], item["hauteur"])
        assert path.stat().st_size == item["octets"]
    assert "Fabrication" in report[0]["contenu"]
    assert "fiche_2026-000001_" in report[1]["contenu"]


def test_the_demo_folder_is_left_untouched(made):
    assert made["result"].returncode == 0
    assert _digests(made["demo"]) == made["before"]


@pytest.mark.parametrize("name", [captures.WORKBOOK_PNG, captures.FICHE_PNG])
def test_pictures_are_valid_png_and_not_blank(made, name):
    path = made["out"] / name
    width, height, depth, colour = ihdr(path)
    assert depth == 8 and colour == 2
    assert 400 <= width <= 2000 and 300 <= height <= 2000
    assert path.stat().st_size < 300 * 1024  # fit for a README
    picture = read(path)
    assert len(picture.grey) == width * height
    levels = Counter(picture.grey)
    dark = sum(n for level, n in levels.items() if level < 128) / len(picture.grey)
    white = levels[255] / len(picture.grey)
    assert len(levels) > 50  # anti-aliased text and cell fills, not a flat page
    assert 0.01 < dark < 0.40  # some text, not a black or an error-coloured page
    assert 0.30 < white < 0.97  # a document on white, cropped to its content


def test_fiche_is_cropped_to_its_content(made):
    width, height, _, _ = ihdr(made["out"] / captures.FICHE_PNG)
    assert width < A4_AT_96[0] and height < A4_AT_96[1]


def _text(pdf: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext absent")
    return subprocess.run([tool, "-layout", str(pdf), "-"], capture_output=True, text=True).stdout


def test_what_was_rasterised_is_the_demo_day(made):
    out = made["out"]
    home = _text(out / "apercu-classeur-accueil.pdf")
    view = _text(out / "apercu-classeur-vue.pdf")
    fiche = _text(out / "apercu-fiche.pdf")
    summary = json.loads((made["demo"] / "resume.json").read_text(encoding="utf-8"))
    year, month, day = summary["actualisation"]["date_sauvegarde"].split("-")  # the snapshot's
    assert "circuit des chimiothérapies" in home and f"{day}/{month}/{year}" in home
    assert "Fabrication" in view and "Fabrication" not in home  # one sheet per copy
    assert "Imprimé le" not in view + home  # the print header and footer are left out
    # the first fiche (lowest ordonnancier number) is the one shown, and is in the view too
    _, number, surname, _ = captures.find_sources(made["demo"]).fiche.stem.split("_", 3)
    assert "FICHE DE FABRICATION" in fiche and number in fiche and surname in fiche
    assert number in view and surname in view
    # French locale: the dose of the fiche appears with a decimal comma somewhere in both
    assert re.search(r"\d,\d+ mg", fiche) and re.search(r"\d,\d+\s*mg", view)


def test_another_view_sheet_can_be_chosen(made, tmp_path):
    result = _run(
        "captures", "--demo", str(made["demo"]), "--out", str(tmp_path), "--feuille",
        "Validation", "--garder-pdf",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    view = _text(tmp_path / "apercu-classeur-vue.pdf")
    assert "Validation pharmaceutique" in view and "refusée" in view
    assert "Fabrication" not in view
    assert ihdr(tmp_path / captures.WORKBOOK_PNG)[2:] == (8, 2)
