"""The Prescription sheet shows its numeric doses with as many decimals as everywhere else
(``fr_dose``: 3), never rounded to 2 by the cell format."""

from __future__ import annotations

import re

from oncosecours.domain.display import DOSE_DECIMALS, fr_dose
from oncosecours.excel.layout import column_letter, load_layout

DOSE_COLUMNS = ("dose_protocole", "dose_theorique", "dose_calculee", "dose")


def _decimals(number_format: str) -> int:
    match = re.fullmatch(r"0(?:\.([0#]+))?", number_format)
    assert match, number_format
    return len(match.group(1) or "")


def test_prescription_dose_columns_show_the_dose_decimals_in_the_built_workbook(built):
    import openpyxl

    table = load_layout().sheet("Prescription").table
    ws = openpyxl.load_workbook(built)["Prescription"]
    for key in DOSE_COLUMNS:
        letter = column_letter(table.index(key) + 1)
        shown = ws.column_dimensions[letter].number_format
        assert shown == "0.###", (key, shown)
        assert _decimals(shown) == DOSE_DECIMALS
    assert fr_dose(73.755) == "73,755"  # what the other sheets and documents show
