"""Build ``OncoSecours.xlsm``: sheets from ``workbook/layout.toml``, VBA from ``addin/``, the ribbon.

Route (each step checked on Linux, see docs): pyOpenVBA creates a macro-enabled package with a
VBA project -> openpyxl (``keep_vba=True``) adds and fills the sheets -> pyOpenVBA adds the VBA
modules (xlwings' standalone module read from the installed xlwings, never copied into the repo,
plus the project's ``addin/*.bas``) -> :mod:`package` inserts the ribbon and pins timestamps.
Same inputs, same bytes.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells, package, views
from oncosecours.excel.layout import Layout, Sheet, Table, column_letter, load_layout
from oncosecours.resources import shipped

CONF_SHEET = "xlwings.conf"
DEFAULT_INTERPRETER = r"%ONCOSECOURS_DIR%\python\Scripts\python.exe"
"""The kit's Python beside the workbook; ``ONCOSECOURS_DIR`` is set by the ribbon module to the
workbook's folder just before RunPython (the kit may also write an absolute path here)."""
DEFAULT_PYTHONPATH = ""
DEFAULT_STORE = "oncosecours.sqlite"
TEMPLATE_MODULE = "Module1"

STATE_COLOURS = {
    "planifiée": ("F2F2F2", None),
    "prescrite": ("FFF2CC", None),
    "validée": ("E2EFDA", None),
    "refusée": ("F8CBAD", "9C0006"),
    "feu vert refusé": ("FCE4D6", "833C0B"),
    "feu vert": ("C6EFCE", "006100"),
    "annulée": ("D9D9D9", "595959"),
    "préparée": ("DDEBF7", None),
    "contrôlée": ("BDD7EE", None),
    "libérée": ("A9D08E", None),
    "refusée à la libération": ("F8CBAD", "9C0006"),
    "dispensée": ("E4DFEC", None),
    "administrée": ("D9E1F2", "375623"),
}
INPUT_FILL = "FFFBE6"
WARNING_FILL = "C00000"
ATTENTION_FILL = "FFC000"
OK_FILL = "C6EFCE"
NO_COPY_STATUS_YET = (
    "État de la copie de secours : affiché après la première action du ruban "
    "(« oncosecours backup status » en ligne de commande)"
)
"""Accueil's copy line in a workbook built without a store (the kit's)."""


def addin_dir() -> Path:
    return shipped("addin")


def ribbon_source() -> str:
    return (addin_dir() / "customUI14.xml").read_text(encoding="utf-8")


def project_modules() -> dict[str, str]:
    """The project's VBA modules (``addin/*.bas``) by module name, CRLF line ends."""
    modules = {}
    for path in sorted(addin_dir().glob("*.bas")):
        text = path.read_text(encoding="utf-8")
        modules[module_name(text, path)] = crlf(text)
    return modules


def xlwings_module() -> str:
    """xlwings' standalone VBA module from the installed package (its version matches Python's)."""
    import importlib.util

    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.origin:
        raise OncoError("Le paquet xlwings n'est pas installé", step="module VBA xlwings")
    path = Path(spec.origin).with_name("xlwings.bas")
    if not path.exists():
        raise OncoError("xlwings.bas introuvable dans le paquet xlwings", file=str(path))
    return crlf(path.read_text(encoding="utf-8"))


def module_name(text: str, path: Path | None = None) -> str:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    prefix = 'Attribute VB_Name = "'
    if not first.startswith(prefix):
        raise OncoError(
            "Un module VBA doit commencer par Attribute VB_Name", file=str(path or "?"), line=1
        )
    return first[len(prefix) :].rstrip('"')


def crlf(text: str) -> str:
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return text.replace("\n", "\r\n")


# --- openpyxl: sheets ------------------------------------------------------------------------


