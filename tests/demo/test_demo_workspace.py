"""The demo's output folder: a previous demo's folder is emptied, anything else is refused and
left untouched; the packaged HEGP extracts are a complete copy; the CLI refusal is French."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oncosecours.demo.workspace import MARKER, prepare_output, write_settings
from oncosecours.domain.errors import OncoError


def test_new_and_empty_folders_are_used(tmp_path):
    paths = prepare_output(tmp_path / "a" / "b")
    assert paths.marker.is_file() and paths.root == (tmp_path / "a" / "b").resolve()
    empty = tmp_path / "vide"
    empty.mkdir()
    assert prepare_output(empty).marker.is_file()


def test_a_previous_demo_folder_is_emptied(tmp_path):
    paths = prepare_output(tmp_path / "demo")
    (paths.root / "documents").mkdir()
    (paths.root / "documents" / "ancien.docx").write_bytes(b"x")
    again = prepare_output(tmp_path / "demo")
    assert sorted(p.name for p in again.root.iterdir()) == [MARKER]


def test_a_foreign_folder_is_refused_and_untouched(tmp_path):
    folder = tmp_path / "mes-documents"
    folder.mkdir()
    (folder / "important.xlsx").write_bytes(b"ne pas effacer")
    with pytest.raises(OncoError, match="n'a pas été créé par la démonstration"):
        prepare_output(folder)
    assert (folder / "important.xlsx").read_bytes() == b"ne pas effacer"
    assert not (folder / MARKER).exists()
    a_file = tmp_path / "fichier"
    a_file.write_text("x")
    with pytest.raises(OncoError, match="n'est pas un dossier"):
        prepare_output(a_file)


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_symlink_is_refused(tmp_path):
    target = prepare_output(tmp_path / "vraie").root
    link = tmp_path / "lien"
    link.symlink_to(target, target_is_directory=True)
    with pytest.raises(OncoError, match="lien symbolique"):
        prepare_output(link)
    assert (target / MARKER).exists()


def test_settings_file_loads_with_the_second_copy(tmp_path):
    from oncosecours.settings import load_settings

    paths = prepare_output(tmp_path / "ça l'été")  # quote and accents in the path
    settings = load_settings(write_settings(paths, "I000157"))
    assert Path(settings.copie_secours.dossier) == paths.replica
    assert "I000157" in settings.codes_les.codes and "I999999" in settings.codes_les.codes


HEGP = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "chimio-hegp"


def test_packaged_hegp_extracts_are_a_complete_copy():
    from oncosecours.resources import data

    packaged = data("demo", "chimio-hegp")
    if not HEGP.is_dir():
        pytest.skip("../shared absent")
    compare = filecmp.dircmp(HEGP, packaged)
    assert not compare.left_only and not compare.right_only and not compare.diff_files
    sub = compare.subdirs["cures"]
    assert not sub.left_only and not sub.diff_files
    assert (packaged / "LICENSE").read_text().startswith("MIT License")


def test_cli_refuses_a_foreign_folder_in_french(tmp_path):
    folder = tmp_path / "autre"
    folder.mkdir()
    (folder / "garder.txt").write_text("à garder", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCOSECOURS_")}
    done = subprocess.run(
        [sys.executable, "-m", "oncosecours", "demo", "--out", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Refusé : Le dossier de sortie existe")
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["garder.txt"]


def test_the_current_folder_is_never_emptied(tmp_path, monkeypatch):
    paths = prepare_output(tmp_path / "demo")
    (paths.root / "sous").mkdir()
    monkeypatch.chdir(paths.root / "sous")
    with pytest.raises(OncoError, match="dossier courant"):
        prepare_output(paths.root)
    monkeypatch.chdir(paths.root)
    with pytest.raises(OncoError, match="dossier courant"):
        prepare_output(".")
    assert (paths.root / "sous").is_dir() and paths.marker.exists()
