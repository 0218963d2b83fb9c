"""``oncosecours demo`` run for real (a subprocess, as a new user runs it), then every output
read back: the store and its audit chain, the ordonnancier, the Word documents, the workbook,
the second copy, the HEGP extracts loaded with the synthetic backup, and the printed summary."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One demo run (no PDF) shared by the module's tests."""
    out = tmp_path_factory.mktemp("demo") / "sortie demo"  # a space in the path, on purpose
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCOSECOURS_")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "oncosecours", "demo", "--out", str(out), "--no-pdf"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    seconds = time.perf_counter() - started
    print(f"\noncosecours demo (sans PDF) : {seconds:.1f} s")
    facts = None
    if (out / "resume.json").exists():
        facts = json.loads((out / "resume.json").read_text(encoding="utf-8"))
    return {"out": out, "run": done, "facts": facts, "seconds": seconds}


def _conn(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def _text(docx: Path) -> str:
    from docx2python import docx2python

    with docx2python(docx) as document:
        return document.text


def test_runs_and_exits_zero(demo):
    run = demo["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    # progress on stderr, the summary on stdout
    assert "1/16 Sauvegarde Chimio synthétique" in run.stderr
    assert "15/16 Vérifications" in run.stderr
    assert "16/16 Classeur" in run.stderr  # built after the second copy is written and verified
    assert run.stdout.startswith("OncoSecours — démonstration")


def test_summary_tells_the_homonym_and_the_refusals(demo):
    raw = demo["run"].stdout
    out = " ".join(raw.replace("\u00a0", " ").split())  # wrapped lines joined
    assert "HOMONYME DÉTECTÉ" in out and "[HOMONYME]" in out
    assert "REFUS de la prescription" in out and "[DILUANT_INTERDIT]" in out
    assert "AVEC JUSTIFICATION" in out and "[CREATININE_ANCIENNE]" in out
    assert "HORS TOLÉRANCE" in out and "[GRAVIMETRIE_HORS_TOLERANCE]" in out
    assert "DFG plafonné à 125 mL/min" in out  # the carboplatin adjustment message
    assert "Dose plafonnée à 2 mg" in out  # the vincristine adjustment message
    assert "Journal d'audit vérifié" in out
    # the paths to open are printed, and they exist
    for label in ("OncoSecours.xlsm", "fiches_", "etiquettes_", "oncosecours.sqlite"):
        assert label in out
    assert (demo["out"] / "RESUME.txt").read_text(encoding="utf-8") == raw


def test_store_audit_chain_verifies_and_holds_the_day(demo):
    from oncosecours.store import audit

    conn = _conn(demo["out"] / "oncosecours.sqlite")
    report = audit.verify(conn)
    assert report.ok, report.problem
    assert report.events == demo["facts"]["journal"]["evenements"] > 100
    actions = {r[0] for r in conn.execute("SELECT DISTINCT action FROM audit_event")}
    for expected in (
        "actualiser_sauvegarde",
        "créer_patient",
        "inclure_patient",
        "prescrire",
        "refuser_prescription",
        "valider_prescription",
        "préparer",
        "contrôler",
        "libérer",
        "dispenser",
        "administrer",
        "écrire_note",
    ):
        assert expected in actions
    # the homonym: confirmed as a different person, and the confirmation is an audit event
    (confirmed,) = conn.execute("SELECT * FROM patients WHERE homonym_confirmed = 1").fetchall()
    event = conn.execute(
        "SELECT after_json FROM audit_event WHERE action = 'créer_patient' AND entity_id = ? "
        "AND after_json LIKE '%confirmation%'",
        (str(confirmed["id"]),),
    ).fetchone()
    assert event is not None and "autre personne" in event[0]
    assert conn.execute(
        "SELECT 1 FROM ref_patients WHERE birth_name = ? AND birth_date = ?",
        (confirmed["birth_name"], confirmed["birth_date"]),
    ).fetchone()
    # the day happened today
    assert demo["facts"]["date"] == date.today().isoformat()
    conn.close()


def test_the_day_tells_one_consistent_time(demo):
    """Simulated clock: journal in order and on today's date, no bag before its validation."""
    conn = _conn(demo["out"] / "oncosecours.sqlite")
    stamps = [r[0] for r in conn.execute("SELECT at FROM audit_event ORDER BY seq")]
    assert stamps == sorted(stamps)
    assert {s[:10] for s in stamps} == {demo["facts"]["date"]}
    late = conn.execute(
        "SELECT p.ord_number FROM preparations p JOIN validations v ON v.prescription_id = "
        "p.prescription_id AND v.decision = 'validated' WHERE p.prepared_at < v.decided_at"
    ).fetchall()
    assert late == []
    chain = [
        dict(r)
        for r in conn.execute(
            "SELECT p.ord_number, p.prepared_at, r.decided_at, d.dispensed_at, a.started_at "
            "FROM preparations p JOIN preparation_releases r ON r.preparation_id = p.id "
            "JOIN dispensations d ON d.preparation_id = p.id "
            "JOIN administrations a ON a.preparation_id = p.id"
        )
    ]
    assert len(chain) >= 8
    for bag in chain:
        assert bag["prepared_at"] < bag["decided_at"] <= bag["dispensed_at"] <= bag["started_at"]
    conn.close()


def test_validation_refusal_and_justification_are_stored(demo):
    conn = _conn(demo["out"] / "oncosecours.sqlite")
    decisions = [dict(r) for r in conn.execute("SELECT * FROM validations ORDER BY id")]
    refused = [d for d in decisions if d["decision"] == "refused"]
    assert len(refused) == 1
    assert "DILUANT_INTERDIT" in refused[0]["findings_json"] and refused[0]["comment"]
    justified = [
        d for d in decisions if "CREATININE_ANCIENNE" in json.loads(d["justifications_json"])
    ]
    assert len(justified) == 1 and justified[0]["decision"] == "validated"
    # the refused cure was prescribed again (in glucose) and validated
    cure = refused[0]["prescription_id"]
    again = conn.execute(
        "SELECT p2.state, l.diluent FROM prescriptions p1 JOIN prescriptions p2 ON "
        "p2.cure_id = p1.cure_id AND p2.id > p1.id JOIN prescription_lines l ON "
        "l.prescription_id = p2.id WHERE p1.id = ? AND l.molecule_name LIKE 'Oxali%'",
        (cure,),
    ).fetchone()
    assert again["state"] == "validated" and "Glucose" in again["diluent"]
    conn.close()


def test_carboplatin_by_auc_and_vincristine_capped(demo):
    conn = _conn(demo["out"] / "oncosecours.sqlite")
    carbo = conn.execute(
        "SELECT l.*, p.gfr_ml_min FROM prescription_lines l JOIN prescriptions p ON p.id = "
        "l.prescription_id WHERE l.protocol_unit = 'AUC' AND p.state = 'validated'"
    ).fetchone()
    assert carbo["protocol_dose"] == 5
    # Calvert with the GFR capped at 125 mL/min: AUC x (125 + 25)
    assert carbo["gfr_ml_min"] > 125 and carbo["dose"] == pytest.approx(5 * 150)
    assert [a["rule"] for a in json.loads(carbo["adjustments_json"])] == ["PLAFOND_DFG"]
    vinc = conn.execute(
        "SELECT * FROM prescription_lines WHERE molecule_name LIKE 'Vincristine%'"
    ).fetchone()
    assert vinc["theoretical_dose"] > 2 and vinc["dose"] == pytest.approx(2.0)
    adjustments = json.loads(vinc["adjustments_json"])
    assert adjustments and adjustments[-1]["after"] == pytest.approx(2.0)
    conn.close()


def test_ordonnancier_numbers_are_consecutive_and_bags_followed_through(demo):
    from oncosecours.store.ordonnancier import check_sequence

    conn = _conn(demo["out"] / "oncosecours.sqlite")
    rows = [dict(r) for r in conn.execute("SELECT * FROM preparations ORDER BY id")]
    year = date.today().year
    assert [r["ord_number"] for r in rows] == [f"{year}-{n:06d}" for n in range(1, len(rows) + 1)]
    assert [r["ord_number"] for r in rows] == demo["facts"]["ordonnancier"]
    assert len(rows) >= 8 and check_sequence(conn).ok
    controls = {
        r["preparation_id"]: dict(r) for r in conn.execute("SELECT * FROM preparation_controls")
    }
    out_of_tolerance = [c for c in controls.values() if not c["in_tolerance"]]
    assert len(out_of_tolerance) == 1
    release = conn.execute(
        "SELECT * FROM preparation_releases WHERE preparation_id = ?",
        (out_of_tolerance[0]["preparation_id"],),
    ).fetchone()
    assert release["decision"] == "released" and release["justification"]
    states = {r["state"] for r in rows}
    assert states <= {"administered", "dispensed"} and "administered" in states
    assert conn.execute("SELECT count(*) FROM notes WHERE corrects_note_id IS NOT NULL").fetchone()[
        0
    ]
    conn.close()


def test_documents_open_and_name_the_patients(demo):
    facts = demo["facts"]
    docs = facts["documents"]["fichiers"]
    conn = _conn(demo["out"] / "oncosecours.sqlite")
    preparations = {r["ord_number"]: dict(r) for r in conn.execute("SELECT * FROM preparations")}
    assert len(docs["fiches-fabrication"]) == len(preparations)
    assert len(docs["etiquettes"]) == len(preparations)
    for path in docs["fiches-fabrication"] + docs["etiquettes"]:
        text = _text(Path(path))
        number = re.search(r"_(\d{4}-\d{6})_", Path(path).name).group(1)
        prep = preparations[number]
        assert number in text
        assert prep["patient_birth_name"] in text and prep["patient_first_name"] in text
    patients = [dict(r) for r in conn.execute("SELECT * FROM patients")]
    plans = docs["plans-de-soins"]
    assert len(plans) == len(patients)
    for patient in patients:
        (plan,) = [p for p in plans if patient["ipp"] in Path(p).name]
        text = _text(Path(plan))
        assert patient["birth_name"] in text and patient["first_name"] in text
    for register in docs["ordonnancier"]:
        text = _text(Path(register))
        assert all(number in text for number in preparations)
    combined = _text(Path(facts["documents"]["a_imprimer"]["fiches-fabrication"]))
    assert all(number in combined for number in preparations)
    conn.close()


def test_workbook_is_a_macro_workbook_filled_from_the_store(demo):
    import openpyxl

    path = demo["out"] / "OncoSecours.xlsm"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert "xl/vbaProject.bin" in names
    assert any(n.startswith("customUI/") for n in names)
    book = openpyxl.load_workbook(path, keep_vba=True)

    def cells(sheet: str) -> list[str]:
        return [str(c.value) for row in book[sheet].iter_rows() for c in row if c.value]

    first = demo["facts"]["ordonnancier"][0]
    assert any("GARNIER" in v for v in cells("Patients"))
    assert any(first in v for v in cells("Fabrication"))
    assert any(first in v for v in cells("Administration"))


def test_workbook_accueil_shows_the_second_copy_written_before_it(demo):
    """Built after the copy: Accueil says it is up to date (never « EN ÉCHEC … introuvable »).
    The demo's copy sits on the disk of the store, so the level is « attention » for that reason
    alone (the in-process test sees the level « ok » when the copy is on another medium)."""
    import openpyxl

    from oncosecours.excel.layout import load_layout

    out = demo["out"]
    home = load_layout().sheet("Accueil")
    ws = openpyxl.load_workbook(out / "OncoSecours.xlsm")["Accueil"]
    line = ws[home.field("copie_secours").cell].value
    assert line.startswith("Copie de secours à jour"), line
    assert str(out / "copie-secours" / "oncosecours.sqlite") in line
    assert "1 instantané" in line
    assert ws[home.field("niveau_copie").cell].value == "attention"
    assert line.endswith("la copie est sur le même disque que la base : elle ne protège pas "
                         "d'une panne de ce disque")  # fmt: skip


def test_second_copy(demo):
    from oncosecours.store import audit

    out = demo["out"]
    main = _conn(out / "oncosecours.sqlite")
    copy = _conn(out / "copie-secours" / "oncosecours.sqlite")
    assert audit.verify(copy).ok
    head = "SELECT last_seq, last_hash FROM audit_head WHERE id = 1"
    assert tuple(copy.execute(head).fetchone()) == tuple(main.execute(head).fetchone())
    (snapshot,) = (out / "copie-secours" / "instantanes").glob("oncosecours-*.sqlite")
    assert Path(f"{snapshot}.sha256").exists()
    assert demo["facts"]["copie_secours"]["ok"] is True
    main.close()
    copy.close()
    settings = (out / "etablissement-demo.toml").read_text(encoding="utf-8")
    assert "[copie_secours]" in settings and "copie-secours" in settings


HEGP_COUNTS = {"patients": 5, "protocols": 5, "protocol_lines": 53, "molecules": 8,
               "products": 42, "history": 493}  # fmt: skip


def test_hegp_extracts_are_refreshed_with_the_synthetic_backup_into_the_day_store(demo):
    """One store: the synthetic backup and the packaged HEGP copy in one snapshot."""
    out = demo["out"]
    facts = demo["facts"]
    assert not (out / "hegp").exists()  # no second store any more
    conn = _conn(out / "oncosecours.sqlite")
    meta = conn.execute("SELECT * FROM snapshot_meta").fetchone()
    counts = json.loads(meta["counts_json"])
    synthetic = facts["sauvegarde_synthetique"]["lignes"]
    assert counts == {k: synthetic[k] + HEGP_COUNTS[k] for k in HEGP_COUNTS}
    folders = facts["actualisation"]["dossiers"]
    assert [f["lignes"] for f in folders] == [synthetic, HEGP_COUNTS]
    assert facts["hegp"]["lignes"] == HEGP_COUNTS
    # the extracts were read from the package's copy, not from ../shared
    sources = meta["source_dir"].split(" + ")
    assert [Path(s).name for s in sources] == ["chimio-synthetique", "chimio-hegp"]
    assert all("shared" not in Path(s).parts for s in sources)
    # dated by the oldest backup, HEGP's, and flagged as stale
    assert meta["backup_date"] == "2023-09-07" and facts["actualisation"]["ancienne"] is True
    out_text = " ".join(demo["run"].stdout.replace("\u00a0", " ").split())
    assert "dont HEGP 5 patients, 5 protocoles (53 lignes)" in out_text
    assert "signalé ANCIENNE" in out_text
    # the real protocols are in the day's store beside the synthetic ones
    assert {p["nom"]: p["lignes"] for p in facts["hegp"]["protocoles"]}["FOLFOX 4 Simplifié"] == 16
    assert (
        conn.execute(
            "SELECT count(*) FROM ref_protocol_lines l JOIN ref_protocols p USING (protocol_id) "
            "WHERE p.name = 'FOLFOX 4 Simplifié'"
        ).fetchone()[0]
        == 16
    )
    # a real HEGP protocol dosed for a synthetic patient (preview), the stale backup flagged
    from oncosecours.demo.identities import HEGP_PATIENT
    from oncosecours.domain.dosing import body_surface_area

    preview = facts["hegp"]["prescription_test"]
    bsa = round(body_surface_area(172.0, 70.0, "dubois"), 2)
    doses = dict(preview["doses"])
    assert preview["protocole"] == "FOLFOX 4 Simplifié"
    assert doses["Oxaliplatine"] == pytest.approx(85 * bsa, abs=0.01)
    assert "SAUVEGARDE_ANCIENNE" in [rule for rule, _message in preview["alertes"]]
    # the preview wrote nothing in the day's store
    assert not conn.execute(
        "SELECT 1 FROM patients WHERE ipp = ?", (HEGP_PATIENT["ipp"],)
    ).fetchone()
    conn.close()


def test_timing_is_reported(demo):
    facts = demo["facts"]
    print(f"durée interne : {facts['duree_s']} s ; par étape : {facts['durees_s']}")
    assert set(facts["durees_s"]) >= {"Fabrication", "Documents", "Vérifications"}
