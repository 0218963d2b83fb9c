"""Dose banding on the NHS tables: every band edge in both conventions, the shipped copies, parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncosecours.domain.banding import band_lookup, parse_band_table
from oncosecours.domain.errors import OncoError
from oncosecours.resources import data
from oncosecours.store.dose_banding import (
    TABLES,
    load_band_table,
    table_for_molecule,
    table_names,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared/reference/dose-banding"
UP, DOWN = "arrondi_superieur", "arrondi_inferieur"


def band_dose(table, dose, convention):
    result = band_lookup(table, dose, convention)
    return None if result is None else result.band_dose_mg


def test_shipped_tables_load_with_their_row_counts():
    counts = {name: len(load_band_table(name).bands) for name in table_names()}
    assert counts == {"nhs_20mgml_v7": 73, "nhs_6mgml_v2_paclitaxel": 33, "nhs_1mgml_partiel": 49}
    assert load_band_table("nhs_1mgml_partiel").partial
    assert load_band_table("nhs_20mgml_v7").low_mg == 5.0
    assert load_band_table("nhs_20mgml_v7").high_mg == 6368.68


@pytest.mark.skipif(not SHARED.is_dir(), reason="référence partagée absente")
@pytest.mark.parametrize("name", list(TABLES))
def test_shipped_copies_are_identical_to_the_reference(name):
    filename = TABLES[name][0]
    assert data("dose_banding", filename).read_bytes() == (SHARED / filename).read_bytes()


def test_package_data_has_its_provenance_readme():
    text = data("dose_banding", "README.md").read_text(encoding="utf-8")
    for name, (filename, _, _) in TABLES.items():
        assert filename in text and name in text
    assert "Lumina-Bridging-Inc/dose-banding-algorithm" in text


@pytest.mark.parametrize("name", list(TABLES))
def test_band_doses_stay_within_the_published_variance(name):
    # README of the tables: band dose within 6 % (a few published rows reach 6.58 %).
    for band in load_band_table(name).bands:
        assert (band.band_dose_mg - band.from_mg) / band.from_mg <= 0.066
        assert (band.to_a_mg - band.band_dose_mg) / band.to_a_mg <= 0.066


@pytest.mark.parametrize("name", list(TABLES))
def test_every_band_edge_in_both_conventions(name):
    table = load_band_table(name)
    bands = table.bands
    for index, band in enumerate(bands):
        following = bands[index + 1].band_dose_mg if index + 1 < len(bands) else None
        for convention in (UP, DOWN):
            assert band_dose(table, band.from_mg, convention) == band.band_dose_mg
            assert band_dose(table, band.to_b_mg, convention) == band.band_dose_mg
            assert band_dose(table, band.to_a_mg, convention) == following
        # Strictly between To(B) and To(A): the two conventions part.
        between = band.to_b_mg + 0.004
        assert band_dose(table, between, UP) == following
        assert band_dose(table, between, DOWN) == band.band_dose_mg


def test_edges_of_the_20_mg_ml_table_written_out():
    table = load_band_table("nhs_20mgml_v7")
    # first band: From 5.00, To(A) 5.40, To(B) 5.39 -> 5.2 mg; next band 5.6 mg
    assert band_dose(table, 5.00, UP) == 5.2
    assert band_dose(table, 5.39, UP) == 5.2
    assert band_dose(table, 5.391, UP) == 5.6  # rounded up to 5.40 -> next band
    assert band_dose(table, 5.40, UP) == 5.6
    assert band_dose(table, 5.399, DOWN) == 5.2  # rounded down to 5.39 -> To(B) ≤
    assert band_dose(table, 5.40, DOWN) == 5.6
    # below the table
    assert band_dose(table, 4.99, UP) is None
    assert band_dose(table, 4.999, DOWN) is None
    assert band_dose(table, 4.991, UP) == 5.2  # rounded up to 5.00
    # top of the table: last band 5660.38 ≤ d < 6368.68 (To(B) 6368.67) -> 6000 mg
    assert band_dose(table, 6368.67, UP) == 6000
    assert band_dose(table, 6368.671, UP) is None
    assert band_dose(table, 6368.679, DOWN) == 6000
    assert band_dose(table, 6368.68, DOWN) is None


def test_binary_noise_does_not_move_a_dose_across_an_edge():
    table = load_band_table("nhs_1mgml_partiel")
    noisy = 0.1 * 23  # 2.3000000000000003, band 2.30-2.50 -> 2.4
    assert noisy != 2.3
    assert band_dose(table, noisy, UP) == 2.4
    assert band_dose(table, noisy, DOWN) == 2.4
    below = 2.29 + 0.0000000001
    assert band_dose(table, below, DOWN) == 2.2


def test_deviation_is_reported():
    table = load_band_table("nhs_6mgml_v2_paclitaxel")
    result = band_lookup(table, 175 * 1.87, UP)  # 327.25 mg paclitaxel
    assert result.band_dose_mg == 336
    assert result.deviation_pct == pytest.approx((336 - 327.25) / 327.25 * 100)
    assert result.lookup_mg == 327.25
    assert (result.band.from_mg, result.band.to_a_mg) == (317.49, 356.38)


def test_unknown_convention_table_and_bad_dose_are_refused():
    table = load_band_table("nhs_20mgml_v7")
    with pytest.raises(OncoError, match="Convention de standardisation inconnue"):
        band_lookup(table, 100, "au_plus_proche")
    with pytest.raises(OncoError, match="Dose à standardiser impossible"):
        band_lookup(table, 0, UP)
    with pytest.raises(OncoError, match="Table de standardisation inconnue"):
        load_band_table("nhs_30mgml")


def test_molecule_mapping():
    assert table_for_molecule("Paclitaxel").name == "nhs_6mgml_v2_paclitaxel"
    assert table_for_molecule("cisplatine") is None


HEADER = "from,to_a,to_b,band\n"


@pytest.mark.parametrize(
    "body,message,line",
    [
        ("5.00,5.40,5.39,5.2\n5.41,5.80,5.79,5.6\n", "non contiguës", 3),
        ("5.00,5.40,5.38,5.2\n", r"To\(B\) 5,38 ≠ To\(A\) 5,4", 2),
        ("5.00,5.40,5.39,5.5\n", "hors de sa plage", 2),
        ("5.00,5.40,abc,5.2\n", "non numérique", 2),
        ("5.00,5.40,5.39\n", "incomplète", 2),
    ],
)
def test_broken_tables_are_refused_with_the_line(body, message, line):
    with pytest.raises(OncoError, match=message) as error:
        parse_band_table(HEADER + body, "essai", file="essai.csv")
    assert error.value.line == line
    assert error.value.file == "essai.csv"


def test_empty_table_is_refused():
    with pytest.raises(OncoError, match="vide"):
        parse_band_table(HEADER, "essai")
