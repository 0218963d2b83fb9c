"""Several backup folders into one snapshot: the synthetic backup and the real HEGP extracts
load together, a key found in two folders is refused naming both files, the store untouched."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.refresh.engine import load_backup
from oncosecours.services.refresh import refresh_snapshot
from oncosecours.store import history_pack

HEGP_COUNTS = {"patients": 5, "protocols": 5, "protocol_lines": 53, "molecules": 8,
               "products": 42, "history": 493}  # fmt: skip


@pytest.fixture(scope="module")
def synth_alone(small_synth):
    return load_backup(small_synth)


@pytest.fixture(scope="module")
def hegp_alone():
    return load_backup(Path(__file__).resolve().parents[2].parent / "shared" / "reference"
                       / "chimio-hegp")  # fmt: skip


def test_synthetic_and_hegp_load_together_with_the_exact_hegp_counts(
    conn, pharmacist, small_synth, hegp, synth_alone
):
    result = refresh_snapshot(conn, pharmacist, [small_synth, hegp], today=date(2026, 3, 3))
    expected = {k: synth_alone.counts[k] + HEGP_COUNTS[k] for k in HEGP_COUNTS}
    assert result["tables"] == expected
    stored = {
        name: conn.execute(f"SELECT count(*) FROM ref_{table}").fetchone()[0]
        for name, table in (("patients", "patients"), ("protocols", "protocols"),
                            ("protocol_lines", "protocol_lines"), ("molecules", "molecules"),
                            ("products", "products"))
    }  # fmt: skip
    stored["history"] = history_pack.row_count(conn)
    assert stored == expected
    # per folder: what each one brought
    folders = result["dossiers"]
    assert [Path(f["dossier"]).name for f in folders] == [small_synth.name, hegp.name]
    assert folders[0]["lignes"] == synth_alone.counts and folders[1]["lignes"] == HEGP_COUNTS
    # the oldest backup dates the snapshot, and says it: HEGP's 2023 file name
    assert result["backup_date"] == "2023-09-07" and result["stale"]
    assert "2023-09-07_5_patients_list.csv" in result["backup_date_source"]
    assert str(hegp.resolve()) in result["backup_date_source"]
    assert any("dossiers de sauvegarde portent des dates différentes (du 07/09/2023" in w
               for w in result["warnings"])  # fmt: skip
    # the real rows are there as they are, beside the synthetic ones
    folfox = conn.execute(
        "SELECT count(*) FROM ref_protocol_lines l JOIN ref_protocols p USING (protocol_id) "
        "WHERE p.name = 'FOLFOX 4 Simplifié'"
    ).fetchone()[0]
    assert folfox == 16
    assert conn.execute("SELECT name FROM ref_molecules WHERE molecule_id = 31").fetchone()[0] == (
        "Oxaliplatine"
    )
    assert history_pack.patient_rows(conn, "1111111111")
    # HEGP's filtered supportive products are still reported, once each, named by folder
    missing = [w for w in result["warnings"] if "absent des produits" in w]
    assert len(missing) == 14 and all(w.startswith(f"{hegp.name} — ") for w in missing)
    meta = conn.execute("SELECT source_dir, counts_json FROM snapshot_meta").fetchone()
    assert meta[0] == f"{small_synth.resolve()} + {hegp.resolve()}"
    assert json.loads(meta[1]) == expected
    event = conn.execute(
        "SELECT after_json FROM audit_event WHERE action = 'actualiser_sauvegarde'"
    ).fetchone()[0]
    assert [d["lignes"] for d in json.loads(event)["dossiers"]] == [
        synth_alone.counts, HEGP_COUNTS,
    ]  # fmt: skip


def test_synthetic_keys_are_far_from_the_hegp_keys(synth_alone, hegp_alone):
    from oncosecours.refresh import model
    from oncosecours.refresh.synth import KEY_RANGES

    for name, table in model.TABLES.items():
        (key,) = table.key
        ours = set(synth_alone.tables[name][key])
        assert ours and not ours & set(hegp_alone.tables[name][key]), name
    chimio = {"molecules": "DCCLEUNIK", "products": "CODEPDT", "protocols": "PRCLEUNIK",
              "protocol_lines": "LICLEUNIK", "history": "ROW_NUM"}  # fmt: skip
    for name, column in chimio.items():
        first, last = KEY_RANGES[column]
        keys = synth_alone.tables[name][model.TABLES[name].key[0]]
        assert keys.between(first, last).all(), name
    patients = synth_alone.tables["patients"]["patient_id"]
    assert patients.str.fullmatch(r"99\d{8}").all()


def _first_row_num(folder: Path) -> tuple[Path, str]:
    path = sorted((folder / "cures").glob("*.csv"))[0]
    return path, path.read_text(encoding="utf-8").splitlines()[1].split(";")[0]


def test_a_key_in_two_folders_is_refused_naming_both_files(
    conn, pharmacist, small_synth, hegp, store_path, raw_fingerprint, tmp_path
):
    refresh_snapshot(conn, pharmacist, hegp)
    before = raw_fingerprint(store_path)
    # a history row number of the real extract reused by the synthetic one
    ours, synthetic_row = _first_row_num(small_synth)
    copy = tmp_path / "synthese-collision"  # the session's backup itself stays untouched
    shutil.copytree(small_synth, copy)
    path = copy / "cures" / ours.name
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"\n{synthetic_row};", "\n6468;", 1), encoding="utf-8")
    with pytest.raises(OncoError) as caught:
        refresh_snapshot(conn, pharmacist, [copy, hegp])
    error = caught.value
    assert "Clé présente dans deux dossiers" in error.message
    assert "ROW_NUM → row_id = 6468" in error.message
    assert f"{copy / 'cures' / ours.name} (ligne 2)" in error.message
    assert str(hegp / "cures" / "1111111111.csv") in error.message
    assert error.step == "history.toml › Réunion des dossiers" and error.line is not None
    assert raw_fingerprint(store_path) == before


def test_the_same_backup_twice_is_refused_at_the_first_table(conn, pharmacist, hegp, tmp_path,
                                                             store_path, raw_fingerprint):  # fmt: skip
    before = raw_fingerprint(store_path)
    twin = tmp_path / "copie-hegp"
    shutil.copytree(hegp, twin)
    with pytest.raises(OncoError, match="molecule_id = 31") as caught:
        refresh_snapshot(conn, pharmacist, [hegp, twin])
    assert "CHIMIO_DCI_FILTER.csv (ligne 2)" in caught.value.message
    with pytest.raises(OncoError, match="indiqué deux fois"):
        refresh_snapshot(conn, pharmacist, [hegp, hegp / "."])
    assert raw_fingerprint(store_path) == before


def test_a_refusal_in_the_second_folder_names_its_folder(conn, pharmacist, small_synth, hegp):
    (hegp / "CHIMIO_PRODUIT_FILTER.csv").unlink()
    with pytest.raises(OncoError, match="Fichier manquant") as caught:
        refresh_snapshot(conn, pharmacist, [small_synth, hegp])
    assert caught.value.file == str(hegp / "CHIMIO_PRODUIT*.csv")
    assert conn.execute("SELECT count(*) FROM ref_patients").fetchone()[0] == 0


def test_cli_takes_several_backups(store_path, small_synth, hegp, monkeypatch, capsys,
                                   synth_alone):  # fmt: skip
    from oncosecours.cli import main
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    bootstrap_admin(connect(store_path), "ADM", "Admin", "7391")
    monkeypatch.setenv("ONCOSECOURS_PIN", "7391")
    args = ["refresh", "--backups", str(small_synth), "--backups", str(hegp), "--store",
            str(store_path), "--user", "ADM", "--quiet"]  # fmt: skip
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["tables", "backup_date", "warnings", "dossiers"]
    assert data["tables"]["history"] == synth_alone.counts["history"] + 493
    assert [d["tables"] for d in data["dossiers"]] == [synth_alone.counts, HEGP_COUNTS]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("Sauvegarde Chimio du 07/09/2023 chargée")
    assert "Dont, par dossier :" in out and f"{hegp.resolve()} : 5 patients, 5 protocoles" in out
