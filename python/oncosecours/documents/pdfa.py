"""PDF/A for the ten-year archive: LibreOffice's PDF export asked for PDF/A-2b, then the file is
read back to check that it really declares it (the ``pdfaid`` entries of its XMP metadata, read
by :mod:`oncosecours.domain.pdfa`).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from oncosecours.documents.pdf import TIMEOUT_BASE_S, soffice
from oncosecours.domain import pdfa as domain_pdfa
from oncosecours.domain.errors import OncoError

PDFA_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
"""LibreOffice's PDF export, version PDF/A-2b."""


def declared_pdfa(path: str | Path) -> str | None:
    """``"2B"`` when the PDF file declares PDF/A-2b, None when it declares no PDF/A."""
    return domain_pdfa.declared_pdfa(Path(path).read_bytes())


def convert_pdfa(docx: str | Path, out_dir: str | Path) -> Path:
    """One .docx to PDF/A-2b in ``out_dir``; refused when LibreOffice is missing or the result
    does not declare PDF/A."""
    docx, target = Path(docx), Path(out_dir)
    program = soffice()
    if program is None:
        raise OncoError(
            "LibreOffice (soffice) introuvable : l'ordonnancier PDF/A ne peut pas être produit",
            hint="Installer LibreOffice, ou archiver avec --no-pdf (CSV et .docx seulement)",
        )
    target.mkdir(parents=True, exist_ok=True)
    pdf = target / (docx.stem + ".pdf")
    if pdf.exists():
        pdf.unlink()
    with tempfile.TemporaryDirectory(prefix="oncosecours-pdfa-") as profile:
        command = [
            program,
            f"-env:UserInstallation={Path(profile).resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            PDFA_FILTER,
            "--outdir",
            str(target),
            str(docx),
        ]
        try:
            subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_BASE_S * 3)
        except subprocess.TimeoutExpired:
            raise OncoError("LibreOffice n'a pas terminé la conversion PDF/A à temps") from None
    if not pdf.exists():
        raise OncoError(f"Conversion PDF/A échouée pour {docx.name}")
    if declared_pdfa(pdf) is None:
        raise OncoError(
            f"{pdf.name} ne se déclare pas PDF/A (métadonnées pdfaid absentes) : "
            "version de LibreOffice trop ancienne ?"
        )
    return pdf
