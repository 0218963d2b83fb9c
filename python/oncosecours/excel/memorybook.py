"""An in-memory stand-in for the few xlwings objects the adapter uses (tests and benchmark).

Excel is not available on Linux and xlwings' file reader is a PRO feature, so the ribbon actions
are exercised against :class:`MemoryBook`: loaded from a real built ``.xlsm`` (cells, tables,
names, protection, unlocked input cells), it behaves like Excel where it matters here:

* a string assigned through ``Range.value`` that starts with ``=`` becomes a formula unless it
  carries the apostrophe text marker (which Excel keeps out of the value);
* writing into a protected sheet fails, as COM does;
* :meth:`MemoryBook.type` plays a user typing: it refuses a locked cell of a protected sheet.

It implements nothing else: an adapter call outside this surface fails loudly in the tests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from oncosecours.excel.layout import column_index, column_letter

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")


class ProtectedSheetError(RuntimeError):
    """What Excel's COM raises when a macro writes into a protected sheet."""


@dataclass(frozen=True)
class Formula:
    text: str


def parse_ref(address: str) -> tuple[int, int, int, int]:
    """``$A$1:$C$3`` -> (top, left, bottom, right), 1-based."""
    match = _REF.match(address.split("!")[-1].replace("'", ""))
    if not match:
        raise ValueError(f"unsupported address {address!r}")
    left, top = column_index(match.group(1)), int(match.group(2))
    right = column_index(match.group(3)) if match.group(3) else left
    bottom = int(match.group(4)) if match.group(4) else top
    return top, left, bottom, right


def to_address(top: int, left: int, bottom: int, right: int) -> str:
    first = f"${column_letter(left)}${top}"
    if (top, left) == (bottom, right):
        return first
    return f"{first}:${column_letter(right)}${bottom}"


class _Api:
    def __init__(self, sheet: MemorySheet) -> None:
        self.sheet = sheet

    def Protect(self, **options: Any) -> None:  # noqa: N802 (COM name)
        self.sheet.protected = True
        self.sheet.protect_options = options

    def Unprotect(self, *args: Any) -> None:  # noqa: N802 (COM name)
        self.sheet.protected = False


class _Options:
    def __init__(self, rng: MemoryRange) -> None:
        self.rng = rng

    @property
    def value(self) -> list[list[Any]]:
        return self.rng._block()


class MemoryRange:
    def __init__(self, sheet: MemorySheet, top: int, left: int, bottom: int, right: int):
        self.sheet = sheet
        self.top, self.left, self.bottom, self.right = top, left, bottom, right

    @property
    def address(self) -> str:
        return to_address(self.top, self.left, self.bottom, self.right)

    @property
    def shape(self) -> tuple[int, int]:
        return self.bottom - self.top + 1, self.right - self.left + 1

    def options(self, ndim: int | None = None, **_: Any) -> _Options:
        assert ndim == 2, "the adapter reads blocks with ndim=2"
        return _Options(self)

    def select(self) -> None:
        self.sheet.book.select(self.sheet.name, self.address)

    def _block(self) -> list[list[Any]]:
        return [
            [self.sheet.cells.get((r, c)) for c in range(self.left, self.right + 1)]
            for r in range(self.top, self.bottom + 1)
        ]

    @property
    def value(self) -> Any:
        block = self._block()
        rows, cols = self.shape
        if rows == 1 and cols == 1:
            return block[0][0]
        if rows == 1:
            return block[0]
        if cols == 1:
            return [row[0] for row in block]
        return block

    @value.setter
    def value(self, data: Any) -> None:
        self.sheet._check_writable()
        if not isinstance(data, list):
            data = [[data]]
        elif data and not isinstance(data[0], list):
            data = [data]
        for i, row in enumerate(data):
            for j, item in enumerate(row):
                self.sheet._store(self.top + i, self.left + j, item)

    def clear_contents(self) -> None:
        self.sheet._check_writable()
        for r in range(self.top, self.bottom + 1):
            for c in range(self.left, self.right + 1):
                self.sheet.cells.pop((r, c), None)
                self.sheet.text_cells.discard((r, c))


class MemoryTable:
    def __init__(self, sheet: MemorySheet, name: str, ref: str) -> None:
        self.sheet, self.name, self.ref = sheet, name, ref

    @property
    def range(self) -> MemoryRange:
        return MemoryRange(self.sheet, *parse_ref(self.ref))

    def resize(self, rng: MemoryRange) -> None:
        self.sheet._check_writable()
        self.ref = rng.address.replace("$", "")


