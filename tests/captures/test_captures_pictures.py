"""The picture plumbing of ``oncosecours captures``, without LibreOffice: PNM in, PNG out, crop."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pytest
from png_reader import SIGNATURE, ihdr, read

from oncosecours.domain.errors import OncoError
from oncosecours.ops import captures
from oncosecours.ops.captures import Raster


def grey_page(width: int, height: int, blocks: list[tuple[int, int, int, int, int]]) -> Raster:
    """A white grey page with filled rectangles (x0, y0, x1, y1 exclusive, level)."""
    pixels = bytearray(b"\xff" * (width * height))
    for x0, y0, x1, y1, level in blocks:
        for y in range(y0, y1):
            pixels[y * width + x0 : y * width + x1] = bytes([level]) * (x1 - x0)
    return Raster(width, height, 1, bytes(pixels))


def test_png_round_trip_rgb_and_grey(tmp_path):
    rgb = Raster(
        3, 2, 3, bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90])
    )
    path = tmp_path / "rgb.png"
    path.write_bytes(captures.png_bytes(rgb))
    assert path.read_bytes()[:8] == SIGNATURE
    assert ihdr(path) == (3, 2, 8, 2)
    picture = read(path)
    assert picture.grey == [76, 149, 29, 18, 48, 78]  # ITU-R 601 luma of the six pixels

    grey = Raster(2, 2, 1, bytes([0, 128, 200, 255]))
    path = tmp_path / "grey.png"
    path.write_bytes(captures.png_bytes(grey))
    assert ihdr(path) == (2, 2, 8, 0)
    assert read(path).grey == [0, 128, 200, 255]


def test_png_reader_is_not_fooled_by_a_bad_crc(tmp_path):
    data = bytearray(captures.png_bytes(Raster(1, 1, 1, b"\x00")))
    data[-5] ^= 0xFF  # inside the IEND CRC
    path = tmp_path / "bad.png"
    path.write_bytes(bytes(data))
    with pytest.raises(AssertionError, match="CRC"):
        read(path)


def test_parse_pnm_grey_and_colour_with_a_comment():
    grey = captures.parse_pnm(b"P5\n# pdftoppm\n2 1\n255\n\x00\xff")
    assert (grey.width, grey.height, grey.channels, grey.pixels) == (2, 1, 1, b"\x00\xff")
    colour = captures.parse_pnm(b"P6 1 2 255 " + bytes(range(6)))
    assert (colour.width, colour.height, colour.channels) == (1, 2, 3)
    assert colour.row(1) == bytes([3, 4, 5])


@pytest.mark.parametrize(
    "data",
    [b"P5\n2 2\n255\n\x00", b"P5\n2", b"P4\n1 1\n1\n\x00", b"P5\n1 1\n65535\n\x00\x00"],
)
def test_parse_pnm_refuses_truncated_or_unsupported(data):
    with pytest.raises(OncoError):
        captures.parse_pnm(data)


def test_content_box_leaves_out_the_page_footer():
    # 48 dpi: 36 pt of blank is 24 px; an A4 page is 397 x 561 px.
    page = grey_page(
        397, 561, [(30, 20, 300, 60, 0), (40, 70, 350, 200, 230), (30, 540, 200, 548, 0)]
    )
    assert captures.content_box(page) == (30, 20, 349, 199)


def test_content_box_keeps_blocks_far_apart_above_the_footer_zone():
    page = grey_page(397, 561, [(30, 20, 100, 40, 0), (200, 300, 250, 320, 0)])
    assert captures.content_box(page) == (30, 20, 249, 319)


def test_content_box_keeps_a_single_block_even_low_on_the_page():
    page = grey_page(397, 561, [(10, 500, 20, 550, 100)])
    assert captures.content_box(page) == (10, 500, 19, 549)


def test_content_box_of_a_blank_or_nearly_white_page_is_none():
    assert captures.content_box(grey_page(50, 50, [])) is None
    assert captures.content_box(grey_page(50, 50, [(0, 0, 50, 50, captures.INK)])) is None
    assert captures.content_box(grey_page(50, 50, [(5, 6, 7, 8, captures.INK - 1)])) == (5, 6, 6, 7)


def test_stack_pads_on_white_and_draws_a_rule_between():
    red = Raster(2, 1, 3, b"\xff\x00\x00" * 2)
    blue = Raster(4, 2, 3, b"\x00\x00\xff" * 8)
    both = captures.stack([red, blue], separator=3)
    assert (both.width, both.height) == (4, 1 + 3 + 2)
    assert both.row(0) == b"\xff\x00\x00" * 2 + b"\xff" * 6
    assert both.row(1) == b"\xff" * 12 and both.row(3) == b"\xff" * 12
    assert both.row(2) == b"\xc8" * 12
    assert both.row(5) == b"\x00\x00\xff" * 4


def _workbook(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Accueil"
    book.active["A1"] = "Bienvenue"
    book.active.oddHeader.left.text = "OncoSecours — &A"
    view = book.create_sheet("Fabrication")
    for row in range(1, 41):  # more rows than a README picture shows
        view.append([row, "ligne", row * 10])
    view.sheet_properties.pageSetUpPr.fitToPage = True
    hidden = book.create_sheet("Listes")
    hidden.sheet_state = "hidden"
    book.save(path)
    return path


def test_sheet_copy_shows_one_sheet_and_leaves_the_original_alone(tmp_path):
    import openpyxl

    source = _workbook(tmp_path / "classeur.xlsx")
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    copy = captures.sheet_copy(source, "Fabrication", tmp_path / "copie.xlsx", scale=90)
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    book = openpyxl.load_workbook(copy)
    states = {ws.title: ws.sheet_state for ws in book.worksheets}
    assert states == {"Accueil": "hidden", "Fabrication": "visible", "Listes": "hidden"}
    assert book.active.title == "Fabrication"
    view = book["Fabrication"]
    assert view.page_setup.scale == 90 and not view.sheet_properties.pageSetUpPr.fitToPage
    assert view.print_area == f"'Fabrication'!$A$1:$C${captures.VIEW_MAX_ROWS}"

    home = openpyxl.load_workbook(captures.sheet_copy(source, "Accueil", tmp_path / "a.xlsx"))
    assert home["Accueil"].sheet_state == "visible"
    assert not home["Accueil"].oddHeader.left.text  # the print header is left out


def test_sheet_copy_refuses_an_unknown_sheet_and_names_the_visible_ones(tmp_path):
    source = _workbook(tmp_path / "classeur.xlsx")
    with pytest.raises(OncoError) as caught:
        captures.sheet_copy(source, "Validation", tmp_path / "copie.xlsx")
    text = str(caught.value)
    assert "« Validation » absente" in text and "Accueil, Fabrication" in text
    assert "Listes" not in text
    assert not (tmp_path / "copie.xlsx").exists()


def test_find_sources_takes_the_lowest_ordonnancier_number(tmp_path):
    (tmp_path / "OncoSecours.xlsm").write_bytes(b"")
    folder = tmp_path / "documents" / "fiches-fabrication"
    folder.mkdir(parents=True)
    for name in (
        "fiche_2026-000002_AUBRY_Jean.docx",
        "fiche_2026-000001_ZOLA_Anne.docx",
        "fiches_2026-11-28_toutes.docx",
    ):
        (folder / name).write_bytes(b"")
    sources = captures.find_sources(tmp_path)
    assert sources.fiche.name == "fiche_2026-000001_ZOLA_Anne.docx"
    assert sources.workbook == (tmp_path / "OncoSecours.xlsm").resolve()


def test_find_sources_refuses_in_french(tmp_path):
    with pytest.raises(OncoError, match="Dossier de démonstration introuvable"):
        captures.find_sources(tmp_path / "absent")
    with pytest.raises(OncoError, match="ne contient pas le classeur"):
        captures.find_sources(tmp_path)
    (tmp_path / "OncoSecours.xlsm").write_bytes(b"")
    (tmp_path / "documents" / "fiches-fabrication").mkdir(parents=True)
    with pytest.raises(OncoError, match="Aucune fiche de fabrication") as caught:
        captures.find_sources(tmp_path)
    assert "oncosecours demo --out" in str(caught.value)


def test_cli_refusal_is_french_and_exits_2(tmp_path, capsys):
    from oncosecours.cli import main

    code = main(["captures", "--demo", str(tmp_path / "absent"), "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 2
    assert "Refusé" in captured.out + captured.err
    assert "Dossier de démonstration introuvable" in captured.out + captured.err
    assert not (tmp_path / "o").exists()


def test_cli_refuses_a_resolution_out_of_bounds(tmp_path, capsys):
    from oncosecours.cli import main

    code = main(
        ["captures", "--demo", str(tmp_path), "--out", str(tmp_path / "o"), "--resolution", "2000"]
    )
    assert code == 2
    assert "2000 ppp hors des bornes" in "".join(capsys.readouterr())


def test_a_png_of_our_writer_decompresses_to_the_announced_size():
    data = captures.png_bytes(Raster(5, 3, 3, bytes(range(45))))
    (length,) = struct.unpack(">I", data[33:37])
    assert data[37:41] == b"IDAT"
    assert len(zlib.decompress(data[41 : 41 + length])) == 3 * (1 + 5 * 3)
