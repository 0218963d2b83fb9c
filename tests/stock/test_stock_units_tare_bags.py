"""Every dose unit, tare and several bags, end to end through the services and the fiche."""

from __future__ import annotations

import pytest
from production_fixtures import lots_for
from stock_fixtures import at, dump, go, line_of, patient_on

from oncosecours.domain.errors import OncoError
from oncosecours.services.preparation import prepare
from oncosecours.services.preparation_plan import preview
from oncosecours.services.release import control_preparation, release_preparation


def _ready(conn, team, key, person=0):
    cure = patient_on(conn, team, key, person)
    go(conn, team, cure)
    return line_of(conn, cure)


def _make(conn, team, line, moment, settings=None, **options):
    plan = preview(conn, line["id"], now=moment, settings=settings, stock_options=options or None)
    return prepare(
        conn, team["PR1"], line["id"], lots=lots_for(plan), now=moment, settings=settings, **options
    )


def test_a_dose_in_ui_end_to_end(snapshot, team, tmp_path):
    conn = snapshot
    line = _ready(conn, team, "bleo")
    assert (line["dose"], line["unit"]) == (25000, "UI")
    sheet = _make(conn, team, line, at(9))
    # 2 vials of 15 000 UI / 5 mL: 15 000 UI (5 mL) + 10 000 UI (3,333 mL); 5 000 UI left
    assert [(p["name"], p["count"]) for p in sheet["products"]] == [("BLEOMYCINE 15000 UI/5 mL", 2)]
    assert sheet["plan"]["unit"] == "UI"
    assert sheet["drug_volume_ml"] == pytest.approx(5 + 10000 / 3000)
    assert sheet["final_volume_ml"] == pytest.approx(250 + 25 / 3)
    assert sheet["final_conc_mg_ml"] == pytest.approx(25000 / (250 + 25 / 3))  # UI/mL
    assert sheet["target_weight_g"] == pytest.approx(250 * 1.005 + 25 / 3)
    # control, release: the UI bag goes through the circuit like any other
    control_preparation(conn, team["PR2"], sheet["ord_number"], 259.6, visual_ok=True, now=at(10))
    released = release_preparation(conn, team["PH2"], sheet["ord_number"], now=at(10, 30))
    assert (
        conn.execute("SELECT state FROM preparations WHERE id = ?", (sheet["id"],)).fetchone()[0]
        == "released"
    )
    assert released is not None
    # the fiche prints UI, never mg
    from oncosecours.documents.context import preparation as fiche_context
    from oncosecours.services.document_queries import preparation_record
    from oncosecours.settings import load_settings

    ctx = fiche_context(preparation_record(conn, sheet["id"]), load_settings())
    assert ctx["molecule"]["dose"] == "25000" and ctx["molecule"]["unite"] == "UI"
    assert ctx["produits"][0]["dosage"] == "15000 UI / 5 mL"
    assert ctx["concentration_finale"].endswith("UI/mL")


def test_a_dose_in_micrograms_end_to_end(snapshot, team, tmp_path):
    conn = snapshot
    line = _ready(conn, team, "dacti")
    assert (line["dose"], line["unit"]) == (1200, "µg")
    sheet = _make(conn, team, line, at(9))
    # 1 200 µg = 1,2 mg; vials 0,5 mg/1 mL: 3 vials, 0,5 + 0,5 + 0,2 mg = 1 + 1 + 0,4 mL
    assert sheet["plan"]["unit"] == "mg"
    assert sheet["plan"]["dose_mg"] == pytest.approx(1.2)
    assert [(p["name"], p["count"]) for p in sheet["products"]] == [("DACTINOMYCINE 0,5 mg", 3)]
    assert sheet["drug_volume_ml"] == pytest.approx(2.4)
    assert sheet["final_volume_ml"] == pytest.approx(52.4)
    notes = [f["message"] for f in sheet["findings"]]
    assert "Conversion de la dose : 1200 µg = 1,2 mg (1 µg = 0,001 mg)" in notes
    # the record keeps the prescribed dose and unit
    assert (sheet["dose"], sheet["unit"]) == (1200, "µg")
    from oncosecours.documents.context import preparation as fiche_context
    from oncosecours.services.document_queries import preparation_record
    from oncosecours.settings import load_settings

    ctx = fiche_context(preparation_record(conn, sheet["id"]), load_settings())
    assert ctx["molecule"]["unite"] == "µg"
    assert ctx["concentration_finale"] == "0,0229 mg/mL" or ctx["concentration_finale"].endswith(
        " mg/mL"
    )
    assert any("1200 µg = 1,2 mg" in a for a in ctx["alertes"])