class _Styles:
    """openpyxl style objects, imported only when building."""

    def __init__(self) -> None:
        from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

        thin = Side(style="thin", color="BFBFBF")
        self.Alignment, self.Font, self.PatternFill = Alignment, Font, PatternFill
        self.title = Font(bold=True, size=16, color="1F3864")
        self.instruction = Font(italic=True, size=10, color="595959")
        self.label = Font(bold=True, size=10)
        self.large = Font(bold=True, size=26)
        self.unlocked = Protection(locked=False)
        self.locked = Protection(locked=True)
        self.box = Border(left=thin, right=thin, top=thin, bottom=thin)
        self.input_fill = PatternFill("solid", fgColor=INPUT_FILL)
        self.header_input_fill = PatternFill("solid", fgColor="FFE699")
        self.label_align = Alignment(horizontal="right", vertical="center", wrap_text=True)
        self.value_align = Alignment(horizontal="left", vertical="center", wrap_text=True)


def set_text(cell, value: Any, number_format: str | None = None) -> None:
    """Write a display value; a string is forced to stay a string (never a formula)."""
    shown = cells.display_value(value, number_format)
    cell.value = shown
    if isinstance(shown, str):
        cell.data_type = "s"
    if number_format:
        cell.number_format = number_format


def _write_field(ws, sheet: Sheet, key: str, value: Any) -> None:
    item = sheet.field(key)
    set_text(ws[item.cell], value, item.number_format)


def _write_rows(ws, table: Table, rows: list[dict[str, Any]], st: _Styles) -> None:
    for offset, row in enumerate(rows):
        for index, col in enumerate(table.columns, start=1):
            cell = ws.cell(row=table.first_row + offset, column=index)
            set_text(cell, row.get(col.key), col.number_format)
            if col.editable:
                cell.protection = st.unlocked
            if "\n" in str(row.get(col.key) or ""):
                cell.alignment = st.Alignment(wrap_text=True, vertical="top")


def _layout_sheet(wb, ws, sheet: Sheet, layout: Layout, st: _Styles) -> None:
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.filters import AutoFilter
    from openpyxl.worksheet.table import Table as XlTable
    from openpyxl.worksheet.table import TableStyleInfo

    if sheet.title:
        ws["A1"] = sheet.title
        ws["A1"].font = st.title
        ws.row_dimensions[1].height = 24
    if sheet.instruction:
        set_text(ws["A2"], sheet.instruction)
        ws["A2"].font = st.instruction
    validations: dict[str, DataValidation] = {}

    def validation_for(list_name: str) -> DataValidation:
        if list_name not in validations:
            dv = DataValidation(
                type="list",
                formula1=list_name,  # no leading "=" in the file (as Excel writes it)
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="OncoSecours",
                error="Choisir une valeur de la liste.",
            )
            validations[list_name] = dv
            ws.add_data_validation(dv)
        return validations[list_name]

    if sheet.table:
        table = sheet.table
        for index, col in enumerate(table.columns, start=1):
            letter = column_letter(index)
            ws.column_dimensions[letter].width = col.width
    for item in sheet.fields:
        label = ws.cell(row=item.row, column=item.column - 1)
        set_text(label, item.label)
        label.font = st.label
        label.alignment = st.label_align
        cell = ws[item.cell]
        cell.border = st.box
        cell.alignment = st.value_align
        if item.number_format:
            cell.number_format = item.number_format
        if item.large:
            cell.font = st.large
        wanted = item.height or (36 if item.large else 28)
        ws.row_dimensions[item.row].height = max(ws.row_dimensions[item.row].height or 0, wanted)
        if item.editable:
            cell.protection = st.unlocked
            cell.fill = st.input_fill
        if item.merge:
            last = column_letter(item.column + item.merge)
            ws.merge_cells(f"{item.cell}:{last}{item.row}")
        if item.name:
            _define_name(wb, item.name, sheet.name, item.cell)
        if item.list_name:
            validation_for(item.list_name).add(item.cell)
    if sheet.table:
        table = sheet.table
        last_letter = table.last_column_letter
        for index, col in enumerate(table.columns, start=1):
            header = ws.cell(row=table.header_row, column=index)
            set_text(header, col.title)
            header.alignment = st.Alignment(wrap_text=True, vertical="center")
            letter = column_letter(index)
            body = f"{letter}{table.first_row}:{letter}{layout.max_rows}"
            if col.number_format:
                ws.column_dimensions[letter].number_format = col.number_format
            if col.editable:
                ws.column_dimensions[letter].protection = st.unlocked
                header.fill = st.header_input_fill
            if col.list_name:
                validation_for(col.list_name).add(body)
        ws.row_dimensions[table.header_row].height = 32
        ref = f"A{table.header_row}:{last_letter}{table.first_row}"
        xl_table = XlTable(displayName=table.name, ref=ref, autoFilter=AutoFilter(ref=ref))
        xl_table.tableStyleInfo = TableStyleInfo(
            name="TableStyleMedium2", showRowStripes=True, showColumnStripes=False
        )
        ws.add_table(xl_table)
        if "etat" in table.keys():
            state_letter = column_letter(table.index("etat") + 1)
            area = f"A{table.first_row}:{last_letter}{layout.max_rows}"
            for label, (fill, font) in STATE_COLOURS.items():
                rule = FormulaRule(
                    formula=[f'${state_letter}{table.first_row}="{label}"'],
                    fill=st.PatternFill("solid", fgColor=fill, bgColor=fill),
                    font=st.Font(color=font, strike=label == "annulée") if font else None,
                )
                ws.conditional_formatting.add(area, rule)
        if sheet.freeze:
            ws.freeze_panes = f"A{table.first_row}"
        ws.print_title_rows = f"{table.header_row}:{table.header_row}"
    _print_setup(ws, sheet, layout)
    if sheet.protected:
        ws.protection.sheet = True
        ws.protection.autoFilter = False
        ws.protection.sort = False
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
    if sheet.hidden:
        ws.sheet_state = "hidden"