class MemorySheet:
    def __init__(self, book: MemoryBook, name: str) -> None:
        self.book = book
        self.name = name
        self.cells: dict[tuple[int, int], Any] = {}
        self.text_cells: set[tuple[int, int]] = set()
        self.protected = False
        self.protect_options: dict[str, Any] = {}
        self.unlocked_cells: set[tuple[int, int]] = set()
        self.unlocked_columns: set[int] = set()
        self.text_format_cells: set[tuple[int, int]] = set()
        self.text_format_columns: set[int] = set()
        self.tables: dict[str, MemoryTable] = {}
        self.api = _Api(self)

    def range(self, address: str) -> MemoryRange:
        if "," in address:  # several areas: only selectable, as the self-test does
            return _Areas(self, address)
        return MemoryRange(self, *parse_ref(address))

    def activate(self) -> None:
        self.book.active_name = self.name

    def _check_writable(self) -> None:
        if self.protected:
            raise ProtectedSheetError(f"la feuille « {self.name} » est protégée")

    def _store(self, row: int, col: int, item: Any) -> None:
        key = (row, col)
        self.text_cells.discard(key)
        if item is None or item == "":
            self.cells.pop(key, None)
            return
        if isinstance(item, str) and item.startswith("'"):
            self.cells[key] = item[1:]
            self.text_cells.add(key)
            if not item[1:]:
                self.cells.pop(key, None)
            return
        if isinstance(item, str) and item.startswith(("=", "+", "-", "@")) and len(item) > 1:
            self.cells[key] = Formula(item)  # Excel would evaluate it
            return
        self.cells[key] = item

    def locked(self, row: int, col: int) -> bool:
        return (row, col) not in self.unlocked_cells and col not in self.unlocked_columns

    def text_format(self, row: int, col: int) -> bool:
        """A cell formatted as Text (``@``): what is typed there stays text."""
        return (row, col) in self.text_format_cells or col in self.text_format_columns


class _Sheets:
    def __init__(self, book: MemoryBook) -> None:
        self.book = book

    def __getitem__(self, name: str) -> MemorySheet:
        return self.book._sheets[name]

    @property
    def active(self) -> MemorySheet:
        return self.book._sheets[self.book.active_name]


class MemoryName:
    def __init__(self, book: MemoryBook, name: str, refers_to: str) -> None:
        self.book, self.name, self.refers_to = book, name, refers_to

    @property
    def refers_to_range(self) -> MemoryRange:
        text = self.refers_to.lstrip("=")
        sheet, _, ref = text.rpartition("!")
        return self.book.sheets[sheet.strip("'").replace("''", "'")].range(ref)


class _Areas:
    """A multi-area range (``$A$5:$C$5,$A$7:$C$7``): what a user selects with Ctrl."""

    def __init__(self, sheet: MemorySheet, address: str) -> None:
        self.sheet, self.address = sheet, address

    def select(self) -> None:
        self.sheet.book.select(self.sheet.name, self.address)


class _Selection:
    def __init__(self, sheet: MemorySheet, address: str) -> None:
        self.sheet, self.address = sheet, address


class MemoryApp:
    def __init__(self) -> None:
        self.selection: _Selection | None = None
        self.status_bar: Any = False
        self.status_history: list[Any] = []
        self.alerts: list[dict[str, Any]] = []

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "status_bar" and hasattr(self, "status_history"):
            self.status_history.append(value)
        super().__setattr__(key, value)

    def alert(self, prompt: str, title: str = "", buttons: str = "ok", mode: Any = None) -> str:
        self.alerts.append({"prompt": prompt, "title": title, "mode": mode})
        return "ok"


