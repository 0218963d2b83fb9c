"""The small pure pieces of the workbook layer: layout checks, cell conversions, parsing."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells
from oncosecours.excel.actions._common import bracket_number, leading_number
from oncosecours.excel.actions.production import lots
from oncosecours.excel.actions.validation import justifications
from oncosecours.excel.layout import column_index, column_letter, load_layout
from oncosecours.excel.memorybook import Formula, MemoryBook, MemorySheet
from oncosecours.excel.xlbook import selection_rows


def test_selection_rows_of_multi_area_addresses():
    assert selection_rows("$A$5:$C$7,$A$9") == [5, 6, 7, 9]
    assert selection_rows("'Feu vert'!$B$12") == [12]
    assert selection_rows("$A$9:$C$5") == [5, 6, 7, 8, 9]
    assert selection_rows("") == []


def test_column_letters_round_trip():
    for index in (1, 26, 27, 52, 703):
        assert column_index(column_letter(index)) == index
    assert column_letter(28) == "AB"


def test_strings_written_through_com_carry_the_text_marker():
    assert cells.for_excel("=1+1") == "'=1+1"
    assert cells.for_excel("0012345") == "'0012345"  # an IPP keeps its leading zeros
    assert cells.for_excel(12.5) == 12.5


def test_display_values_from_the_store():
    assert cells.display_value("2026-03-02", "dd/mm/yyyy") == date(2026, 3, 2)
    assert cells.display_value("2026-03-02T14:05:09+01:00", "dd/mm/yyyy hh:mm") == datetime(
        2026, 3, 2, 14, 5, 9
    )
    assert cells.display_value("2026-03-02", None) == "2026-03-02"  # not a date column
    assert cells.display_value(["a", "b"]) == "a\nb"
    assert cells.display_value("bip\x07") == "bip\ufffd"
    assert cells.display_value("") is None
    long = cells.display_value("x" * 40_000)
    assert len(long) == cells.CELL_LIMIT and long.endswith(cells.TRUNCATED)


def test_user_input_conversions():
    assert cells.as_iso_date("5/3/2026") == "2026-03-05"
    assert cells.as_iso_date(datetime(2026, 3, 5, 10, 0)) == "2026-03-05"
    assert cells.as_number("62,5") == 62.5
    assert cells.as_number(70.0) == 70
    assert cells.as_number("soixante") == "soixante"  # the service refuses it, with the value
    assert cells.as_text(9000101.0) == "9000101"
    assert cells.as_bool("Oui") and not cells.as_bool("Non") and not cells.as_bool(None)


def test_drop_down_choices_are_parsed():
    assert bracket_number("FOLFOX 4 [944]") == "944"
    assert bracket_number("FOLFOX") == "FOLFOX"
    assert leading_number("12 — MARTIN Jeanne — FOLFOX C1 — 02/03/2026", "cure") == 12
    with pytest.raises(OncoError):
        leading_number("MARTIN", "cure")


def test_justifications_by_rule_or_shared():
    blocking = ["SAUVEGARDE_ANCIENNE", "INTERVALLE"]
    assert justifications("vu avec le médecin", blocking) == {
        "SAUVEGARDE_ANCIENNE": "vu avec le médecin",
        "INTERVALLE": "vu avec le médecin",
    }
    assert justifications(
        "INTERVALLE : report accepté ; SAUVEGARDE_ANCIENNE: vérifié", blocking
    ) == {
        "INTERVALLE": "report accepté",
        "SAUVEGARDE_ANCIENNE": "vérifié",
    }
    assert justifications("", blocking) == {}
    assert justifications("texte", []) == {}


def test_lots_typed_in_a_cell():
    parsed = lots(
        "flacon:OXALIPLATINE 100 mg/20 mL:AB12:12/2099 ; diluant:Glucose 5 %:G7:2099-01-31"
    )
    assert [(lot.kind, lot.lot) for lot in parsed] == [("flacon", "AB12"), ("diluant", "G7")]
    assert lots(None) == []
    with pytest.raises(OncoError):
        lots("flacon:sans péremption")


def _layout_file(tmp_path, body: str):
    path = tmp_path / "layout.toml"
    path.write_text(body, encoding="utf-8")
    load_layout.cache_clear()
    return path


def test_layout_refuses_a_table_above_its_form(tmp_path):
    path = _layout_file(
        tmp_path,
        """
[[feuille]]
nom = "X"
champ = [{ cle = "a", libelle = "A", cellule = "B6" }]
[feuille.tableau]
nom = "T_X"
ligne = 4
colonnes = [{ cle = "a", titre = "A" }]
""",
    )
    with pytest.raises(OncoError, match="sous le formulaire"):
        load_layout(path)


def test_layout_refuses_unknown_lists_and_label_less_cells(tmp_path):
    with pytest.raises(OncoError, match="liste inconnue"):
        load_layout(
            _layout_file(
                tmp_path,
                '[[feuille]]\nnom = "X"\nchamp = [{ cle = "a", cellule = "B2", liste = "L_Z" }]\n',
            )
        )
    with pytest.raises(OncoError, match="colonne B"):
        load_layout(
            _layout_file(
                tmp_path, '[[feuille]]\nnom = "X"\nchamp = [{ cle = "a", cellule = "A2" }]\n'
            )
        )


def test_shipped_layout_is_consistent():
    load_layout.cache_clear()
    layout = load_layout()
    assert layout.lists_sheet.name == "Listes"
    for sheet in layout.sheets:
        if sheet.table:
            assert len(sheet.table.columns) <= 26


def test_memory_book_behaves_like_excel_for_strings(built):
    book = MemoryBook.from_xlsm(built)
    sheet: MemorySheet = book.sheets["Journal"]
    sheet.api.Unprotect()
    sheet.range("H20").value = "=1+1"
    sheet.range("H21").value = "'=1+1"
    assert isinstance(sheet.cells[(20, 8)], Formula)
    assert sheet.cells[(21, 8)] == "=1+1" and (21, 8) in sheet.text_cells


def test_memory_book_json_round_trip(built):
    book = MemoryBook.from_xlsm(built)
    again = MemoryBook.from_json(book.to_json())
    for name in ("Accueil", "Patients", "Listes"):
        assert again.sheets[name].cells == book.sheets[name].cells
        assert again.sheets[name].unlocked_cells == book.sheets[name].unlocked_cells
    assert {n: v.refers_to for n, v in again.names.items()} == {
        n: v.refers_to for n, v in book.names.items()
    }
