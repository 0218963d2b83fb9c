"""Pictures for the README, made from a demo's output: the workbook and a fiche de fabrication.

    make_captures("demo-output", "apercus")   # -> [Capture(classeur), Capture(fiche)]

* ``apercu-classeur.png``: the Accueil sheet above one view sheet (Fabrication by default),
  as LibreOffice prints them. The workbook is never opened for writing: openpyxl loads it
  without macros and saves one COPY per sheet (.xlsx in a temporary folder) in which every
  other sheet is hidden (LibreOffice prints only visible sheets), the page header and footer
  are removed (print chrome, not the sheet), and the view sheet is printed at
  :data:`VIEW_SCALE` % instead of "fit to width" so that its text stays legible: the picture
  shows the columns of its first page (from "Ligne" up to "État" for Fabrication).
* ``apercu-fiche-fabrication.png``: the first page of the first fiche (lowest ordonnancier
  number), from a copy of its .docx.

One LibreOffice call converts the three copies to PDF, with a private, throw-away profile set
to the French locale (dates 28/11/2026, decimal comma, as on a French workstation). Poppler's
``pdftoppm`` then renders each page twice: in grey at low resolution to find where the content
is (the page's blank margins and the page footer are left out), then in colour, cropped to that
box. The PNG files are written here (stdlib ``zlib``): no imaging library is needed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from oncosecours.domain.errors import OncoError

WORKBOOK_PNG = "apercu-classeur.png"
FICHE_PNG = "apercu-fiche-fabrication.png"
HOME_SHEET = "Accueil"
VIEW_SHEET = "Fabrication"
VIEW_SCALE = 90  # % : the columns up to "État" fit on a landscape A4 page
VIEW_MAX_ROWS = 30  # rows of the view sheet printed (a README picture, not the whole day)
RESOLUTION = 96  # dots per inch of the pictures
DETECT_RESOLUTION = 48  # dots per inch of the grey pass that finds the content
INK = 250  # a grey level below this is content (light cell fills included)
BAND_GAP_PT = 36.0  # blank height that separates two blocks of a page
FOOTER_ZONE = 0.15  # a last block starting in the lowest 15 % of the page is its footer
MARGIN_PT = 8.0  # white kept around the content
SEPARATOR_PX = 24  # white between the two sheets of the workbook picture (a grey rule inside)
LOCALE = "fr-FR"
TIMEOUT_S = 180

_PROFILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
  xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>{LOCALE}</value></prop></item>
</oor:items>
"""


@dataclass(frozen=True)
class Raster:
    """An 8-bit picture: ``channels`` 1 (grey) or 3 (RGB), rows top to bottom, no padding."""

    width: int
    height: int
    channels: int
    pixels: bytes

    def row(self, y: int) -> bytes:
        stride = self.width * self.channels
        return self.pixels[y * stride : (y + 1) * stride]


@dataclass(frozen=True)
class Capture:
    """One picture written: where, its size, and what it shows (French)."""

    path: Path
    width: int
    height: int
    shows: str

    def to_dict(self) -> dict:
        return {
            "fichier": str(self.path),
            "largeur": self.width,
            "hauteur": self.height,
            "octets": self.path.stat().st_size,
            "contenu": self.shows,
        }


@dataclass(frozen=True)
class Sources:
    workbook: Path
    fiche: Path


# -- the demo's files ------------------------------------------------------------------------------


def find_sources(demo_dir: str | Path) -> Sources:
    """The demo's workbook and its first fiche de fabrication (refused in French if absent)."""
    from oncosecours.demo.workspace import Paths
    from oncosecours.documents.render import FILE_PREFIX

    root = Path(demo_dir).expanduser()
    hint = f"Lancer d'abord « oncosecours demo --out {root} »"
    if not root.is_dir():
        raise OncoError("Dossier de démonstration introuvable", file=str(root), hint=hint)
    paths = Paths(root.resolve())
    if not paths.workbook.is_file():
        raise OncoError(
            "Le dossier ne contient pas le classeur de la démonstration",
            file=str(paths.workbook),
            hint=hint,
        )
    folder = paths.documents / "fiches-fabrication"
    fiches = sorted(folder.glob(f"{FILE_PREFIX['fabrication']}_*.docx"))
    if not fiches:
        raise OncoError(
            "Aucune fiche de fabrication dans le dossier de démonstration",
            file=str(folder),
            hint=hint,
        )
    return Sources(paths.workbook, fiches[0])