def test_undecoded_unit_is_refused_naming_product_and_code(snapshot, team):
    conn = snapshot
    line = _ready(conn, team, "oxali")
    # a line whose unit the dictionary could not decode (as loaded from a backup with
    # si_absent = "vide"); the protocol line's code is 42
    conn.execute("UPDATE ref_protocol_lines SET unit_code = 42 WHERE line_id = 1101")
    conn.execute("PRAGMA ignore_check_constraints = 1")
    conn.execute("UPDATE prescription_lines SET unit = '' WHERE id = ?", (line["id"],))
    before = dump(conn)
    with pytest.raises(OncoError) as error:
        prepare(conn, team["PR1"], line["id"], now=at(9))
    assert error.value.rule == "UNITE_NON_DECODEE"
    assert "OXALIPLATINE" in error.value.message and "code d'unité 42" in error.value.message
    assert dump(conn) == before


def test_substitution_traced_and_another_molecule_refused(snapshot, team):
    conn = snapshot
    line = _ready(conn, team, "oxali")
    before = dump(conn)
    with pytest.raises(OncoError) as error:
        prepare(conn, team["PR1"], line["id"], now=at(9), product=4101)  # paclitaxel
    assert error.value.rule == "SUBSTITUTION_MOLECULE"
    assert "PACLITAXEL" in error.value.message
    assert dump(conn) == before
    # 130 mg with 50 mg vials only: 3 vials (50 + 50 + 30 mg), 20 mg left
    sheet = _make(conn, team, line, at(9), product="OXALIPLATINE 50 mg/10 mL")
    assert [(p["name"], p["count"]) for p in sheet["products"]] == [("OXALIPLATINE 50 mg/10 mL", 3)]
    assert sheet["plan"]["substitution"]["name"] == "OXALIPLATINE 50 mg/10 mL"
    event = conn.execute(
        "SELECT after_json FROM audit_event WHERE action = 'préparer' ORDER BY seq DESC"
    ).fetchone()[0]
    assert "substitution" in event and "OXALIPLATINE 50 mg/10 mL" in event


def test_tare_on_the_fiche_and_in_the_control(snapshot, team, settings_file, tmp_path):
    conn = snapshot
    settings = settings_file('[stock]\ntares_contenants_g = { "Poche polyoléfine" = 28.5 }\n')
    line = _ready(conn, team, "oxali")
    sheet = _make(conn, team, line, at(9), settings=settings)
    # net: 250 mL G5 × 1,017 + 26 mL drawn × 1,0 = 280,25 g ; gross 308,75 g ;
    # window: 308,75 ± 5 % of 280,25 (14,0125) = 294,7375 – 322,7625 g
    assert sheet["container"] == "Poche polyoléfine"
    assert sheet["net_weight_g"] == pytest.approx(280.25)
    assert sheet["tare_g"] == pytest.approx(28.5)
    assert sheet["target_weight_g"] == pytest.approx(308.75)
    assert (sheet["weight_min_g"], sheet["weight_max_g"]) == (
        pytest.approx(294.7375),
        pytest.approx(322.7625),
    )
    # the fiche, rendered and read back
    import docx

    from oncosecours.documents.render import render_preparation

    (out,) = render_preparation(conn, sheet["id"], "fabrication", tmp_path, settings, pdf=False)
    text = "\n".join(
        cell.text for table in docx.Document(out).tables for row in table.rows for cell in row.cells
    )
    assert "308,8 g brut (contenant compris) (tare 28,5 g + contenu 280,2 g)" in text
    assert "294,7 à 322,8 g" in text
    # a bag weighed without its container (net only) is out of tolerance
    control_preparation(conn, team["PR2"], sheet["ord_number"], 280.3, visual_ok=True, now=at(10))
    row = conn.execute(
        "SELECT in_tolerance, target_weight_g FROM preparation_controls WHERE preparation_id = ?",
        (sheet["id"],),
    ).fetchone()
    assert (row[0], row[1]) == (0, pytest.approx(308.75))


