"""Fixtures of the qualification tests (helpers in qualification_helpers.py, put on sys.path).

A kit folder as ``oncosecours kit`` lays it out (workbook, queries, templates, settings, a
wheelhouse, the manifest), built once; each test gets its own copy to mutate."""

from __future__ import annotations

import shutil
import sys
from importlib import metadata
from pathlib import Path

import pytest

from oncosecours.resources import shipped

sys.path.insert(0, str(Path(__file__).parent))

WHEELS = ("xlwings", "openpyxl", "pandas", "docxtpl", "pywin32")


def make_kit(folder: Path, medium: Path) -> Path:
    from oncosecours.excel.builder import build_workbook
    from oncosecours.kit.manifest import write_manifest

    folder.mkdir(parents=True)
    build_workbook(folder / "OncoSecours.xlsm")
    for name in ("queries", "templates"):
        shutil.copytree(shipped(name), folder / name)
    settings = shipped("etablissement.toml").read_text(encoding="utf-8")
    settings = settings.replace('dossier = ""', f'dossier = "{medium.as_posix()}"')
    (folder / "etablissement.toml").write_text(settings, encoding="utf-8")
    wheelhouse = folder / "wheelhouse"
    wheelhouse.mkdir()
    for name in WHEELS:  # file names as pip writes them; the versions installed here
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "311"
        (wheelhouse / f"{name}-{version}-py3-none-win_amd64.whl").write_bytes(name.encode())
    import platform

    write_manifest(folder, ".".join(platform.python_version_tuple()[:2]))
    return folder


@pytest.fixture(scope="session")
def kit_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kit-modele")
    return make_kit(root / "OncoSecours-kit", root / "support")


@pytest.fixture
def kit(tmp_path, kit_template) -> Path:
    """A fresh copy of the kit; its second medium is a folder of this test."""
    from oncosecours.kit.manifest import write_manifest

    folder = tmp_path / "OncoSecours-kit"
    shutil.copytree(kit_template, folder)
    text = (folder / "etablissement.toml").read_text(encoding="utf-8")
    medium = tmp_path / "support"
    old = (kit_template.parent / "support").as_posix()
    (folder / "etablissement.toml").write_text(text.replace(old, medium.as_posix()), "utf-8")
    import platform

    write_manifest(folder, ".".join(platform.python_version_tuple()[:2]))
    return folder
