"""The declarative layout of the workbook (``workbook/layout.toml``), loaded and checked.

Both the builder (openpyxl, at build time) and the ribbon actions (xlwings, at run time) read the
sheets, form cells and table columns from here, so the two can never disagree. Stdlib only.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from oncosecours.domain.errors import OncoError
from oncosecours.resources import shipped

_CELL = re.compile(r"^([A-Z]{1,3})([1-9][0-9]*)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Field:
    """One form cell: the label goes in the cell to its left."""

    key: str
    label: str
    cell: str
    name: str | None = None
    number_format: str | None = None
    list_name: str | None = None
    editable: bool = False
    merge: int = 0
    large: bool = False
    height: float | None = None

    @property
    def column(self) -> int:
        return column_index(_CELL.match(self.cell).group(1))

    @property
    def row(self) -> int:
        return int(_CELL.match(self.cell).group(2))


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: float = 12
    number_format: str | None = None
    editable: bool = False
    list_name: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    header_row: int
    columns: tuple[Column, ...]
    shown_rows: int | None = None

    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def index(self, key: str) -> int:
        """0-based position of a column."""
        return self.keys().index(key)

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    @property
    def last_column_letter(self) -> str:
        return column_letter(len(self.columns))


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str = ""
    instruction: str = ""
    protected: bool = True
    landscape: bool = False
    hidden: bool = False
    freeze: bool = True
    fields: tuple[Field, ...] = ()
    table: Table | None = None
    lists: tuple[str, ...] = ()

    def field(self, key: str) -> Field:
        for item in self.fields:
            if item.key == key:
                return item
        raise KeyError(key)


@dataclass(frozen=True)
class Layout:
    file_name: str
    max_rows: int
    sheets: tuple[Sheet, ...] = field(default_factory=tuple)
    source: Path | None = None

    def sheet(self, name: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        raise OncoError(f"Feuille « {name} » absente de la disposition", file=str(self.source))

    def table(self, name: str) -> tuple[Sheet, Table]:
        for sheet in self.sheets:
            if sheet.table and sheet.table.name == name:
                return sheet, sheet.table
        raise OncoError(f"Tableau « {name} » absent de la disposition", file=str(self.source))

    @property
    def lists(self) -> tuple[str, ...]:
        return tuple(name for sheet in self.sheets for name in sheet.lists)

    @property
    def lists_sheet(self) -> Sheet:
        for sheet in self.sheets:
            if sheet.lists:
                return sheet
        raise OncoError("Aucune feuille de listes dans la disposition", file=str(self.source))


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    value = 0
    for char in letters:
        value = value * 26 + ord(char) - 64
    return value


def default_path() -> Path:
    return shipped("workbook", "layout.toml")


@lru_cache(maxsize=4)
def load_layout(path: str | Path | None = None) -> Layout:
    """Read and check the layout; every problem is refused in French with the place."""
    source = Path(path) if path else default_path()
    try:
        with source.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise OncoError("Disposition du classeur introuvable", file=str(source)) from None
    except tomllib.TOMLDecodeError as exc:
        raise OncoError(f"Disposition du classeur illisible : {exc}", file=str(source)) from None
    book = raw.get("classeur", {})
    sheets = tuple(_sheet(item, source) for item in raw.get("feuille", []))
    layout = Layout(
        file_name=str(book.get("fichier", "OncoSecours.xlsm")),
        max_rows=int(book.get("lignes_max", 5000)),
        sheets=sheets,
        source=source,
    )
    _check(layout)
    return layout


def _sheet(raw: dict, source: Path) -> Sheet:
    name = raw.get("nom")
    if not name or len(name) > 31 or any(c in name for c in "[]:*?/\\"):
        raise OncoError(f"Nom de feuille invalide : « {name} »", file=str(source))
    fields = tuple(_field(item, name, source) for item in raw.get("champ", []))
    table = _table(raw["tableau"], name, source) if "tableau" in raw else None
    return Sheet(
        name=name,
        title=raw.get("titre", ""),
        instruction=raw.get("consigne", ""),
        protected=bool(raw.get("protegee", True)),
        landscape=raw.get("orientation", "paysage") == "paysage",
        hidden=bool(raw.get("masquee", False)),
        freeze=bool(raw.get("figer_entetes", True)),
        fields=fields,
        table=table,
        lists=tuple(raw.get("listes", [])),
    )


def _field(raw: dict, sheet: str, source: Path) -> Field:
    cell = str(raw.get("cellule", ""))
    match = _CELL.match(cell)
    if not match or column_index(match.group(1)) < 2:
        raise OncoError(
            f"Feuille « {sheet} » : case invalide « {cell} » pour le champ « {raw.get('cle')} » "
            "(colonne B ou plus à droite : le libellé va à gauche)",
            file=str(source),
        )
    return Field(
        key=raw["cle"],
        label=raw.get("libelle", raw["cle"]),
        cell=cell,
        name=raw.get("nom"),
        number_format=raw.get("format"),
        list_name=raw.get("liste"),
        editable=bool(raw.get("saisie", False)),
        merge=int(raw.get("largeur_fusion", 0)),
        large=bool(raw.get("grand", False)),
        height=raw.get("hauteur"),
    )


def _table(raw: dict, sheet: str, source: Path) -> Table:
    columns = tuple(
        Column(
            key=c["cle"],
            title=c["titre"],
            width=float(c.get("largeur", 12)),
            number_format=c.get("format"),
            editable=bool(c.get("saisie", False)),
            list_name=c.get("liste"),
        )
        for c in raw.get("colonnes", [])
    )
    if not columns:
        raise OncoError(f"Feuille « {sheet} » : tableau sans colonnes", file=str(source))
    return Table(
        name=raw["nom"],
        header_row=int(raw.get("ligne", 4)),
        columns=columns,
        shown_rows=raw.get("lignes_affichees"),
    )


def _check(layout: Layout) -> None:
    where = str(layout.source)
    seen_sheets: set[str] = set()
    names: set[str] = set()
    lists = set(layout.lists)
    for sheet in layout.sheets:
        if sheet.name.lower() in seen_sheets:
            raise OncoError(f"Feuille « {sheet.name} » en double", file=where)
        seen_sheets.add(sheet.name.lower())
        for item in sheet.fields:
            if item.name:
                if not _NAME.match(item.name) or item.name in names:
                    raise OncoError(f"Nom de case invalide ou en double : {item.name}", file=where)
                names.add(item.name)
            if item.list_name and item.list_name not in lists:
                raise OncoError(
                    f"Feuille « {sheet.name} », champ « {item.key} » : liste inconnue "
                    f"{item.list_name}",
                    file=where,
                )
        if sheet.table:
            table = sheet.table
            if not _NAME.match(table.name) or table.name in names:
                raise OncoError(f"Nom de tableau invalide ou en double : {table.name}", file=where)
            names.add(table.name)
            keys = table.keys()
            titles = [c.title.lower() for c in table.columns]
            if len(set(keys)) != len(keys) or len(set(titles)) != len(titles):
                raise OncoError(
                    f"Feuille « {sheet.name} » : clé ou titre de colonne en double", file=where
                )
            bottom = max((f.row for f in sheet.fields), default=0)
            if table.header_row <= bottom:
                raise OncoError(
                    f"Feuille « {sheet.name} » : le tableau (ligne {table.header_row}) doit "
                    f"commencer sous le formulaire (ligne {bottom})",
                    file=where,
                )
            for col in table.columns:
                if col.list_name and col.list_name not in lists:
                    raise OncoError(
                        f"Feuille « {sheet.name} », colonne « {col.key} » : liste inconnue "
                        f"{col.list_name}",
                        file=where,
                    )
    for name in lists:
        if not _NAME.match(name) or name in names:
            raise OncoError(f"Nom de liste invalide ou en double : {name}", file=where)
        names.add(name)