def _print_setup(ws, sheet: Sheet, layout: Layout) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if sheet.landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddHeader.left.text = "OncoSecours — &A"
    ws.oddHeader.right.text = "MODE DÉGRADÉ"
    ws.oddFooter.left.text = "Imprimé le &D à &T"
    ws.oddFooter.right.text = "Page &P / &N"


def _quote(sheet_name: str) -> str:
    return "'" + sheet_name.replace("'", "''") + "'"


def _absolute(cell: str) -> str:
    letters = "".join(c for c in cell if c.isalpha())
    digits = "".join(c for c in cell if c.isdigit())
    return f"${letters}${digits}"


def _define_name(wb, name: str, sheet_name: str, ref: str) -> None:
    from openpyxl.workbook.defined_name import DefinedName

    if ":" in ref:
        first, last = ref.split(":")
        target = f"{_quote(sheet_name)}!{_absolute(first)}:{_absolute(last)}"
    else:
        target = f"{_quote(sheet_name)}!{_absolute(ref)}"
    if name in wb.defined_names:
        del wb.defined_names[name]
    wb.defined_names[name] = DefinedName(name, attr_text=target)


def _accueil_extras(wb, ws, sheet: Sheet, st: _Styles) -> None:
    """Backup age formula and its warning colour (red past the settings' threshold)."""
    from openpyxl.formatting.rule import FormulaRule

    date_cell = sheet.field("date_sauvegarde").cell
    age = sheet.field("age_sauvegarde")
    ws[age.cell] = f'=IF(ISNUMBER({date_cell}),TODAY()-INT({date_cell}),"")'
    red = st.PatternFill("solid", fgColor=WARNING_FILL, bgColor=WARNING_FILL)
    green = st.PatternFill("solid", fgColor=OK_FILL, bgColor=OK_FILL)
    white = st.Font(color="FFFFFF", bold=True)
    ws.conditional_formatting.add(
        f"{age.cell}",
        FormulaRule(
            formula=[f"AND(ISNUMBER({age.cell}),{age.cell}>OS_SeuilSauvegarde)"],
            fill=red,
            font=white,
            stopIfTrue=True,
        ),
    )
    ws.conditional_formatting.add(
        f"{age.cell}", FormulaRule(formula=[f"ISNUMBER({age.cell})"], fill=green)
    )
    ws.conditional_formatting.add(
        f"{date_cell}",
        FormulaRule(
            formula=[f"OR(NOT(ISNUMBER({date_cell})),{age.cell}>OS_SeuilSauvegarde)"],
            fill=red,
            font=white,
        ),
    )
    _copy_line_colours(ws, sheet, st)


