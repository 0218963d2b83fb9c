"""PDF conversion with LibreOffice: the files of a batch in ONE ``soffice`` call.

A private, throw-away LibreOffice profile (``-env:UserInstallation``) is used so that a
LibreOffice already open on the workstation, or a broken user profile, cannot block the
conversion. ``soffice --convert-to`` silently ignores the files past about 247 arguments
(measured here: 246 of 351 converted, exit code 0), so a batch is split into calls of
:data:`CHUNK` files, and every expected PDF is checked (missing ones are retried once).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from oncosecours.domain.errors import OncoError

ENV_VAR = "ONCOSECOURS_SOFFICE"
TIMEOUT_BASE_S = 120
TIMEOUT_PER_FILE_S = 3
CHUNK = 200


def soffice() -> str | None:
    """Path of LibreOffice's ``soffice`` ($ONCOSECOURS_SOFFICE, PATH, usual places), or None."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        return chosen if Path(chosen).exists() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for candidate in (
        r"C:\Program Files\LibreOffice\program\soffice.exe",
        r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
        "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    ):
        if Path(candidate).exists():
            return candidate
    return None


def convert(files: Sequence[str | Path], out_dir: str | Path | None = None) -> list[Path]:
    """Convert .docx files to PDF next to them (or in ``out_dir``); returns the PDFs.

    Raises OncoError when LibreOffice is missing, fails, or a PDF is not produced.
    """
    files = [Path(f) for f in files]
    if not files:
        return []
    program = soffice()
    if program is None:
        raise OncoError(
            "LibreOffice (soffice) introuvable : conversion PDF impossible",
            hint="Installer LibreOffice ou imprimer les fichiers .docx",
        )
    groups: dict[Path, list[Path]] = {}
    for file in files:
        target = Path(out_dir) if out_dir else file.parent
        groups.setdefault(target, []).append(file)
    produced: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="oncosecours-lo-") as profile:
        for target, group in groups.items():
            target.mkdir(parents=True, exist_ok=True)
            for start in range(0, len(group), CHUNK):
                chunk = group[start : start + CHUNK]
                missing = _run(program, profile, target, chunk)
                if missing:  # once more, alone: LibreOffice sometimes skips a file
                    missing = _run(program, profile, target, missing)
                if missing:
                    raise OncoError(
                        "Conversion PDF échouée pour "
                        + ", ".join(f.name for f in missing[:10])
                        + (f" et {len(missing) - 10} autre(s)" if len(missing) > 10 else "")
                    )
                produced += [target / (f.stem + ".pdf") for f in chunk]
    return produced


def _run(program: str, profile: str, target: Path, files: list[Path]) -> list[Path]:
    """One LibreOffice call; returns the files whose PDF was not written."""
    for file in files:
        stale = target / (file.stem + ".pdf")
        if stale.exists():
            stale.unlink()
    command = [
        program,
        f"-env:UserInstallation={Path(profile).resolve().as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(target),
        *(str(f) for f in files),
    ]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_BASE_S + TIMEOUT_PER_FILE_S * len(files),
        )
    except subprocess.TimeoutExpired:
        raise OncoError(
            f"LibreOffice n'a pas terminé la conversion de {len(files)} fichier(s) à temps"
        ) from None
    missing = [f for f in files if not (target / (f.stem + ".pdf")).exists()]
    if result.returncode != 0 and len(missing) == len(files):
        detail = (result.stderr or result.stdout or "").strip().splitlines()[-2:]
        raise OncoError(
            f"LibreOffice a échoué (code {result.returncode})"
            + (f" : {' '.join(detail)}" if detail else "")
        )
    return missing


def page_count(pdf: str | Path) -> int:
    """Number of pages of a PDF (reads the page tree; no external tool needed)."""
    import re

    data = Path(pdf).read_bytes()
    counts = [int(m) for m in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
    if not counts:
        counts = [int(m) for m in re.findall(rb"/Count\s+(\d+)", data)]
    if counts:
        return max(counts)
    return len(re.findall(rb"/Type\s*/Page\b", data))
