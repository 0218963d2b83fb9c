"""Re-entry into Chimio on the demo's day: the CSV files read back against the store, the Word
dossiers read back, their PDF pages, the checklist ticks (audited), a wrong export file refused."""

from __future__ import annotations

import csv
import sqlite3

import pytest
from sortie_fixtures import run_cli

from oncosecours.domain.errors import OncoError

pytestmark = pytest.mark.slow


def _csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _fr(number) -> str:
    return f"{number:g}".replace(".", ",")


def test_export_read_back_against_the_store(demo):
    out = demo["tmp"] / "reprise"
    done = run_cli("sortie", "reentry", "export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(demo["store"])
    conn.row_factory = sqlite3.Row
    # every preparation of the crisis, once, with its state and lots
    preps = _csv(out / "reprise_preparations.csv")
    stored = conn.execute("SELECT * FROM preparations ORDER BY ord_number").fetchall()
    assert sorted(r["N° ordonnancier"] for r in preps) == [p["ord_number"] for p in stored]
    by_number = {r["N° ordonnancier"]: r for r in preps}
    for prep in stored:
        row = by_number[prep["ord_number"]]
        assert row["Dose"] == _fr(prep["dose"])
        assert row["IPP"] == prep["patient_ipp"]
        lots = conn.execute("SELECT lot FROM preparation_lots WHERE preparation_id = ?",
                            (prep["id"],)).fetchall()  # fmt: skip
        assert all(lot[0] in row["Lots"] for lot in lots)
    dispensed = next(p for p in stored if p["state"] == "dispensed")
    assert by_number[dispensed["ord_number"]]["État"] == "dispensée"
    assert by_number[dispensed["ord_number"]]["Administrée le"] == ""
    # the lines of the cures of the day, as prescribed, with the pharmacist's decision
    lines = _csv(out / "reprise_lignes.csv")
    day_lines = conn.execute(
        "SELECT l.*, p.state AS pstate FROM prescription_lines l JOIN prescriptions p "
        "ON p.id = l.prescription_id"
    ).fetchall()
    assert sorted(int(r["N° ligne"]) for r in lines) == sorted(line["id"] for line in day_lines)
    by_id = {int(r["N° ligne"]): r for r in lines}
    for line in day_lines:
        row = by_id[line["id"]]
        assert row["Dose prescrite"] == _fr(line["dose"])
        assert row["Dose calculée"] == _fr(line["computed_dose"])
        assert row["Code LES"] == (line["les_code"] or "")
    refused = [r for r in lines if r["Décision du pharmacien"] == "refusée"]
    assert refused  # the demo refuses the oxaliplatin in NaCl
    administrations = _csv(out / "reprise_administrations.csv")
    assert (
        len(administrations) == conn.execute("SELECT count(*) FROM administrations").fetchone()[0]
    )
    cures = _csv(out / "reprise_cures.csv")
    prescribed = conn.execute("SELECT count(*) FROM cures WHERE prescription_id IS NOT NULL")
    assert len([c for c in cures if c["État"] != "planifiée"]) == prescribed.fetchone()[0]
    patients = _csv(out / "reprise_patients.csv")
    with_inclusion = conn.execute("SELECT count(DISTINCT patient_id) FROM inclusions").fetchone()[0]
    assert len(patients) == with_inclusion


def test_dossiers_docx_text(demo):
    from docx2python import docx2python

    out = demo["tmp"] / "reprise"
    done = run_cli("sortie", "reentry", "export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(demo["store"])
    for ipp, birth, first in conn.execute(
        "SELECT DISTINCT p.ipp, p.birth_name, p.first_name FROM patients p "
        "JOIN inclusions i ON i.patient_id = p.id"
    ):
        (file,) = (out / "dossiers").glob(f"dossier_*_{ipp}.docx")
        with docx2python(file) as document:
            text = document.text
        assert "DOSSIER DE REPRISE DANS CHIMIO" in text and birth.upper() in text and first in text
        for (number,) in conn.execute("SELECT ord_number FROM preparations WHERE patient_ipp = ?",
                                      (ipp,)):  # fmt: skip
            assert number in text
        assert "{{" not in text and "{%" not in text


@pytest.mark.libreoffice
def test_dossiers_pdf_pages(demo):
    from oncosecours.documents.pdf import page_count, soffice

    if soffice() is None:
        pytest.skip("LibreOffice absent")
    out = demo["tmp"] / "reprise"
    done = run_cli("sortie", "reentry", "export", "--out", str(out), "--pdf")
    assert done.returncode == 0, done.stderr
    singles = sorted((out / "dossiers").glob("dossier_*.pdf"))
    assert len(singles) == 4
    pages = [page_count(p) for p in singles]
    assert all(n >= 1 for n in pages)
    assert page_count(out / "dossiers" / "dossiers_tous_patients.pdf") == sum(pages)


def test_checklist_ticks_are_audited_and_never_twice(demo):
    listing = run_cli("sortie", "reentry", "list", "--json")
    import json

    state = json.loads(listing.stdout)
    first = state["items"][0]["key"]
    assert state["pointes"] == 0 and state["restants"] == len(state["items"])
    done = run_cli("sortie", "reentry", "tick", "--user", "PH1", "--item", first)
    assert done.returncode == 0, done.stderr
    again = run_cli("sortie", "reentry", "tick", "--user", "PH1", "--item", first)
    assert again.returncode == 2 and "déjà pointé par PH1" in again.stdout + again.stderr
    nurse = run_cli(
        "sortie", "reentry", "tick", "--user", "IDE1", "--item", state["items"][1]["key"]
    )
    assert nurse.returncode == 2 and "pharmacien" in nurse.stdout + nurse.stderr
    conn = sqlite3.connect(demo["store"])
    events = conn.execute("SELECT user_initials, entity_id FROM audit_event "
                          "WHERE action = 'pointer_reprise'").fetchall()  # fmt: skip
    assert events == [("PH1", first)]
    text = run_cli("sortie", "reentry", "list").stdout
    assert "[x] PH1" in text and first in text


def test_a_wrong_export_file_is_refused_before_writing(demo, tmp_path):
    import shutil

    from oncosecours.resources import shipped
    from oncosecours.services.sortie.records import gather
    from oncosecours.services.sortie.reentry import export_csv
    from oncosecours.store.db import connect

    layouts = tmp_path / "exports"
    shutil.copytree(shipped("exports"), layouts)
    path = layouts / "reprise_cures.toml"
    path.write_text(path.read_text("utf-8").replace('champ = "date_j1"', 'champ = "date_j"'),
                    encoding="utf-8")  # fmt: skip
    conn = connect(demo["store"])
    with pytest.raises(OncoError) as caught:
        export_csv(gather(conn), tmp_path / "out", layouts)
    message = str(caught.value)
    assert "champ inconnu « date_j »" in message and "reprise_cures.toml" in message
    line = next(i for i, t in enumerate(path.read_text("utf-8").splitlines(), 1) if '"date_j"' in t)
    assert caught.value.line == line
    assert not (tmp_path / "out").exists()
