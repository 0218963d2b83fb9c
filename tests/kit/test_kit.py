"""The offline emergency kit: complete Windows wheelhouse, self-contained installer, configured workbook.

Builds a real kit (pip wheel + pip download for win_amd64, which needs PyPI) once per session.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.excel.builder import conf_values
from oncosecours.kit.build import INSTALLED, build_kit, check_closure

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("kit") / "OncoSecours-kit"
    result = build_kit(out)
    return out, result


def test_kit_holds_workbook_queries_templates_settings_guide(kit):
    out, result = kit
    for name in ("OncoSecours.xlsm", "etablissement.toml", "installer.bat", "GUIDE-RAPIDE.txt"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "queries").iterdir()) == sorted(
        p.name for p in (Path(__file__).parents[2] / "queries").iterdir()
    )
    assert any(p.suffix == ".docx" for p in (out / "templates").iterdir())
    guide = (out / "GUIDE-RAPIDE.txt").read_text(encoding="utf-8")
    assert "Python 3.11" in guide and "{PYVER}" not in guide
    assert len(guide.splitlines()) <= 60  # one page


def test_wheelhouse_is_windows_and_covers_the_dependency_closure(kit):
    out, result = kit
    names = result["roues"]
    assert any(n.startswith("oncosecours-") for n in names)
    assert any(n.startswith("pywin32-") and "win_amd64" in n for n in names)
    assert any(n.startswith("pandas-") and "win_amd64" in n for n in names)
    assert not any("linux" in n or "macosx" in n for n in names)
    # a workstation may work on the unit's PostgreSQL server: psycopg and its Windows needs
    assert any(n.startswith("psycopg_binary-") and "win_amd64" in n for n in names)
    assert any(n.startswith("tzdata-") for n in names)
    report = check_closure(out / "wheelhouse", "3.11")
    for package in ("xlwings", "openpyxl", "pandas", "docxtpl", "pyOpenVBA", "pywin32",
                    "psycopg-binary", "tzdata"):  # fmt: skip
        assert re.search(package, report, re.IGNORECASE), package


def test_closure_check_catches_a_missing_wheel(kit, tmp_path):
    out, _ = kit
    partial = tmp_path / "wheelhouse"
    shutil.copytree(out / "wheelhouse", partial)
    for wheel in partial.glob("jinja2-*.whl"):
        wheel.unlink()
    with pytest.raises(OncoError, match="vérification de la roue complète"):
        check_closure(partial, "3.11")


def test_installer_refers_only_to_files_inside_the_kit(kit):
    out, _ = kit
    raw = (out / "installer.bat").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # Windows line endings for cmd.exe
    text = raw.decode("utf-8")
    assert not re.search(r"[A-Za-z]:\\", text), "chemin absolu vers un disque"
    assert "\\\\" not in text, "chemin réseau"
    assert "http" not in text.lower()
    assert "--no-index" in text
    assert f'--upgrade "{INSTALLED}"' in text  # what the closure check resolved
    created = {"python"}  # the folder the installer itself creates beside the workbook
    for ref in re.findall(r"%KIT%([^\"%\s]+)", text):
        first = ref.split("\\")[0]
        assert first in created or (out / first).exists(), ref
    assert 'set "VENV=%KIT%python"' in text
    assert "--interpreter" not in text  # the workbook keeps the kit-relative interpreter


def _configure(workbook: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "oncosecours", "kit-configure", "--workbook", str(workbook), *extra],
        capture_output=True,
        text=True,
    )


def test_kit_configure_writes_the_kit_relative_interpreter(kit, tmp_path):
    out, _ = kit
    workbook = tmp_path / "OncoSecours.xlsm"
    shutil.copy2(out / "OncoSecours.xlsm", workbook)
    before = workbook.read_bytes()
    refused = _configure(workbook)  # the kit's Python is not installed yet
    assert refused.returncode == 2 and "Interpréteur Python introuvable" in refused.stderr
    assert workbook.read_bytes() == before
    python = tmp_path / "python" / "Scripts" / "python.exe"
    python.parent.mkdir(parents=True)
    python.write_bytes(b"")
    result = _configure(workbook)
    assert result.returncode == 0, result.stderr
    assert (
        conf_values(workbook)["INTERPRETER_WIN"] == r"%ONCOSECOURS_DIR%\python\Scripts\python.exe"
    )
    assert "xl/vbaProject.bin" in zipfile.ZipFile(workbook).namelist()


def test_kit_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "autre.txt").write_text("x")
    with pytest.raises(OncoError, match="vide"):
        build_kit(tmp_path)


def test_kit_manifest_lists_every_file_with_its_sha256_and_the_windows_wheel_versions(kit):
    import hashlib
    import json

    out, result = kit
    manifest = json.loads((out / "MANIFESTE.json").read_text(encoding="utf-8"))
    assert result["manifeste"] == str(out / "MANIFESTE.json")
    files = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}
    files.pop("MANIFESTE.json")
    assert set(manifest["fichiers"]) == set(files)
    for name in ("OncoSecours.xlsm", "installer.bat", "queries/patients.toml"):
        assert manifest["fichiers"][name] == hashlib.sha256(files[name].read_bytes()).hexdigest()
    pandas = next(n for n in result["roues"] if n.startswith("pandas-"))
    assert manifest["paquets"]["pandas"] == pandas.split("-")[1]
    assert manifest["python"] == "3.11" and "vba:OncoSecoursAutoTest" in manifest["classeur"]
