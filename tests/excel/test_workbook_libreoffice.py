"""LibreOffice headless opens the built workbook with macros enabled and runs the project's smoke
macro. This proves the package parses and the project's VBA compiles somewhere; it proves nothing
about Excel (no Excel on Linux)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("lo_smoke.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def _uno_available() -> bool:
    if shutil.which("soffice") is None or not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    return probe.returncode == 0


pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.slow,
    pytest.mark.skipif(not _uno_available(), reason="LibreOffice (soffice + python3-uno) absent"),
]


def _run(path: Path, module: str, macro: str) -> dict:
    out = subprocess.run(
        [SYSTEM_PYTHON, str(SCRIPT), str(path), module, macro],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_libreoffice_loads_the_workbook_with_its_macros(tmp_path, built):
    path = tmp_path / "OncoSecours.xlsm"
    shutil.copy(built, path)
    result = _run(path, "OncoSecoursRuban", "OncoSecoursDiagnostic")
    assert "VBAProject" in result["libraries"]
    assert {"OncoSecoursRuban", "xlwings"} <= set(result["modules"])
    assert result["sheets"][:3] == ["Accueil", "Patients", "Prescription"]


def test_libreoffice_runs_the_smoke_macro_of_the_ribbon_module(tmp_path, built):
    """LibreOffice Basic cannot compile xlwings' module (``Declare PtrSafe``), which stops every
    macro of the project there: the smoke macro runs in a copy without that one module."""
    from pyopenvba import ExcelFile

    path = tmp_path / "sans-xlwings.xlsm"
    shutil.copy(built, path)
    with ExcelFile(str(path)) as book:
        book.vba_project().delete_module("xlwings")
        book.save()
    result = _run(path, "OncoSecoursRuban", "OncoSecoursDiagnostic")
    assert result.get("error") is None, result
    assert result["value"] == "OncoSecours : ruban OK"
