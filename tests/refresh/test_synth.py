"""The synthetic backup: deterministic, in Chimio's formats, loadable through the shipped
queries, with the molecules and protocols the demo needs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.refresh.engine import load_backup
from oncosecours.refresh.synth import generate
from oncosecours.refresh.synth.catalogue import CURE_COLUMNS, DCI_COLUMNS, LINE_COLUMNS


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_same_seed_and_date_give_the_same_bytes(tmp_path):
    from datetime import date

    day = date(2026, 1, 15)
    generate(tmp_path / "a", "small", seed=3, backup_date=day)
    generate(tmp_path / "b", "small", seed=3, backup_date=day)
    generate(tmp_path / "c", "small", seed=4, backup_date=day)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x.txt").write_text("garder")
    with pytest.raises(OncoError, match="n'est pas vide"):
        generate(tmp_path, "small")
    assert (tmp_path / "x.txt").read_text() == "garder"


@pytest.fixture(scope="module")
def loaded(small_synth):
    return load_backup(small_synth)


def test_files_have_chimio_names_columns_and_separators(small_synth):
    dci = (small_synth / "CHIMIO_DCI.csv").read_text(encoding="utf-8")
    assert dci.splitlines()[0].split("|") == DCI_COLUMNS
    lines = (small_synth / "LIGNEPROTOCOL.csv").read_text(encoding="utf-8")
    assert lines.splitlines()[0].split("|") == LINE_COLUMNS
    assert '"NFS, créatinine avant chaque cure\nSurveillance neurologique"' in lines
    cures = sorted((small_synth / "cures").glob("*.csv"))
    assert len(cures) == 300
    assert cures[0].read_text().splitlines()[0].split(";") == CURE_COLUMNS
    patients = next(small_synth.glob("2026-03-02_300_patients_list.csv"))
    header, first = patients.read_text(encoding="utf-8").splitlines()[:2]
    assert header == "PATIENT_NUM;IPP;NOMNAISPAT;NOMPAT;PRENOMPAT;BIRTH_DATE;SEX_CD;DEATH_DATE"
    assert first.split(";")[5].endswith("T00:00:00Z")
    products = (small_synth / "CHIMIO_PRODUIT.csv").read_text(encoding="utf-8")
    assert any("," in row.split("|")[10] for row in products.splitlines()[1:])  # PRIXPDT 12,5


def test_loads_through_the_shipped_queries_without_surprise(loaded):
    assert loaded.counts == {"patients": 300, "protocols": 40, "protocol_lines": 400,
                             "molecules": 108, "products": 188, "history": 6000}  # fmt: skip
    assert str(loaded.backup_date) == "2026-03-02"
    unexpected = [w for w in loaded.warnings if "la signification des positions" not in w]
    assert unexpected == []
    patients = loaded.tables["patients"]
    assert patients["ipp"].notna().all() and patients["first_name"].notna().all()
    women = patients[patients["sex"] == "F"]
    assert (women["birth_name"] != women["usual_name"]).any()  # married names


def test_molecules_have_realistic_properties(loaded):
    molecules = loaded.tables["molecules"].set_index("name")
    assert json.loads(molecules.loc["Oxaliplatine", "diluents_json"]) == ["Glucose 5 %"]
    vincristine = molecules.loc["Vincristine"]
    assert (vincristine["max_dose"], vincristine["max_dose_unit"]) == (2.0, "mg")
    assert vincristine["vesicant"] == 1
    paclitaxel = molecules.loc["Paclitaxel"]
    assert (paclitaxel["conc_min_mg_ml"], paclitaxel["conc_max_mg_ml"]) == (0.3, 1.2)
    assert json.loads(paclitaxel["containers_json"]) == ["Poche sans PVC (polyoléfine)"]
    assert paclitaxel["filter_um"] == 0.22
    assert molecules.loc["Épirubicine", "anthracycline_factor"] == 0.67
    assert json.loads(molecules.loc["Cisplatine", "diluents_json"]) == ["NaCl 0,9 %"]
    for name in ("Carboplatine", "Doxorubicine", "Fluorouracile", "Cisplatine"):
        assert molecules.loc[name, "cytotoxic"] == 1
    assert molecules.loc["Rituximab", "cytotoxic"] == 0


def test_demo_protocols_carboplatin_auc_and_vincristine(loaded):
    protocols = loaded.tables["protocols"].set_index("name")
    lines = loaded.tables["protocol_lines"]
    molecules = loaded.tables["molecules"].set_index("molecule_id")["name"]
    carbo = protocols.loc["CARBOPLATINE AUC5 - PACLITAXEL 175 J1=J21"]
    assert carbo["cycle_days"] == 21
    carbo_lines = lines[lines["protocol_id"] == carbo["protocol_id"]]
    auc = carbo_lines[carbo_lines["unit"] == "AUC"]
    assert len(auc) == 1 and molecules[auc["molecule_id"].iloc[0]] == "Carboplatine"
    assert auc["dose"].iloc[0] == 5 and auc["clearance_formula"].iloc[0] == "chatelut"
    vcr = protocols.loc["VINCRISTINE 1,4 mg/m² (max 2 mg) J1 J8 J15 J22"]
    vcr_line = lines[(lines["protocol_id"] == vcr["protocol_id"]) & (lines["line_type"] == 1)]
    assert vcr_line["max_dose"].iloc[0] == 2 and vcr_line["unit"].iloc[0] == "mg/m2"
    assert json.loads(vcr_line["days_json"].iloc[0]) == [1, 8, 15, 22]
    assert vcr_line["route"].iloc[0] == "IV"
    folfox = lines[lines["protocol_id"] == protocols.loc["mFOLFOX6", "protocol_id"]]
    assert 46 * 60 in set(folfox["duration_min"])  # 5-FU 46 h infusion


def test_history_doses_follow_the_protocol_units(loaded):
    history = loaded.tables["history"]
    bsa = history[history["unit_code"] == 2]  # mg/m²
    assert (bsa["bsa_dubois"].between(1.2, 2.8)).all()
    assert set(history["unit_code"].dropna()) <= {1, 2, 3, 4, 8, 15, 19}
    assert history.groupby("patient_id").size().min() >= 1


def test_backup_date_prefers_the_file_name_on_a_tie(loaded):
    assert "2026-03-02_300_patients_list.csv" in loaded.backup_date_source
    assert not any("date de modification" in w for w in loaded.warnings)


def _repeats(lines, protocols) -> list[tuple]:
    """(protocol, day, product) of every supportive product given twice on one day."""
    seen = set()
    found = []
    for row in lines[lines["line_type"] != 1].itertuples():
        for day in json.loads(row.days_json):
            if (row.protocol_id, day, row.product_id) in seen:
                found.append((protocols[row.protocol_id], day, row.product_id))
            seen.add((row.protocol_id, day, row.product_id))
    return found


def test_no_protocol_gives_a_supportive_product_twice_on_a_day(loaded):
    lines = loaded.tables["protocol_lines"]
    names = loaded.tables["protocols"].set_index("protocol_id")["name"].to_dict()
    supportive = lines[lines["line_type"] != 1]
    assert supportive["product_id"].notna().all()
    assert _repeats(lines, names) == []
    # the drugs of one group (5-HT3, corticosteroid, NK1...) at most once a day
    from oncosecours.refresh.synth.protocols import GROUPS

    products = loaded.tables["products"].set_index("product_id")["molecule_id"]
    molecules = loaded.tables["molecules"].set_index("molecule_id")["name"]
    taken = set()
    for row in supportive.itertuples():
        group = GROUPS.get(molecules[products[row.product_id]])
        for day in json.loads(row.days_json) if group else []:
            assert (row.protocol_id, day, group) not in taken, (names[row.protocol_id], day)
            taken.add((row.protocol_id, day, group))
    # R-CHOP: its premedication once, prednisone J1-J5, the rinse after the bags
    rchop = lines[lines["protocol_id"] == loaded.tables["protocols"].set_index("name").loc[
        "R-CHOP 21", "protocol_id"]]  # fmt: skip
    given = [molecules[products[p]] for p in rchop["product_id"].dropna()]
    assert given.count("Paracétamol") == 1 and given.count("Chlorure de sodium 0,9 %") == 2
    support = rchop[rchop["line_type"] != 1]
    prednisone = support[
        support["product_id"].map(lambda p: molecules[products[p]]) == "Prednisone"
    ]
    assert json.loads(prednisone["days_json"].iloc[0]) == [1, 2, 3, 4, 5]


def test_large_scale_protocols_are_sized_5_to_20_and_total_exactly():
    """The large thésaurus (protocols only, no files): 1 500 protocols, 15 000 lines."""
    import numpy as np

    from oncosecours.refresh import synth

    _, n_protocols, n_lines, n_molecules, n_products, _ = synth.SCALES["large"]
    rng = np.random.default_rng(1)
    molecules = synth._molecules(rng, n_molecules)
    products = synth._products(rng, molecules, n_products)
    protocols, lines = synth._protocols(rng, molecules, products, n_protocols, n_lines)
    assert (len(molecules), len(products), len(protocols), len(lines)) == (200, 2000, 1500, 15000)
    demo = {p[0] for p in synth.DEMO_PROTOCOLS}
    sizes = [len(p["lines"]) for p in protocols if p["name"] not in demo]
    assert 5 <= min(sizes) and max(sizes) <= 20 and len(set(sizes)) >= 12  # varied
    for protocol in protocols:
        seen = set()
        for line in protocol["lines"]:
            if line["type"] == 1:
                continue
            for day in synth._days(line["mask"]):
                assert (day, line["product"]) not in seen, (protocol["name"], line["name"], day)
                seen.add((day, line["product"]))
        assert max(len(line["mask"]) for line in protocol["lines"]) <= protocol["cycle"]
