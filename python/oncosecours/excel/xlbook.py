"""The one thin adapter between the ribbon actions and Excel (xlwings): ``Book.caller()`` lives here.

Everything the actions do to the workbook goes through :class:`XlBook`: read a form, read the
selected rows of a sheet's table, rewrite a table or a drop-down list in one block, show progress
in the status bar, show a French message box. The xlwings surface used is deliberately small
(``Book.fullname``, ``sheets[...]``, ``range(...).value``/``options(ndim=2)``/``clear_contents``,
``tables[...].range``/``resize``, ``names[...].refers_to``, ``app.selection``/``status_bar``/
``alert``, and ``Sheet.api.Protect``/``Unprotect``) so that tests can drive it with a fake book.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from oncosecours.excel import cells
from oncosecours.excel.layout import Layout, Sheet, column_letter

TITLE = "OncoSecours"
_AREA = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


def caller() -> XlBook:
    """The workbook whose ribbon button started this process."""
    import xlwings as xw

    return XlBook(xw.Book.caller())


def selection_rows(address: str) -> list[int]:
    """Row numbers covered by a selection address (``$A$5:$C$7,$A$9`` -> 5, 6, 7, 9)."""
    rows: set[int] = set()
    for area in address.replace(" ", "").split(","):
        area = area.split("!")[-1]
        match = _AREA.match(area)
        if not match:
            continue
        first = int(match.group(2))
        last = int(match.group(4) or first)
        rows.update(range(min(first, last), max(first, last) + 1))
    return sorted(rows)


class XlBook:
    """The calling workbook, seen through the layout."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self._unprotected: set[str] = set()

    # --- where ------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return Path(self.book.fullname)

    @property
    def folder(self) -> Path:
        return self.path.parent

    # --- protection -------------------------------------------------------------------------

    def _unprotect(self, name: str) -> Any:
        sheet = self.book.sheets[name]
        if name not in self._unprotected:
            sheet.api.Unprotect()
            self._unprotected.add(name)
        return sheet

    def protect_all(self) -> None:
        """Protect again every sheet this action unprotected (filters stay usable)."""
        for name in sorted(self._unprotected):
            self.book.sheets[name].api.Protect(
                DrawingObjects=True,
                Contents=True,
                Scenarios=True,
                AllowFormattingColumns=True,
                AllowFormattingRows=True,
                AllowFiltering=True,
            )
        self._unprotected.clear()

    # --- forms ------------------------------------------------------------------------------

    def read_fields(self, sheet: Sheet, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """The form's cells, read in one block (raw values; see :mod:`cells` to convert)."""
        wanted = [f for f in sheet.fields if keys is None or f.key in set(keys)]
        if not wanted:
            return {}
        top = min(f.row for f in wanted)
        bottom = max(f.row for f in wanted)
        left = min(f.column for f in wanted)
        right = max(f.column for f in wanted)
        address = f"{column_letter(left)}{top}:{column_letter(right)}{bottom}"
        block = self.book.sheets[sheet.name].range(address).options(ndim=2).value
        return {f.key: block[f.row - top][f.column - left] for f in wanted}

    def write_fields(self, sheet: Sheet, values: dict[str, Any]) -> None:
        if not values:
            return
        target = self._unprotect(sheet.name)
        for key, value in values.items():
            item = sheet.field(key)
            if key == "age_sauvegarde":
                continue  # a formula of the workbook
            target.range(item.cell).value = cells.for_excel(
                cells.display_value(value, item.number_format)
            )

    # --- tables -----------------------------------------------------------------------------

    def _table_address(self, sheet: Sheet) -> tuple[int, int]:
        """First and last data row of the sheet's table as it is now."""
        table = sheet.table
        address = self.book.sheets[sheet.name].tables[table.name].range.address
        rows = selection_rows(address)
        return table.first_row, max(rows[-1], table.first_row)

    def read_table(self, sheet: Sheet) -> list[dict[str, Any]]:
        table = sheet.table
        first, last = self._table_address(sheet)
        address = f"A{first}:{table.last_column_letter}{last}"
        block = self.book.sheets[sheet.name].range(address).options(ndim=2).value
        keys = table.keys()
        return [
            {"_row": first + i, **dict(zip(keys, values, strict=False))}
            for i, values in enumerate(block)
            if any(v not in (None, "") for v in values)
        ]

    def selected_rows(self, sheet: Sheet) -> list[dict[str, Any]]:
        """Rows of the sheet's table under the current selection (empty if elsewhere)."""
        selection = self.book.app.selection
        if selection is None or selection.sheet.name != sheet.name:
            return []
        wanted = set(selection_rows(selection.address))
        return [row for row in self.read_table(sheet) if row["_row"] in wanted]

    def write_table(self, sheet: Sheet, rows: list[dict[str, Any]]) -> None:
        """Replace the table's rows in one block and resize the Excel table to fit."""
        table = sheet.table
        if table.shown_rows:
            rows = rows[: table.shown_rows]
        target = self._unprotect(sheet.name)
        first, last = self._table_address(sheet)
        right = table.last_column_letter
        target.range(f"A{first}:{right}{last}").clear_contents()
        bottom = first + max(len(rows), 1) - 1
        target.tables[table.name].resize(target.range(f"A{table.header_row}:{right}{bottom}"))
        if rows:
            block = [
                [
                    cells.for_excel(cells.display_value(row.get(col.key), col.number_format))
                    for col in table.columns
                ]
                for row in rows
            ]
            target.range(f"A{first}:{right}{bottom}").value = block

    def write_cell(self, sheet: Sheet, row: int, key: str, value: Any) -> None:
        """One cell of the sheet's table (what a user types in an open column)."""
        column = next(c for c in sheet.table.columns if c.key == key)
        address = f"{column_letter(sheet.table.index(key) + 1)}{row}"
        self._unprotect(sheet.name).range(address).value = cells.for_excel(
            cells.display_value(value, column.number_format)
        )

    def select_rows(self, sheet: Sheet, rows: list[int]) -> None:
        """Select table rows (columns A to C of each), as a user would before a click."""
        if not rows:
            return
        target = self.book.sheets[sheet.name]
        target.activate()
        target.range(",".join(f"$A${r}:$C${r}" for r in rows)).select()

    def write_list(self, layout: Layout, name: str, values: list[str]) -> None:
        """Rewrite one drop-down list and point its workbook name at the new range."""
        sheet = layout.lists_sheet
        index = sheet.lists.index(name) + 1
        letter = column_letter(index)
        target = self._unprotect(sheet.name)
        target.range(f"{letter}2:{letter}{layout.max_rows}").clear_contents()
        if values:
            target.range(f"{letter}2:{letter}{len(values) + 1}").value = [
                [cells.for_excel(cells.display_value(v))] for v in values
            ]
        last = max(2, len(values) + 1)
        quoted = "'" + sheet.name.replace("'", "''") + "'"
        self.book.names[name].refers_to = f"={quoted}!${letter}$2:${letter}${last}"

    # --- feedback ---------------------------------------------------------------------------

    def status(self, text: str | None) -> None:
        """Excel's status bar (``None`` gives it back to Excel)."""
        self.book.app.status_bar = text if text else False

    def alert(self, text: str, *, title: str = TITLE, critical: bool = False) -> None:
        self.book.app.alert(
            text, title=title, buttons="ok", mode="critical" if critical else "info"
        )

    def activate(self, name: str) -> None:
        self.book.sheets[name].activate()

    def active_sheet(self) -> str:
        return self.book.sheets.active.name
