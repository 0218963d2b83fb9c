"""Patient-safety mentions read back from the rendered Word files: the vinca route mention on the
label and the fiche, one dose written the same on the CLI, the documents and the workbook, and
a solute in « mg » on the care plan shown with a note instead of a wrong unit."""

from __future__ import annotations

import datetime as dt

import pytest
from documents_helpers import docx_text
from production_fixtures import TODAY, at, lines_of, load_snapshot, lots_for, make_team
from safety_fixtures import (
    VCR_IV,
    add_vincristine,
    include_and_prescribe,
    new_patient,
    validate_all,
)

from oncosecours.documents import render
from oncosecours.domain.production import VINCA_ROUTE_MENTION
from oncosecours.services.go_ahead import give_go_ahead
from oncosecours.services.preparation import prepare, record_lots

DAY = TODAY.isoformat()
NOW = dt.datetime(2026, 3, 2, 11, 0)
NACL_NOTE = "250 — unité à vérifier (sauvegarde : mg ; soluté : mL probable)"


@pytest.fixture
def team(conn, admin):
    load_snapshot(conn)
    add_vincristine(conn)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO ref_products (product_id, name, molecule_id, strength_mg, volume_ml) "
        "VALUES (9001, 'CHLORURE DE SODIUM 0,9 % 250 mL', NULL, NULL, 250)"
    )
    conn.execute(
        "INSERT INTO ref_protocol_lines (line_id, protocol_id, molecule_id, product_id, "
        "line_type, dose, unit_code, unit, route, duration_min, comment, day_mask, days_json, "
        "time_offset_min) VALUES (104, 1, NULL, 9001, 2, 250, 3, 'mg', 'IV', 60, "
        "'Hydratation', 'O', '[1]', -60)"
    )
    conn.execute("COMMIT")
    return make_team(conn, admin)


def _prepared(conn, team, protocol, ipp, **options) -> tuple[dict, list[dict]]:
    name = {"1": "ANDRE", "2": "BLANC", "3": "CARON", "4": "DUVAL"}[ipp[-1]]
    person = new_patient(conn, team, ipp=ipp, birth_name=name)
    draft = include_and_prescribe(conn, team, person["id"], protocol, **options)
    validate_all(conn, team, draft["prescription_id"])
    give_go_ahead(conn, team["DR1"], draft["cure_id"], now=at(8))
    sheets = []
    for minute, line in enumerate(lines_of(conn, draft["cure_id"])):
        sheet = prepare(conn, team["PR1"], line["id"], now=at(9, minute * 2))
        sheets.append(
            record_lots(conn, team["PR1"], sheet["id"], lots_for(sheet), now=at(9, minute * 2 + 1))
        )
    return draft, sheets


def _render(conn, number, kind, folder, settings) -> str:
    result = render.render_preparations(conn, [number], kind, folder, settings, pdf=False, now=NOW)
    (path,) = result.docx
    return docx_text(path)


def test_vinca_bag_carries_the_route_mention_on_label_and_fiche(conn, team, settings, tmp_path):
    _, (vcr,) = _prepared(conn, team, VCR_IV, "9000301")
    _, folfox = _prepared(conn, team, 1, "9000302")
    fiche = _render(conn, vcr["ord_number"], "fabrication", tmp_path / "f", settings)
    label = _render(conn, vcr["ord_number"], "labels", tmp_path / "l", settings)
    assert VINCA_ROUTE_MENTION == "VOIE INTRAVEINEUSE STRICTE — MORTEL PAR UNE AUTRE VOIE"
    assert f"⚠ {VINCA_ROUTE_MENTION} ⚠" in fiche
    assert VINCA_ROUTE_MENTION in label and "VINCRISTINE" in label
    oxali = _render(conn, folfox[0]["ord_number"], "labels", tmp_path / "o", settings)
    assert "OXALIPLATINE" in oxali and "INTRAVEINEUSE STRICTE" not in oxali


def test_one_dose_reads_the_same_on_the_cli_the_documents_and_the_workbook(
    conn, team, settings, tmp_path
):
    from oncosecours.excel.views import ViewContext, fabrication
    from oncosecours.texts.circuit import lines_block

    doses = {"OXALIPLATINE": 73.755, "FLUOROURACILE": 523.6666}
    draft, sheets = _prepared(conn, team, 1, "9000303", doses=doses)
    assert [s["dose"] for s in sheets] == [73.755, 523.6666]  # stored as prescribed
    expected = {"OXALIPLATINE": "73,755", "FLUOROURACILE": "523,667"}
    cli = lines_block(draft["lines"])
    rows = {r["molecule"]: r for r in fabrication(conn, ViewContext(day=TODAY)).rows}
    plan = render.render_care_plans(
        conn, DAY, tmp_path / "p", settings, patient="9000303", pdf=False, now=NOW
    )
    care = docx_text(plan.docx[0])
    for sheet in sheets:
        name, shown = sheet["molecule_name"], expected[sheet["molecule_name"]]
        assert f"→ {shown} mg" in cli, name
        fiche = _render(conn, sheet["ord_number"], "fabrication", tmp_path / name, settings)
        assert f"{name} — {shown} mg" in fiche, name
        label = _render(conn, sheet["ord_number"], "labels", tmp_path / f"l{name}", settings)
        assert f"{name} {shown} mg" in label, name
        assert rows[name]["dose"] == shown, name
        assert f"{shown} mg" in care, name
    for wrong in ("73,75 ", "73,76", "523,67 ", "523,6666"):
        assert wrong not in cli + care, wrong


def test_a_solute_in_mg_gets_a_note_on_the_care_plan(conn, team, settings, tmp_path):
    _prepared(conn, team, 1, "9000304")
    plan = render.render_care_plans(
        conn, DAY, tmp_path, settings, patient="9000304", pdf=False, now=NOW
    )
    from docx import Document

    table = Document(str(plan.docx[0])).tables[1]
    doses = {row.cells[4].text: row.cells[5].text for row in table.rows[1:]}
    assert doses["CHLORURE DE SODIUM 0,9 % 250 mL"] == NACL_NOTE
    assert doses["ONDANSETRON 8 mg/4 mL"] == "8 mg"  # a drug of a premedication keeps its mg
    assert doses["OXALIPLATINE"].endswith(" mg")
