"""The ribbon's Python layer, driven through a fake ``Book.caller()`` on a real store: a whole
circuit from a new patient to the administration, then what goes wrong."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from oncosecours.excel.layout import load_layout
from oncosecours.excel.memorybook import Formula, ProtectedSheetError

IPP = "9100001"


def _all_protected(book) -> bool:
    return all(book.sheets[s.name].protected for s in load_layout().sheets)


def _list(book, name: str) -> list[str]:
    values = book.names[name].refers_to_range.value
    return [v for v in (values if isinstance(values, list) else [values]) if v]


def _form(station, sheet: str, **values) -> None:
    layout = load_layout().sheet(sheet)
    for key, value in values.items():
        station.book.type(sheet, layout.field(key).cell, value)


def _new_patient(station) -> None:
    station.login("DR1")
    _form(
        station,
        "Patients",
        ipp=IPP,
        nom_naissance="Rousseau",
        prenom="Claire",
        date_naissance=datetime(1965, 5, 5),
        sexe="F",
        service="Hôpital de jour",
        poids=62,
        taille=165,
        creatinine=70,
        date_mesures=datetime.combine(date.today(), datetime.min.time()),
    )
    station.click("nouveau_patient")
    assert station.alerts() == []


def _include(station) -> int:
    choice = next(p for p in _list(station.book, "L_Protocoles") if p.startswith("FOLFOX"))
    _form(
        station,
        "Patients",
        protocole=choice,
        debut=datetime.combine(date.today(), datetime.min.time()),
    )
    station.select("Patients", station.row_of("Patients", ipp=IPP))
    station.click("inclure")
    assert station.alerts() == []
    cures = [c for c in _list(station.book, "L_Cures") if "ROUSSEAU" in c]
    assert cures, _list(station.book, "L_Cures")
    return int(cures[0].split(" ")[0]), cures[0]


def test_full_circuit_through_the_ribbon(station):
    book = station.book
    # --- patient, inclusion ---------------------------------------------------------------
    _new_patient(station)
    patient = station.row_of("Patients", ipp=IPP)
    assert patient["nom_naissance"] == "ROUSSEAU" and patient["poids"] == 62
    cure_id, choice = _include(station)
    assert _all_protected(book)

    # --- prescription: compute, then save -------------------------------------------------
    _form(station, "Prescription", cure=choice, poids=62, taille=165, creatinine=70)
    station.click("calculer")
    assert station.alerts() == []
    lines = station.table("Prescription")
    oxali = next(r for r in lines if r["molecule"] == "OXALIPLATINE")
    assert oxali["dose_protocole"] == 85 and oxali["unite_protocole"] == "mg/m2"
    assert oxali["dose"] == oxali["dose_calculee"] and oxali["dose"] > 100
    summary = book.value("Prescription", load_layout().sheet("Prescription").field("resume").cell)
    assert summary.startswith(f"Cure n° {cure_id} (calcul, non enregistré)")
    with station.conn() as conn:
        assert conn.execute("SELECT count(*) FROM prescriptions").fetchone()[0] == 0
    station.click("enregistrer")
    assert station.alerts() == []
    pending = station.row_of("Validation", etat="prescrite")
    assert pending["patient"].startswith("ROUSSEAU")

    # --- pharmaceutical validation (every blocking alert justified) -----------------------
    station.login("PH1")
    station.put("Validation", pending, "justification", "Vu avec le Dr Prescriptrice")
    station.select("Validation", station.row_of("Validation", etat="prescrite"))
    station.click("valider")
    assert station.alerts() == []
    assert station.row_of("Validation", prescription=pending["prescription"])["etat"] == "validée"

    # --- go-ahead ---------------------------------------------------------------------------
    station.login("DR1")
    station.select("Feu vert", station.row_of("Feu vert", cure=cure_id))
    station.click("feu_vert")
    assert station.alerts() == []
    assert station.row_of("Feu vert", cure=cure_id)["etat"] == "feu vert"

    # --- preparation: numbers first, then the lots ----------------------------------------
    station.login("PR1")
    to_make = station.table("Fabrication")
    assert {r["molecule"] for r in to_make} == {"OXALIPLATINE", "FLUOROURACILE"}
    station.select("Fabrication", *to_make)
    station.click("preparer")
    assert station.alerts() == []
    made = station.table("Fabrication")
    numbers = [r["ordonnancier"] for r in made]
    assert all(numbers) and len(set(numbers)) == 2
    for index, row in enumerate(made):
        needed = [item.strip() for item in row["a_tracer"].split(";")]
        typed = " ; ".join(f"{item}:LOT{index}{n}:12/2099" for n, item in enumerate(needed))
        station.put("Fabrication", row, "lots", typed)
    station.select("Fabrication", *station.table("Fabrication"))
    station.click("preparer")
    assert station.alerts() == []
    assert all(r["a_tracer"] is None for r in station.table("Fabrication"))

    # --- documents ----------------------------------------------------------------------------
    station.select("Fabrication", *station.table("Fabrication"))
    station.click("fiches")
    assert station.alerts() == []
    folder = station.path.parent / "documents" / date.today().isoformat()
    assert len(list(folder.glob("fiche_*.docx"))) >= 2
    station.book.select("Accueil", "$A$1")  # nothing selected in Fabrication: every bag
    station.click("etiquettes")
    assert station.alerts() == []
    assert len(list(folder.glob("etiquette_*.docx"))) >= 2

    # --- control (a second person double-checks), release by another pharmacist ----------
    station.login("PR2")
    for row in station.table("Libération"):
        station.put("Libération", row, "poids_mesure", row["poids_cible"])
        station.put("Libération", row, "controle_visuel", "Oui")
        station.put("Libération", row, "double_controle", "PH2")
    station.select("Libération", *station.table("Libération"))
    station.click("controler")
    assert station.alerts() == []
    assert {r["etat"] for r in station.table("Libération")} == {"contrôlée"}
    station.login("PH1")
    station.select("Libération", *station.table("Libération"))
    station.click("liberer")
    assert station.alerts() == []
    assert {r["etat"] for r in station.table("Libération")} == {"libérée"}

    # --- dispensing, administration -----------------------------------------------------
    station.login("PR1")
    for row in station.table("Dispensation"):
        station.put("Dispensation", row, "recu_par", "Julie (IDE HDJ)")
    station.select("Dispensation", *station.table("Dispensation"))
    station.click("dispenser")
    assert station.alerts() == []
    given = {r["ordonnancier"]: r["dispense_le"] for r in station.table("Dispensation")}
    assert all(isinstance(v, datetime) for v in given.values())

    station.login("IDE1")
    rows = station.table("Administration")
    assert len(rows) == 3  # the two bags and the supportive line (ondansetron)
    for row in rows:
        start = given.get(row["ordonnancier"]) or datetime.now().replace(microsecond=0)
        station.put("Administration", row, "debut", start)
        station.put("Administration", row, "fin", datetime.now())
    station.select("Administration", *station.table("Administration"))
    station.click("administrer")
    assert station.alerts() == []
    assert {r["etat"] for r in station.table("Administration")} == {"administrée"}
    station.select("Administration", station.table("Administration")[0])
    station.click("plan_de_soins")
    assert station.alerts() == []
    assert list(folder.glob(f"plan_de_soins_*{IPP}*.docx"))

    # --- a note, the journal, the integrity ------------------------------------------------
    _form(station, "Notes", patient=IPP, texte="=1+1 à revoir")
    station.click("note")
    assert station.alerts() == []
    note = station.table("Notes")[0]
    assert note["texte"] == "=1+1 à revoir"
    notes_sheet = book.sheets["Notes"]
    cell = next(k for k, v in notes_sheet.cells.items() if v == "=1+1 à revoir")
    assert cell in notes_sheet.text_cells and not isinstance(notes_sheet.cells[cell], Formula)
    assert book.value("Notes", load_layout().sheet("Notes").field("texte").cell) is None

    station.click("journal")
    journal = station.table("Journal")
    assert journal[0]["seq"] > journal[-1]["seq"]
    assert {"préparer", "libérer", "administrer"} <= {r["action"] for r in journal}
    station.click("verifier_integrite")
    integrity = book.value("Journal", load_layout().sheet("Journal").field("integrite").cell)
    assert integrity.startswith("Journal d'audit intègre")

    # --- the day at a glance, the store -----------------------------------------------------
    counts = {r["etat"]: r["lignes"] for r in station.table("Accueil")}
    assert counts["administrée"] == 3
    assert _all_protected(book)
    with station.conn() as conn:
        states = [r[0] for r in conn.execute("SELECT state FROM preparations")]
        assert states == ["administered", "administered"]
        assert conn.execute("SELECT count(*) FROM administrations").fetchone()[0] == 3
    last = book.value("Accueil", load_layout().sheet("Accueil").field("derniere_action").cell)
    assert "IDE1" in last and "journal d'audit intègre" in last.lower()


def test_wrong_pin_is_refused_in_french_and_forgotten(station):
    station.login("DR1", pin="9999")
    _form(station, "Patients", nom_naissance="Faux", prenom="Pin", sexe="M")
    station.click("nouveau_patient")
    assert len(station.alerts()) == 1
    assert station.alerts()[0].startswith("Refusé : Initiales ou code PIN incorrects")
    auth = load_layout().sheet("Paramètres").field("auth").cell
    assert station.book.value("Paramètres", auth) == "refuse"
    with station.conn() as conn:
        assert conn.execute("SELECT count(*) FROM patients").fetchone()[0] == 0
    assert _all_protected(station.book)


def test_a_forbidden_role_gets_the_rule_and_nothing_is_written(station):
    _new_patient(station)
    _, choice = _include(station)
    _form(station, "Prescription", cure=choice)
    station.login("IDE1")
    station.click("enregistrer")
    assert len(station.alerts()) == 1
    message = station.alerts()[0]
    assert message.startswith("Refusé : [ROLE]") and "IDE1 (infirmier)" in message
    with station.conn() as conn:
        assert conn.execute("SELECT count(*) FROM prescriptions").fetchone()[0] == 0


def test_nothing_selected_is_a_french_message(station):
    station.login("PH1")
    station.book.select("Accueil", "$A$1")
    station.click("valider")
    assert station.alerts() == [
        "Refusé : Sélectionnez la ou les prescriptions à valider dans le tableau de la feuille "
        "« Validation » (une ou plusieurs lignes), puis recommencez (champ « sélection »)"
    ]


def test_double_click_is_refused_the_second_time(station):
    _new_patient(station)
    _include(station)
    station.select("Patients", station.row_of("Patients", ipp=IPP))
    station.click("inclure")
    assert len(station.alerts()) == 1 and "double clic" in station.alerts()[0]


def test_an_unexpected_error_is_a_french_message_and_a_log(station, monkeypatch, capsys):
    from oncosecours.excel.actions import tools

    def broken(ctx):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(tools, "journal", broken)
    station.click("journal")
    assert len(station.alerts()) == 1
    # honest: the failure may come after the commit, so never « rien n'a été enregistré »
    assert station.alerts()[0].startswith(
        "Erreur inattendue : l'action en cours n'a pas pu se terminer ; vérifier son état "
        "(bouton « Journal », feuille Accueil) avant de la refaire."
    )
    assert "rien n'a été enregistré" not in station.alerts()[0]
    log = station.path.parent / "oncosecours-erreurs.log"
    assert "ZeroDivisionError" in log.read_text("utf-8")
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert _all_protected(station.book)


def test_a_missing_store_is_refused_and_never_created_by_a_click(station, tmp_path):
    """The store the workbook names (Paramètres « base ») is not there (moved, medium not
    plugged in): « Base introuvable », never a new empty store in its place."""
    if station.engine == "postgresql":
        pytest.skip("sur PostgreSQL le registre est sur le serveur : pas de fichier à déplacer")
    named = station.store
    away = tmp_path / "rangee-ailleurs"
    away.mkdir()
    moved = [f.rename(away / f.name) for f in tmp_path.glob(named.name + "*")]
    assert moved and not named.exists()
    station.login("DR1")
    station.click("journal")
    [alert] = station.alerts()
    assert alert.startswith(f"Refusé : Base introuvable : {named}"), alert
    assert "feuille Paramètres" in alert
    assert not named.exists()  # no new empty store
    assert _all_protected(station.book)
    # the store put back is found again, as it was
    for f in moved:
        f.rename(tmp_path / f.name)
    station.click("journal")
    assert station.alerts() == []


def _to_go_ahead(station) -> int:
    """Patient, inclusion, prescription, validation and go-ahead through the ribbon."""
    _new_patient(station)
    cure_id, choice = _include(station)
    _form(station, "Prescription", cure=choice)
    station.click("enregistrer")
    station.login("PH1")
    pending = station.row_of("Validation", etat="prescrite")
    station.put("Validation", pending, "justification", "Vu avec le prescripteur")
    station.select("Validation", station.row_of("Validation", etat="prescrite"))
    station.click("valider")
    station.login("DR1")
    station.select("Feu vert", station.row_of("Feu vert", cure=cure_id))
    station.click("feu_vert")
    assert station.alerts() == []
    return cure_id


def test_a_batch_reports_each_refusal_and_keeps_the_rest(station):
    """Two rows selected, one refused (already prepared, no lots typed): the other is prepared,
    the refusal is reported with its row, progress went through the status bar."""
    _to_go_ahead(station)
    station.login("PR1")
    first, second = station.table("Fabrication")
    station.select("Fabrication", first)
    station.click("preparer")
    assert station.alerts() == []
    station.book.app.status_history.clear()
    station.select("Fabrication", *station.table("Fabrication"))
    station.click("preparer")
    assert len(station.alerts()) == 1
    report = station.alerts()[0]
    assert report.startswith("Préparation : 1 enregistrée(s), 1 refusée(s)")
    assert f"ligne {first['ligne']}" in report and "[DEJA_FAIT]" in report
    assert all(r["ordonnancier"] for r in station.table("Fabrication"))
    assert "OncoSecours : Préparation 2/2…" in station.book.app.status_history
    with station.conn() as conn:
        assert conn.execute("SELECT count(*) FROM preparations").fetchone()[0] == 2


def test_go_ahead_can_be_withheld_with_a_reason(station):
    cure_id = None
    _new_patient(station)
    cure_id, choice = _include(station)
    _form(station, "Prescription", cure=choice)
    station.click("enregistrer")
    station.login("PH1")
    pending = station.row_of("Validation", etat="prescrite")
    station.put("Validation", pending, "justification", "Vu")
    station.select("Validation", station.row_of("Validation", etat="prescrite"))
    station.click("valider")
    station.login("DR1")
    row = station.row_of("Feu vert", cure=cure_id)
    station.put("Feu vert", row, "decision", "Différer")
    station.select("Feu vert", row)
    station.click("feu_vert")
    assert len(station.alerts()) == 1 and "motif" in station.alerts()[0].lower()
    station.put("Feu vert", row, "motif", "PNN 0,8 G/L")
    station.select("Feu vert", row)
    station.click("feu_vert")
    assert station.alerts() == []
    after = station.row_of("Feu vert", cure=cure_id)
    assert after["etat"] == "feu vert refusé" and after["motif"] == "PNN 0,8 G/L"
    assert all(r["bloque"] for r in station.table("Fabrication"))


def test_a_refused_prescription_can_be_prescribed_again(station):
    _new_patient(station)
    cure_id, choice = _include(station)
    _form(station, "Prescription", cure=choice)
    station.click("enregistrer")
    station.login("PH1")
    row = station.row_of("Validation", etat="prescrite")
    station.select("Validation", row)
    station.click("refuser")
    assert "commentaire obligatoire" in station.alerts()[0]
    station.put("Validation", row, "commentaire", "Créatinine à contrôler")
    station.select("Validation", station.row_of("Validation", etat="prescrite"))
    station.click("refuser")
    assert station.alerts() == []
    assert any(choice.split(" ")[0] == c.split(" ")[0] for c in _list(station.book, "L_Cures"))


def test_a_reduction_typed_in_the_table_is_applied(station):
    _new_patient(station)
    cure_id, choice = _include(station)
    _form(station, "Prescription", cure=choice)
    station.click("calculer")
    oxali = next(r for r in station.table("Prescription") if r["molecule"] == "OXALIPLATINE")
    full = oxali["dose"]
    station.put("Prescription", oxali, "reduction", 25)
    station.put("Prescription", oxali, "motif", "neuropathie grade 2")
    station.click("calculer")
    again = next(r for r in station.table("Prescription") if r["molecule"] == "OXALIPLATINE")
    assert again["reduction"] == 25 and again["motif"] == "neuropathie grade 2"
    assert again["dose"] == pytest.approx(full * 0.75, rel=0.02)
    station.click("enregistrer")
    assert station.alerts() == []
    with station.conn() as conn:
        saved = conn.execute(
            "SELECT reduction_pct, reduction_reason, reduction_source FROM prescription_lines "
            "WHERE molecule_name = 'OXALIPLATINE'"
        ).fetchone()
    assert tuple(saved) == (25, "neuropathie grade 2", "prescripteur")


def test_user_cannot_type_in_a_view_column(station):
    row_cell = load_layout().sheet("Validation").table.first_row
    with pytest.raises(ProtectedSheetError):
        station.book.type("Validation", f"A{row_cell}", 12)
    station.book.type("Validation", f"K{row_cell}", "justification")  # an input column


def test_the_click_process_imports_no_heavy_module_of_its_own():
    """What a validation click adds to xlwings' own imports: no pandas, numpy, openpyxl..."""
    import subprocess
    import sys

    code = (
        "import sys;"
        "import oncosecours.excel.ribbon, oncosecours.excel.context, oncosecours.excel.xlbook;"
        "import oncosecours.excel.actions.validation as v;"
        "import oncosecours.services.validation, oncosecours.domain.checks;"
        "import oncosecours.excel.views;"
        "heavy = ('pandas', 'numpy', 'pyarrow', 'openpyxl', 'pyopenvba', 'docx', 'docxtpl', "
        "'jinja2', 'lxml', 'xlwings');"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.replace("'", '"')) == []