def test_weighed_tare_typed_at_preparation_wins(snapshot, team, settings_file):
    conn = snapshot
    settings = settings_file('[stock]\ntares_contenants_g = { "Poche polyoléfine" = 28.5 }\n')
    line = _ready(conn, team, "oxali")
    sheet = _make(conn, team, line, at(9), settings=settings, tare_g=31.2)
    assert sheet["target_weight_g"] == pytest.approx(280.25 + 31.2)
    assert sheet["tare_source"] == "pesée à la préparation : 31,2 g"


def test_a_dose_split_in_two_bags(snapshot, team, settings_file, tmp_path):
    conn = snapshot
    settings = settings_file("[stock]\nvolume_max_poche_ml = 300.0\n")
    line = _ready(conn, team, "pacli")
    sheet = _make(conn, team, line, at(9), settings=settings)
    # 360 mg: 300 mg/50 mL + 60 mg of 100 mg/16,7 mL (10,02 mL) = 60,02 mL drawn.
    # One bag: 250 + 60,02 = 310 mL > 300 ; 100 mL: 360/160 = 2,25 > 1,2 mg/mL.
    # Two bags of 180 mg (30,01 mL) in 250 mL: 280,01 mL, 0,643 mg/mL.
    bags = sheet["plan"]["poches"]
    assert len(bags) == 2
    assert {b["bag_volume_ml"] for b in bags} == {250}
    assert bags[0]["dose"] == pytest.approx(180)
    assert bags[0]["draw_volume_ml"] == pytest.approx(30.01)
    assert bags[0]["final_volume_ml"] == pytest.approx(280.01)
    assert bags[0]["net_weight_g"] == pytest.approx(250 * 1.005 + 30.01)
    assert sheet["final_volume_ml"] == pytest.approx(560.02)
    assert sheet["target_weight_g"] == pytest.approx(2 * (250 * 1.005 + 30.01))
    import docx

    from oncosecours.documents.render import render_preparation

    (out,) = render_preparation(conn, sheet["id"], "fabrication", tmp_path, settings, pdf=False)
    text = "\n".join(p.text for p in docx.Document(out).paragraphs)
    assert (
        "Poche 1/2 : 180 mg (30,01 mL) dans 250 mL, volume final 280,01 mL, poids cible 281,3 g"
        in text
    )
    assert "Poche 2/2" in text
    # each bag is weighed against its own window (281,26 g ± 5 % of 281,26): a light bag and a
    # heavy one are both caught although their sum (562,5 g) is on the total target (562,52 g)
    before = dump(conn)
    with pytest.raises(OncoError) as error:
        control_preparation(
            conn, team["PR2"], sheet["ord_number"], 562.5, visual_ok=True, now=at(10)
        )
    assert error.value.rule == "POIDS_PAR_POCHE"
    assert dump(conn) == before
    control_preparation(
        conn, team["PR2"], sheet["ord_number"], [251.0, 311.5], visual_ok=True, now=at(10)
    )
    row = conn.execute(
        "SELECT in_tolerance, measured_weight_g, bags_json FROM preparation_controls"
    ).fetchone()
    assert (row[0], row[1]) == (0, pytest.approx(562.5))
    import json

    bags = json.loads(row[2])
    assert [b["within"] for b in bags] == [False, False]  # 251 < 267,2 ; 311,5 > 295,3
    assert bags[0]["min_g"] == pytest.approx(281.26 * 0.95)