class MemoryBook:
    def __init__(self, fullname: str | Path) -> None:
        self.fullname = str(fullname)
        self._sheets: dict[str, MemorySheet] = {}
        self.names: dict[str, MemoryName] = {}
        self.app = MemoryApp()
        self.sheets = _Sheets(self)
        self.active_name = ""

    # --- what tests do as the user ------------------------------------------------------------

    def type(self, sheet: str, address: str, value: Any) -> None:
        """A user typing into a cell: refused on a locked cell of a protected sheet."""
        target = self._sheets[sheet]
        top, left, bottom, right = parse_ref(address)
        for row in range(top, bottom + 1):
            for col in range(left, right + 1):
                if target.protected and target.locked(row, col):
                    raise ProtectedSheetError(f"{sheet}!{address} est verrouillée")
                if isinstance(value, str) and target.text_format(row, col):
                    target._store(row, col, "'" + value)
                else:
                    target._store(row, col, value)
        self.app.selection = _Selection(target, to_address(top, left, bottom, right))

    def select(self, sheet: str, address: str) -> None:
        self.active_name = sheet
        self.app.selection = _Selection(self._sheets[sheet], address)

    def value(self, sheet: str, address: str) -> Any:
        return self._sheets[sheet].range(address).value

    # --- loading ------------------------------------------------------------------------------

    @classmethod
    def from_xlsm(cls, path: str | Path) -> MemoryBook:
        """Cells, tables, names, protection and unlocked cells of a real workbook (openpyxl)."""
        import openpyxl

        wb = openpyxl.load_workbook(path, keep_vba=False)
        book = cls(Path(path).resolve())
        for ws in wb.worksheets:
            sheet = MemorySheet(book, ws.title)
            book._sheets[ws.title] = sheet
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value is not None:
                        value = cell.value
                        if cell.data_type == "f":
                            value = Formula(str(value))
                        elif cell.data_type == "s":
                            sheet.text_cells.add((cell.row, cell.column))
                        sheet.cells[(cell.row, cell.column)] = value
                    if cell.has_style and not cell.protection.locked:
                        sheet.unlocked_cells.add((cell.row, cell.column))
                    if cell.has_style and cell.number_format == "@":
                        sheet.text_format_cells.add((cell.row, cell.column))
            for letter, dim in ws.column_dimensions.items():
                columns = range(dim.min or column_index(letter), (dim.max or 0) + 1)
                if dim.style_id and not dim.protection.locked:
                    sheet.unlocked_columns.update(columns)
                if dim.style_id and dim.number_format == "@":
                    sheet.text_format_columns.update(columns)
            for name, ref in ws.tables.items():
                sheet.tables[name] = MemoryTable(sheet, name, ref)
            sheet.protected = bool(ws.protection.sheet)
        for name, defined in wb.defined_names.items():
            book.names[name] = MemoryName(book, name, "=" + defined.attr_text)
        book.active_name = (wb.active or wb.worksheets[0]).title
        return book

    # --- JSON (the benchmark's action process loads this instead of openpyxl) ------------------

    def to_json(self) -> str:
        def encode(value: Any) -> list:
            if isinstance(value, Formula):
                return ["f", value.text]
            if isinstance(value, datetime):
                return ["dt", value.isoformat()]
            if isinstance(value, date):
                return ["d", value.isoformat()]
            return ["v", value]

        data = {
            "fullname": self.fullname,
            "active": self.active_name,
            "names": {n: v.refers_to for n, v in self.names.items()},
            "sheets": [
                {
                    "name": s.name,
                    "protected": s.protected,
                    "cells": [[r, c, *encode(v)] for (r, c), v in sorted(s.cells.items())],
                    "text": sorted(s.text_cells),
                    "unlocked": sorted(s.unlocked_cells),
                    "unlocked_columns": sorted(s.unlocked_columns),
                    "text_format": sorted(s.text_format_cells),
                    "text_format_columns": sorted(s.text_format_columns),
                    "tables": {n: t.ref for n, t in s.tables.items()},
                }
                for s in self._sheets.values()
            ],
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> MemoryBook:
        data = json.loads(text)
        book = cls(data["fullname"])
        decode = {
            "f": Formula,
            "dt": datetime.fromisoformat,
            "d": date.fromisoformat,
            "v": lambda v: v,
        }
        for item in data["sheets"]:
            sheet = MemorySheet(book, item["name"])
            book._sheets[sheet.name] = sheet
            sheet.protected = item["protected"]
            for r, c, kind, value in item["cells"]:
                sheet.cells[(r, c)] = decode[kind](value)
            sheet.text_cells = {tuple(x) for x in item["text"]}
            sheet.unlocked_cells = {tuple(x) for x in item["unlocked"]}
            sheet.unlocked_columns = set(item["unlocked_columns"])
            sheet.text_format_cells = {tuple(x) for x in item["text_format"]}
            sheet.text_format_columns = set(item["text_format_columns"])
            sheet.tables = {n: MemoryTable(sheet, n, ref) for n, ref in item["tables"].items()}
        book.names = {n: MemoryName(book, n, ref) for n, ref in data["names"].items()}
        book.active_name = data["active"]
        return book
