"""Bad backups are refused in French, naming file, line, column and step; the store is left
byte for byte as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.services.refresh import refresh_snapshot


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8", newline="")


def _missing_file(folder: Path) -> None:
    (folder / "CHIMIO_PRODUIT_FILTER.csv").unlink()


def _renamed_column(folder: Path) -> None:
    _edit(folder / "CHIMIO_DCI_FILTER.csv", "|NOMDCI|", "|NOM_DCI|")


def _wrong_separator(folder: Path) -> None:
    path = folder / "2023-09-07_5_patients_list.csv"
    path.write_text(path.read_text().replace(";", ","), encoding="utf-8")


def _cp1252(folder: Path) -> None:
    path = folder / "LIGNEPROTOCOL_FILTER.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))


def _truncated_multiline(folder: Path) -> None:
    path = folder / "LIGNEPROTOCOL_FILTER.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"NFS ECG avant C1", 2000) + 5])


def _truncated_history(folder: Path) -> None:
    path = folder / "cures" / "3333333333.csv"
    data = path.read_bytes()
    path.write_bytes(data[:-40])


def _truncated_line_inside(folder: Path) -> None:
    path = folder / "cures" / "2222222222.csv"
    lines = path.read_text().splitlines(keepends=True)
    lines[5] = lines[5][:60] + "\n"
    path.write_text("".join(lines))


def _empty_header(folder: Path) -> None:
    path = folder / "2023-09-07_5_patients_list.csv"
    path.write_text("\n" + path.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")


def _header_only(folder: Path) -> None:
    path = folder / "2023-09-07_5_patients_list.csv"
    path.write_text(path.read_text(encoding="utf-8").split("\n", 1)[0] + "\n", encoding="utf-8")


def _duplicate_key(folder: Path) -> None:
    path = folder / "CHIMIO_PRODUIT_FILTER.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines + [lines[3]]), encoding="utf-8")


def _dangling_molecule(folder: Path) -> None:
    _edit(folder / "LIGNEPROTOCOL_FILTER.csv", "5961|944|31|85|", "5961|944|999|85|")


def _unparsable_number(folder: Path) -> None:
    _edit(folder / "LIGNEPROTOCOL_FILTER.csv", "5961|944|31|85|", "5961|944|31|8S|")


def _unparsable_date(folder: Path) -> None:
    _edit(folder / "cures" / "1111111111.csv", ";2004-12-14;", ";2004-13-45;")


def _unknown_unit(folder: Path) -> None:
    _edit(folder / "LIGNEPROTOCOL_FILTER.csv", "5961|944|31|85|2|", "5961|944|31|85|42|")


CASES = {
    # name: (mutation, message, file, line, column, step)
    "missing file": (_missing_file, "Fichier manquant", "CHIMIO_PRODUIT*.csv", None, None,
                     "products.toml › 0. Source"),
    "renamed column": (_renamed_column, "Colonne obligatoire « NOMDCI » absente",
                       "CHIMIO_DCI_FILTER.csv", 1, "NOMDCI", "molecules.toml › 1. "),
    "wrong separator": (_wrong_separator, "Colonne obligatoire « PATIENT_NUM » absente",
                        "2023-09-07_5_patients_list.csv", 1, "PATIENT_NUM",
                        "patients.toml › 1. "),
    "cp1252 instead of UTF-8": (_cp1252, "Encodage incorrect", "LIGNEPROTOCOL_FILTER.csv", 2,
                                "NOMPROT", "protocols.toml › 0. Source"),
    "truncated multiline file": (_truncated_multiline, "Fichier tronqué",
                                 "LIGNEPROTOCOL_FILTER.csv", 18, None,
                                 "protocols.toml › 0. Source"),
    "truncated history file": (_truncated_history, "Fichier tronqué",
                               "cures/3333333333.csv", 211, None, "history.toml › 0. Source"),
    "line cut inside a file": (_truncated_line_inside, "Ligne incomplète",
                               "cures/2222222222.csv", 6, "NVAL_NUM",
                               "history.toml › 0. Source"),
    "empty header line": (_empty_header, "En-tête vide", "2023-09-07_5_patients_list.csv", 1,
                          None, "patients.toml › 0. Source"),
    "header only": (_header_only, "Aucune ligne de données", "2023-09-07_5_patients_list.csv",
                    None, None, "patients.toml › 0. Source"),
    "duplicate key": (_duplicate_key, "Clé en double : CODEPDT → product_id = 178324 (aussi "
                      "en ligne 44 de CHIMIO_PRODUIT_FILTER.csv)", "CHIMIO_PRODUIT_FILTER.csv",
                      4, "CODEPDT → product_id",
                      "products.toml › 5. Une seule ligne par produit"),
    "dangling reference": (_dangling_molecule, "Référence inconnue : DCCLEUNIK → molecule_id "
                           "= 999 absent des molécules", "LIGNEPROTOCOL_FILTER.csv", 24,
                           "DCCLEUNIK → molecule_id",
                           "protocols.toml › 13. La molécule de la ligne existe"),
    "unparsable number": (_unparsable_number, "Nombre illisible : « 8S »",
                          "LIGNEPROTOCOL_FILTER.csv", 24, "DOSE → dose",
                          "protocols.toml › 4. Types des colonnes"),
    "unparsable date": (_unparsable_date, "Date illisible : « 2004-13-45 »",
                        "cures/1111111111.csv", 4, "START_DATE → start_date",
                        "history.toml › 3. Types des colonnes"),
    "unknown unit code": (_unknown_unit, "Valeur sans correspondance : « 42 »",
                          "LIGNEPROTOCOL_FILTER.csv", 24, "UNITE → unit_code",
                          "protocols.toml › 5. Unité de la dose"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_backup_is_refused_and_the_store_is_untouched(
    case, hegp, conn, pharmacist, store_path, fingerprint, raw_fingerprint
):
    mutate, message, file, line, column, step = CASES[case]
    refresh_snapshot(conn, pharmacist, hegp)  # a previous, good snapshot
    before = fingerprint(store_path)
    raw_before = raw_fingerprint(store_path)
    mutate(hegp)
    with pytest.raises(OncoError) as caught:
        refresh_snapshot(conn, pharmacist, hegp)
    error = caught.value
    assert message in error.message, str(error)
    assert error.file == file, str(error)
    assert error.line == line, str(error)
    assert error.column == column, str(error)
    assert error.step.startswith(step), str(error)
    assert raw_fingerprint(store_path) == raw_before  # not a byte written, not even to the WAL
    assert fingerprint(store_path) == before
    assert conn.execute("SELECT count(*) FROM ref_protocol_lines").fetchone()[0] == 53


def test_wrong_separator_is_named(hegp):
    from oncosecours.refresh.engine import load_backup

    _wrong_separator(hegp)
    with pytest.raises(OncoError, match="séparé par « , » \\(virgule\\) et non par « ; »"):
        load_backup(hegp)


def test_utf8_file_read_as_cp1252_is_refused(hegp, tmp_path):
    """The reverse mistake: a query saying cp1252 for a UTF-8 file would garble the accents."""
    import shutil

    from oncosecours.refresh.engine import load_backup
    from oncosecours.resources import shipped

    queries = tmp_path / "queries"
    shutil.copytree(shipped("queries"), queries)
    _edit(queries / "protocols.toml", 'encodage = "utf-8"', 'encodage = "cp1252"')
    with pytest.raises(OncoError, match="le fichier est en UTF-8") as caught:
        load_backup(hegp, queries)
    assert caught.value.file == "LIGNEPROTOCOL_FILTER.csv" and caught.value.line == 2


def test_missing_backup_folder(tmp_path, conn, pharmacist):
    with pytest.raises(OncoError, match="Dossier de sauvegarde introuvable"):
        refresh_snapshot(conn, pharmacist, tmp_path / "absent")


def test_cli_refusal_exits_non_zero_with_french_message(hegp, store_path, capsys, monkeypatch):
    from oncosecours.cli import main
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    bootstrap_admin(connect(store_path), "ADM", "Admin", "7391")
    monkeypatch.setenv("ONCOSECOURS_PIN", "7391")
    _unparsable_number(hegp)
    code = main(["refresh", "--backups", str(hegp), "--store", str(store_path), "--user", "ADM",
                 "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Refusé : Nombre illisible : « 8S »")
    assert "fichier « LIGNEPROTOCOL_FILTER.csv », ligne 24, colonne « DOSE → dose »" in err
    assert "Traceback" not in err


def test_history_parsed_in_blocks_is_the_same_and_refusals_name_their_file(
    small_synth, hegp, monkeypatch
):
    """Many files are parsed block by block while the next ones are read: small blocks give
    the same snapshot (and digest) as one block, and a bad line is still named."""
    from oncosecours.refresh import reader
    from oncosecours.refresh.engine import load_backup

    whole = load_backup(small_synth)
    monkeypatch.setattr(reader, "BLOCK", 4096)  # ~40 blocks for 300 patient files
    blocks = load_backup(small_synth)
    assert blocks.sha256 == whole.sha256
    for name, frame in whole.tables.items():
        assert blocks.tables[name].equals(frame), name
    # a number that does not parse in a later block: every block read again as text, named
    _edit(hegp / "cures" / "5555555555.csv", ";1;1;12;12;None;158;", ";1;1;12;1Z;None;158;")
    with pytest.raises(OncoError, match="Nombre illisible : « 1Z »") as caught:
        load_backup(hegp)
    assert (caught.value.file, caught.value.line) == ("cures/5555555555.csv", 2)
    assert caught.value.step == "history.toml › 3. Types des colonnes"
    _truncated_line_inside(hegp)
    with pytest.raises(OncoError, match="Ligne incomplète") as caught:
        load_backup(hegp)
    assert (caught.value.file, caught.value.line) == ("cures/2222222222.csv", 6)
