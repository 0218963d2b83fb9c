"""The real HEGP extracts load as they are through the shipped queries, with nothing dropped."""

from __future__ import annotations

import json
from datetime import date

import pytest

from oncosecours.refresh.engine import load_backup


@pytest.fixture(scope="module")
def snapshot():
    from pathlib import Path

    hegp = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "chimio-hegp"
    return load_backup(hegp)


def test_counts_are_exactly_the_extracts(snapshot):
    assert snapshot.counts == {
        "patients": 5,
        "protocols": 5,
        "protocol_lines": 53,
        "molecules": 8,
        "products": 42,
        "history": 493,
    }


def test_backup_date_comes_from_the_patient_file_name(snapshot):
    assert snapshot.backup_date == date(2023, 9, 7)
    assert "2023-09-07_5_patients_list.csv" in snapshot.backup_date_source


def test_supportive_lines_missing_their_product_are_warnings_not_dropped(snapshot):
    lines = snapshot.tables["protocol_lines"]
    products = set(snapshot.tables["products"]["product_id"].dropna())
    supportive = lines[lines["molecule_id"].isna()]
    missing = sorted(set(supportive["product_id"].dropna()) - products)
    assert len(missing) == 14  # 204843, 196285, 71253... (README: filtered extract)
    assert 204843 in missing
    warned = [w for w in snapshot.warnings if "ligne de support ou de rinçage" in w]
    assert len(warned) == len(missing)
    assert all(any(f"product_id {code} " in w for w in warned) for code in missing)
    # every cytotoxic line has its molecule
    cytotoxic = lines[lines["line_type"] == 1]
    assert cytotoxic["molecule_id"].notna().all()
    assert set(cytotoxic["molecule_id"]) <= set(snapshot.tables["molecules"]["molecule_id"])


def test_unit_codes_days_and_durations_are_decoded(snapshot):
    lines = snapshot.tables["protocol_lines"].set_index("line_id")
    fu = lines.loc[5778]  # 5-FU 1200 mg/m² over 46 h, J1
    assert (fu["dose"], fu["unit_code"], fu["unit"]) == (1200.0, 2, "mg/m2")
    assert fu["duration_min"] == 46 * 60
    assert json.loads(fu["days_json"]) == [1]
    assert fu["volume_ml"] == 95.0
    mitomycin_regimen = lines.loc[18629]
    assert mitomycin_regimen["day_mask"] == "ONNNNNNNNNNNNNO"
    assert json.loads(mitomycin_regimen["days_json"]) == [1, 15]
    assert json.loads(lines.loc[18110, "days_json"]) == [2, 3]  # NOO
    assert lines.loc[7588, "unit"] == "mg"  # code 13
    assert lines.loc[5779, "molecule_id"] is pd_na()  # DCCLEUNIK -1: no molecule
    assert lines.loc[5779, "product_id"] == 204843
    assert lines.loc[5778, "product_id"] is pd_na()  # CODEPDT -1: no product imposed
    assert set(lines["unit"]) == {"mg/m2", "mg"}


def pd_na():
    import pandas as pd

    return pd.NA


def test_protocol_headers_are_split_off_consistently(snapshot):
    protocols = snapshot.tables["protocols"].set_index("protocol_id")
    assert protocols.loc[922, "name"] == "LV 5 FU 2 simplifié"
    assert protocols.loc[922, "cycle_days"] == 14
    assert protocols.loc[1574, "cycle_days"] == 28
    assert "Arrêt du 5FU" in protocols.loc[922, "monitoring"]  # quoted field with a newline
    lines = snapshot.tables["protocol_lines"]
    assert lines.groupby("protocol_id").size().to_dict() == {
        922: 6, 944: 16, 1037: 12, 1574: 10, 2290: 9,
    }  # fmt: skip
    first = lines[lines["protocol_id"] == 944].sort_values("line_no")
    assert first["line_id"].iloc[0] == 5964  # file order kept as line_no


def test_oxaliplatin_is_glucose_5_only_and_masks_are_decoded(snapshot):
    molecules = snapshot.tables["molecules"].set_index("name")
    assert json.loads(molecules.loc["Oxaliplatine", "diluents_json"]) == ["Glucose 5 %"]
    assert json.loads(molecules.loc["Rituximab", "diluents_json"]) == ["NaCl 0,9 %", "Glucose 5 %"]
    containers = json.loads(molecules.loc["Mitomycine C", "containers_json"])
    assert "Poche PVC" not in containers  # « dégradation rapide dans les contenants en PVC »
    assert molecules.loc["Oxaliplatine", "stability_diluted_h"] == 28 * 24
    assert molecules.loc["Mitomycine C", "stability_reconst_h"] == 12
    assert molecules.loc["Rituximab", "liste_en_sus"] == 1
    assert molecules.loc["Oxaliplatine", "cytotoxic"] == 1
    assert molecules.loc["Rituximab", "cytotoxic"] == 0  # antibody, whatever CYTODCI says
    assert molecules.loc["Oxaliplatine", "max_dose"] is pd_na()
    assert any("SOLVANTDIL" in w and "déduite" in w for w in snapshot.warnings)


def test_patients_load_with_what_the_extract_has(snapshot):
    patients = snapshot.tables["patients"].set_index("patient_id")
    assert patients.loc["1111111111", "sex"] == "M"
    assert patients.loc["1111111111", "birth_date"] == "1933-11-30"
    assert patients.loc["4444444444", "death_date"] == "2011-03-06"
    assert patients["ipp"].isna().all() and patients["birth_name"].isna().all()
    assert any("IPP, NOMNAISPAT, NOMPAT, PRENOMPAT" in w for w in snapshot.warnings)


def test_history_loads_whole_with_its_unknown_protocols_and_products(snapshot):
    history = snapshot.tables["history"]
    assert history["row_id"].is_unique
    first = history.set_index("row_id").loc[6468]
    assert first["product_id"] == 18603 and first["molecule_id"] is pd_na()
    assert first["duration_min"] == 60 and first["unit_code"] == 3  # mg
    assert first["start_date"] == "2004-11-23"
    reductions = set(history["reduction_pct"].dropna())
    assert {25.0, 25.26, -1.5228, 100.0} <= reductions
    assert history["creatinine_umol_l"].min() > 0  # CREAT 0 means "not measured"
    assert len(history[history["unit_code"].isin([7, 8])])  # carboplatin by AUC (Chatelut)
    assert "unit" not in history and "clearance_formula" not in history  # decoded when read
    # protocols of the history are not all in the thésaurus: loaded anyway, no warning
    assert not set(history["protocol_id"]) <= set(snapshot.tables["protocols"]["protocol_id"])
    assert not any(w.startswith("Historique") for w in snapshot.warnings)


def test_unknown_history_unit_is_a_warning_and_the_row_keeps_its_code(hegp):
    path = hegp / "cures" / "1111111111.csv"
    text = path.read_text(encoding="utf-8")
    assert ";2.35;3;106\n" in text
    path.write_text(text.replace(";2.35;3;106\n", ";2.35;42;106\n", 1), encoding="utf-8")
    loaded = load_backup(hegp)
    assert loaded.counts["history"] == 493
    assert loaded.tables["history"].set_index("row_id").loc[6468, "unit_code"] == 42
    (warning,) = [w for w in loaded.warnings if w.startswith("Historique")]
    assert "UNITE" in warning and "« 42 » (1 ligne(s))" in warning