def _copy_line_colours(ws, sheet: Sheet, st: _Styles) -> None:
    """The « Copie de secours » line and its « Niveau » cell: red on alerte, orange on attention,
    green on ok (the ribbon rewrites the level after every action; the rules stay)."""
    from openpyxl.formatting.rule import FormulaRule

    line = sheet.field("copie_secours")
    level = sheet.field("niveau_copie")
    area = f"{line.cell}:{column_letter(line.column + line.merge)}{line.row} {level.cell}"
    colours = {
        "alerte": (WARNING_FILL, st.Font(color="FFFFFF", bold=True)),
        "attention": (ATTENTION_FILL, st.Font(color="000000", bold=True)),
        "ok": (OK_FILL, None),
    }
    for value, (fill, font) in colours.items():
        ws.conditional_formatting.add(
            area,
            FormulaRule(
                formula=[f'{_absolute(level.cell)}="{value}"'],
                fill=st.PatternFill("solid", fgColor=fill, bgColor=fill),
                font=font,
                stopIfTrue=True,
            ),
        )


def write_lists(wb, sheet: Sheet, values: dict[str, list[str]], st: _Styles | None = None) -> None:
    """One column per list on the (hidden) lists sheet, a workbook name on each."""
    ws = wb[sheet.name]
    for index, name in enumerate(sheet.lists, start=1):
        letter = column_letter(index)
        ws.cell(row=1, column=index, value=name)
        items = values.get(name, [])
        for offset, item in enumerate(items, start=2):
            set_text(ws.cell(row=offset, column=index), item)
        ws.column_dimensions[letter].width = 40
        last = max(2, len(items) + 1)
        _define_name(wb, name, sheet.name, f"{letter}2:{letter}{last}")


def write_conf(wb, interpreter: str, pythonpath: str) -> None:
    """The ``xlwings.conf`` sheet (hidden): read by xlwings' RunPython before anything else."""
    if CONF_SHEET in wb.sheetnames:
        ws = wb[CONF_SHEET]
    else:
        ws = wb.create_sheet(CONF_SHEET)
        ws.sheet_state = "hidden"
    entries = {
        "INTERPRETER_WIN": interpreter,
        "PYTHONPATH": pythonpath,
        "ADD_WORKBOOK_TO_PYTHONPATH": "false",
    }
    row = 1
    existing = {}
    while ws.cell(row=row, column=1).value:
        existing[str(ws.cell(row=row, column=1).value).upper()] = row
        row += 1
    for key, value in entries.items():
        target = existing.get(key)
        if target is None:
            target = row
            row += 1
        set_text(ws.cell(row=target, column=1), key)
        set_text(ws.cell(row=target, column=2), value)
        if not value:
            ws.cell(row=target, column=2).value = None
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 60


def _fill(wb, layout: Layout, contents: dict[str, views.SheetContent], st: _Styles) -> None:
    for name, content in contents.items():
        sheet = layout.sheet(name)
        ws = wb[name]
        for key, value in content.fields.items():
            _write_field(ws, sheet, key, value)
        if content.rows and sheet.table:
            table = sheet.table
            rows = content.rows[: table.shown_rows] if table.shown_rows else content.rows
            _write_rows(ws, table, rows, st)
            last = table.first_row + max(len(rows), 1) - 1
            ref = f"A{table.header_row}:{table.last_column_letter}{last}"
            xl_table = ws.tables[table.name]
            xl_table.ref = ref
            xl_table.autoFilter.ref = ref  # Excel repairs a table whose filter range differs