def test_refresh_button_reloads_the_backup_and_the_drop_down_lists(station):
    """« Actualiser les sauvegardes » on the public HEGP extracts shipped for the demo."""
    from oncosecours.resources import data

    backups = data("demo", "chimio-hegp")
    station.login("PH1")
    params = load_layout().sheet("Paramètres")
    station.book.type("Paramètres", params.field("sauvegardes").cell, str(backups))
    station.click("actualiser")
    # the extracts are from 2023: the refresh works and warns that the backup is old
    assert len(station.alerts()) == 1 and "ancienne" in station.alerts()[0].lower()
    protocols = _list(station.book, "L_Protocoles")
    assert protocols and not any(p.startswith("FOLFOX CRISE") for p in protocols)
    home = load_layout().sheet("Accueil")
    assert station.book.value("Accueil", home.field("date_sauvegarde").cell) == date(2023, 9, 7)
    last = station.book.value("Accueil", home.field("derniere_action").cell)
    assert "sauvegarde du 2023-09-07 chargée" in last


def test_refresh_without_a_folder_is_a_french_message(station):
    station.login("PH1")
    station.click("actualiser")
    assert station.alerts() == [
        "Refusé : Indiquez le dossier des sauvegardes Chimio dans la feuille Paramètres "
        "(champ « dossier des sauvegardes »)"
    ]