# -- the workbook copies ---------------------------------------------------------------------------


def sheet_copy(workbook: Path, sheet: str, dest: Path, *, scale: int | None = None) -> Path:
    """Save a macro-free copy of ``workbook`` in which only ``sheet`` prints.

    ``scale``: print at this percentage instead of the sheet's "fit to page" (for a wide view).
    """
    import openpyxl
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.header_footer import HeaderFooter

    with warnings.catch_warnings():  # openpyxl warns about parts it does not keep (ribbon, ...)
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(workbook, keep_vba=False)
    if sheet not in book.sheetnames:
        shown = [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
        raise OncoError(
            f"Feuille « {sheet} » absente du classeur",
            file=str(workbook),
            hint="Feuilles : " + ", ".join(shown),
        )
    for ws in book.worksheets:
        ws.sheet_state = "visible" if ws.title == sheet else "hidden"
        ws.sheet_view.tabSelected = ws.title == sheet
    book.active = book.sheetnames.index(sheet)
    ws = book[sheet]
    ws.HeaderFooter = HeaderFooter()
    if scale is not None:
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ws.page_setup.scale = scale
        last_row = min(ws.max_row, VIEW_MAX_ROWS)
        ws.print_area = f"A1:{get_column_letter(ws.max_column)}{last_row}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book.save(dest)
    return dest


# -- external programs -----------------------------------------------------------------------------


def pdftoppm() -> str | None:
    """Path of Poppler's ``pdftoppm``, or None."""
    return shutil.which("pdftoppm")


def _tools() -> tuple[str, str]:
    from oncosecours.documents.pdf import soffice

    office = soffice()
    if office is None:
        raise OncoError(
            "LibreOffice (soffice) introuvable : les aperçus sont rendus par LibreOffice",
            hint="Installer LibreOffice",
        )
    poppler = pdftoppm()
    if poppler is None:
        raise OncoError(
            "pdftoppm (Poppler) introuvable : il transforme les PDF en images",
            hint="Installer poppler-utils (Debian/Ubuntu) ou poppler",
        )
    return office, poppler


def to_pdf(office: str, files: Sequence[Path], out_dir: Path, profile: Path) -> list[Path]:
    """One LibreOffice call, French locale, private profile; returns the PDFs (all checked)."""
    settings = profile / "user" / "registrymodifications.xcu"
    settings.parent.mkdir(parents=True, exist_ok=True)
    if not settings.exists():
        settings.write_text(_PROFILE, encoding="utf-8")
    command = [
        office,
        f"-env:UserInstallation={profile.resolve().as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out_dir),
        *(str(f) for f in files),
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise OncoError(f"LibreOffice n'a pas terminé en {TIMEOUT_S} s") from None
    pdfs = [out_dir / (f.stem + ".pdf") for f in files]
    missing = [p.name for p in pdfs if not p.is_file()]
    if missing:
        detail = " ".join((result.stderr or result.stdout or "").strip().splitlines()[-2:])
        raise OncoError(
            f"LibreOffice n'a pas produit {', '.join(missing)} (code {result.returncode})"
            + (f" : {detail}" if detail else "")
        )
    return pdfs


def render_page(
    poppler: str,
    pdf: Path,
    resolution: float,
    *,
    grey: bool = False,
    box: tuple[int, int, int, int] | None = None,
) -> Raster:
    """The first page of ``pdf`` as a raster; ``box`` = (x, y, width, height) in pixels."""
    command = [poppler, "-r", f"{resolution:g}", "-f", "1", "-l", "1", "-singlefile"]
    if grey:
        command.append("-gray")
    if box is not None:
        x, y, w, h = box
        command += ["-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
    command.append(str(pdf))  # no output root: the picture comes on stdout
    try:
        result = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise OncoError(f"pdftoppm n'a pas terminé en {TIMEOUT_S} s", file=str(pdf)) from None
    if result.returncode != 0 or not result.stdout:
        detail = result.stderr.decode("utf-8", "replace").strip()
        raise OncoError(
            f"pdftoppm a échoué (code {result.returncode})" + (f" : {detail}" if detail else ""),
            file=str(pdf),
        )
    return parse_pnm(result.stdout)


# -- pictures --------------------------------------------------------------------------------------


def parse_pnm(data: bytes) -> Raster:
    """A binary PGM (P5) or PPM (P6) picture with 8-bit samples, as written by pdftoppm."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":  # a comment line
            pos = data.index(b"\n", pos) + 1
            continue
        start = pos
        while pos < len(data) and not data[pos : pos + 1].isspace():
            pos += 1
        if start == pos:
            raise OncoError("Image PNM tronquée")
        fields.append(data[start:pos])
    pos += 1  # the single whitespace before the samples
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic not in (b"P5", b"P6") or maxval != 255:
        raise OncoError(f"Image PNM non prise en charge ({magic.decode('ascii', 'replace')})")
    channels = 1 if magic == b"P5" else 3
    pixels = data[pos : pos + width * height * channels]
    if len(pixels) != width * height * channels:
        raise OncoError("Image PNM tronquée")
    return Raster(width, height, channels, pixels)


def content_box(
    page: Raster, resolution: float = DETECT_RESOLUTION
) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) pixels of the content of a grey page, footer left out.

    The inked rows are grouped in blocks separated by at least :data:`BAND_GAP_PT` of blank;
    a last block that starts in the lowest :data:`FOOTER_ZONE` of the page, after such a gap,
    is the page footer. None for a blank page.
    """
    if page.channels != 1:
        raise ValueError("content_box expects a grey raster")
    inked = bytes(1 if level < INK else 0 for level in range(256))
    rows = [y for y in range(page.height) if min(page.row(y)) < INK]
    if not rows:
        return None
    gap = max(1, round(BAND_GAP_PT * resolution / 72.0))
    bands: list[list[int]] = [[rows[0], rows[0]]]
    for y in rows[1:]:
        if y - bands[-1][1] > gap:
            bands.append([y, y])
        else:
            bands[-1][1] = y
    if len(bands) > 1 and bands[-1][0] >= page.height * (1 - FOOTER_ZONE):
        bands.pop()
    top, bottom = bands[0][0], bands[-1][1]
    left, right = page.width, -1
    for y in range(top, bottom + 1):
        marks = page.row(y).translate(inked)
        first = marks.find(1)
        if first >= 0:
            left = min(left, first)
            right = max(right, marks.rfind(1))
    return left, top, right, bottom


def crop_page(poppler: str, pdf: Path, resolution: float) -> Raster:
    """The first page of ``pdf`` in colour, cropped to its content plus a margin."""
    probe = render_page(poppler, pdf, DETECT_RESOLUTION, grey=True)
    found = content_box(probe)
    if found is None:
        raise OncoError("Page blanche : rien à montrer", file=pdf.name)
    ratio = resolution / DETECT_RESOLUTION
    margin = MARGIN_PT * resolution / 72.0
    full_w, full_h = round(probe.width * ratio), round(probe.height * ratio)
    left, top, right, bottom = found
    x0 = max(0, int(left * ratio - margin))
    y0 = max(0, int(top * ratio - margin))
    x1 = min(full_w, int((right + 1) * ratio + margin + 1))
    y1 = min(full_h, int((bottom + 1) * ratio + margin + 1))
    return render_page(poppler, pdf, resolution, box=(x0, y0, x1 - x0, y1 - y0))


def stack(pictures: Sequence[Raster], *, separator: int = SEPARATOR_PX) -> Raster:
    """RGB pictures one above the other, left-aligned on white, a thin grey rule between."""
    width = max(p.width for p in pictures)
    white = b"\xff"
    rows: list[bytes] = []
    for index, picture in enumerate(pictures):
        if picture.channels != 3:
            raise ValueError("stack expects RGB rasters")
        if index:
            blank = white * (width * 3)
            half = separator // 2
            rows += [blank] * half
            rows.append(b"\xc8" * (width * 3))
            rows += [blank] * (separator - half - 1)
        pad = white * ((width - picture.width) * 3)
        rows += [picture.row(y) + pad for y in range(picture.height)]
    return Raster(width, len(rows), 3, b"".join(rows))


def png_bytes(picture: Raster) -> bytes:
    """A PNG file (8-bit grey or RGB, no interlace, filter "none", zlib level 9)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
        )

    colour = {1: 0, 3: 2}[picture.channels]
    header = (
        picture.width.to_bytes(4, "big")
        + picture.height.to_bytes(4, "big")
        + bytes([8, colour, 0, 0, 0])
    )
    raw = b"".join(b"\x00" + picture.row(y) for y in range(picture.height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _write(picture: Raster, path: Path, shows: str) -> Capture:
    path.write_bytes(png_bytes(picture))
    return Capture(path, picture.width, picture.height, shows)


# -- the command's work ----------------------------------------------------------------------------


def make_captures(
    demo_dir: str | Path,
    out_dir: str | Path,
    *,
    sheet: str = VIEW_SHEET,
    resolution: float = RESOLUTION,
    keep_pdf: bool = False,
) -> list[Capture]:
    """Write the workbook picture and the fiche picture in ``out_dir``; returns them.

    ``keep_pdf``: also leave the intermediate PDFs in ``out_dir`` (what was rasterised).
    The demo folder is only read.
    """
    if not 30 <= resolution <= 300:
        raise OncoError(
            f"Résolution {resolution:g} ppp hors des bornes (30 à 300)", field="resolution"
        )
    sources = find_sources(demo_dir)
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise OncoError("Le chemin de sortie existe et n'est pas un dossier", file=str(out))
    with tempfile.TemporaryDirectory(prefix="oncosecours-apercus-") as scratch:
        work = Path(scratch)
        home = sheet_copy(sources.workbook, HOME_SHEET, work / "classeur-accueil.xlsx")
        view = sheet_copy(sources.workbook, sheet, work / "classeur-vue.xlsx", scale=VIEW_SCALE)
        fiche = work / "fiche-fabrication.docx"
        shutil.copyfile(sources.fiche, fiche)  # LibreOffice may leave a lock file beside it
        office, poppler = _tools()
        pdfs = to_pdf(office, [home, view, fiche], work / "pdf", work / "profil")
        home_pdf, view_pdf, fiche_pdf = pdfs
        workbook_picture = stack(
            [crop_page(poppler, home_pdf, resolution), crop_page(poppler, view_pdf, resolution)]
        )
        fiche_picture = crop_page(poppler, fiche_pdf, resolution)
        out.mkdir(parents=True, exist_ok=True)
        captures = [
            _write(
                workbook_picture,
                out / WORKBOOK_PNG,
                f"classeur {sources.workbook.name} rendu par LibreOffice : feuille "
                f"« {HOME_SHEET} » puis feuille « {sheet} » (à {VIEW_SCALE} %, première page)",
            ),
            _write(
                fiche_picture,
                out / FICHE_PNG,
                f"première page de la fiche {sources.fiche.name} rendue par LibreOffice",
            ),
        ]
        if keep_pdf:
            for pdf, name in zip(
                pdfs,
                ("apercu-classeur-accueil.pdf", "apercu-classeur-vue.pdf", "apercu-fiche.pdf"),
                strict=True,
            ):
                shutil.copyfile(pdf, out / name)
    return captures


def format_captures(captures: Sequence[Capture]) -> str:
    """The French summary printed by the command."""
    lines = []
    for capture in captures:
        size = capture.path.stat().st_size
        lines.append(
            f"{capture.path}\n  {capture.width} × {capture.height} pixels, "
            f"{size / 1024:.0f} Ko — {capture.shows}"
        )
    return "\n".join(lines)