# --- the build -------------------------------------------------------------------------------


def _view_context(
    conn: sqlite3.Connection | None, store_label: str, settings_path: Path | None
) -> views.ViewContext:
    from oncosecours.settings import load_settings

    settings = load_settings(settings_path)
    return views.ViewContext(
        day=date.today(),
        settings=settings,
        store_label=store_label,
        settings_label=settings_path.name if settings_path else "",
    )


def _store_label(store: Path | None, out: Path) -> str:
    """The store as the workbook names it: relative to the workbook's folder when possible."""
    if store is None:
        return DEFAULT_STORE
    try:
        return os.path.relpath(store.resolve(), out.resolve().parent)
    except ValueError:  # another drive on Windows
        return str(store.resolve())


def build_workbook(
    out: Path | str | None = None,
    *,
    store: Path | str | None = None,
    settings: Path | str | None = None,
    layout_path: Path | str | None = None,
    day: date | None = None,
    interpreter: str = DEFAULT_INTERPRETER,
    pythonpath: str = DEFAULT_PYTHONPATH,
) -> Path:
    """Build the workbook; with ``store``, the sheets and drop-down lists are filled from it.

    Deterministic: the same layout, sources, store content, settings and ``day`` give the same
    bytes (``day`` defaults to today and only changes the day-dependent views).
    """
    import openpyxl
    from pyopenvba import ExcelFile

    layout = load_layout(layout_path)
    target = Path(out) if out else shipped("workbook", layout.file_name)
    if target.suffix.lower() != ".xlsm":
        raise OncoError("Le classeur doit avoir l'extension .xlsm", file=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    store_path = Path(store) if store else None
    if store_path is not None:
        from oncosecours.store.db import store_exists

        if not store_exists(store_path):
            raise OncoError("Base introuvable", file=str(store_path))
    settings_path = Path(settings) if settings else None
    ctx = _view_context(None, _store_label(store_path, target), settings_path)
    if day is not None:
        ctx = views.ViewContext(
            day=day,
            settings=ctx.settings,
            store_label=ctx.store_label,
            settings_label=ctx.settings_label,
        )
    contents: dict[str, views.SheetContent] = {}
    lists: dict[str, list[str]] = {}
    if store_path is not None:
        from oncosecours.store.db import connect

        conn = connect(store_path, create=False)
        try:
            contents = views.compute(conn, [s.name for s in layout.sheets], ctx)
            lists = views.lists(conn, ctx)
        finally:
            conn.close()
    else:
        contents = {
            "Paramètres": views.parametres(None, ctx),  # type: ignore[arg-type]
            "Accueil": views.SheetContent(fields={"copie_secours": NO_COPY_STATUS_YET}),
        }
        lists = {
            name: values for name, values in _static_lists(ctx).items() if name in layout.lists
        }

    work = target.with_name(target.stem + ".construction.xlsm")
    try:
        with ExcelFile.create_new(str(work)) as book:
            book.save()
        wb = openpyxl.load_workbook(work, keep_vba=True)
        _build_sheets(wb, layout, contents, lists)
        write_conf(wb, interpreter, pythonpath)
        wb.calculation.fullCalcOnLoad = True
        wb.save(work)
        _add_modules(work)
        package.finalize(work, package.ribbon_parts(ribbon_source()))
        kind = package.main_content_type(work)
        if kind != package.MACRO_MAIN:
            raise OncoError(
                f"Type du classeur incorrect : {kind} (attendu {package.MACRO_MAIN})",
                step="construction du classeur",
            )
        os.replace(work, target)
    finally:
        if work.exists():
            work.unlink()
    return target


def _static_lists(ctx: views.ViewContext) -> dict[str, list[str]]:
    codes = sorted(set(ctx.settings.codes_les.codes)) if ctx.settings is not None else []
    return {
        "L_Protocoles": [],
        "L_Cures": [],
        "L_Sexes": list(views.SEXES),
        "L_OuiNon": list(views.YES_NO),
        "L_Services": [],
        "L_CodesLES": codes,
        "L_FeuVert": list(views.FEU_VERT_CHOICES),
        "L_Liberation": list(views.LIBERATION_CHOICES),
        "L_Incidents": list(views.INCIDENT_CHOICES),
    }


def _build_sheets(
    wb, layout: Layout, contents: dict[str, views.SheetContent], lists: dict[str, list[str]]
) -> None:
    st = _Styles()
    first = wb.worksheets[0]
    for index, sheet in enumerate(layout.sheets):
        ws = first if index == 0 else wb.create_sheet(sheet.name)
        ws.title = sheet.name
        _layout_sheet(wb, ws, sheet, layout, st)
        if sheet.name == "Accueil":
            _accueil_extras(wb, ws, sheet, st)
    write_lists(wb, layout.lists_sheet, lists, st)
    _fill(wb, layout, contents, st)
    wb.active = 0


def _add_modules(path: Path) -> None:
    from pyopenvba import ExcelFile

    with ExcelFile(str(path)) as book:
        project = book.vba_project()
        if TEMPLATE_MODULE in project.module_names():
            project.delete_module(TEMPLATE_MODULE)
        project.add_module("xlwings", xlwings_module())
        for name, source in project_modules().items():
            project.add_module(name, source)
        book.save()


# --- re-save through the project's own code --------------------------------------------------


def resave(path: Path | str, mutate=None) -> Path:
    """Open the workbook with openpyxl, apply ``mutate(wb)``, save, and put the ribbon back.

    openpyxl keeps the VBA project but not the Office 2010 ribbon relationship: the ribbon
    parts found in the file are re-inserted by :func:`package.finalize`.
    """
    import openpyxl

    target = Path(path)
    if not target.exists():
        raise OncoError("Classeur introuvable", file=str(target))
    ribbon = package.read_ribbon(target)
    wb = openpyxl.load_workbook(target, keep_vba=True)
    if mutate is not None:
        mutate(wb)
    work = target.with_name(target.stem + ".enregistrement.xlsm")
    try:
        wb.save(work)
        package.finalize(work, ribbon)
        os.replace(work, target)
    finally:
        if work.exists():
            work.unlink()
    return target


def set_xlwings_conf(path: Path | str, interpreter: str, pythonpath: str = "") -> Path:
    """Point the workbook's ``xlwings.conf`` sheet at a Python (the kit's installer calls this).

    A trailing backslash in PYTHONPATH breaks xlwings' command line (xlwings issue #2144): it
    is removed. The VBA project and the ribbon are kept.
    """
    interpreter = str(interpreter).strip()
    if not interpreter:
        raise OncoError("Chemin de l'interpréteur Python vide", field="interpréteur")
    cleaned = ";".join(part.rstrip("\\/") for part in str(pythonpath or "").split(";") if part)
    return resave(path, lambda wb: write_conf(wb, interpreter, cleaned))


def conf_values(path: Path | str) -> dict[str, str]:
    """The ``xlwings.conf`` sheet as a dict (for checks and the kit)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, keep_vba=False)
    try:
        ws = wb[CONF_SHEET]
        return {
            str(row[0]).upper(): ("" if row[1] is None else str(row[1]))
            for row in ws.iter_rows(min_col=1, max_col=2, values_only=True)
            if row[0]
        }
    finally:
        wb.close()


def modules_in(path: Path | str) -> dict[str, str]:
    from pyopenvba import ExcelFile

    with ExcelFile(str(path)) as book:
        return {name: book.get_module(name) for name in book.module_names()}


def sheet_names(layout: Layout | None = None) -> Iterable[str]:
    return [s.name for s in (layout or load_layout()).sheets]
