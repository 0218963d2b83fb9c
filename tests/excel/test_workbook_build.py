"""The built .xlsm, unzipped and reopened: package parts, VBA, ribbon, sheets, determinism."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from oncosecours.excel import builder, package
from oncosecours.excel.layout import load_layout
from oncosecours.excel.registry import ACTIONS, BY_TAG
from oncosecours.resources import shipped

SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "customui"
VBA_PROJECT_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
VBA_PROJECT_CT = "application/vnd.ms-office.vbaProject"


def _zip(path: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(path)


def _rels(archive: zipfile.ZipFile, name: str) -> list[dict]:
    root = ET.fromstring(archive.read(name))
    return [dict(el.attrib) for el in root]


def _content_type(archive: zipfile.ZipFile, part: str) -> str | None:
    root = ET.fromstring(archive.read("[Content_Types].xml"))
    for el in root:
        if el.tag.endswith("Override") and el.get("PartName") == "/" + part:
            return el.get("ContentType")
    extension = part.rsplit(".", 1)[-1].lower()
    for el in root:
        if el.tag.endswith("Default") and el.get("Extension", "").lower() == extension:
            return el.get("ContentType")
    return None


def _vba_modules(path: Path) -> dict[str, str]:
    """Modules as olevba (oletools) reads them from the file."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(path))
    try:
        return {
            vba_filename.rsplit(".", 1)[0]: code
            for _, _, vba_filename, code in parser.extract_macros()
        }
    finally:
        parser.close()


def _norm(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.replace("\r\n", "\n").strip().split("\n"))


def test_build_is_deterministic(tmp_path):
    first = builder.build_workbook(tmp_path / "a" / "OncoSecours.xlsm")
    second = builder.build_workbook(tmp_path / "b" / "OncoSecours.xlsm")
    assert first.read_bytes() == second.read_bytes()
    with _zip(first) as archive:
        assert {info.date_time for info in archive.infolist()} == {package.ZIP_EPOCH}
        core = archive.read("docProps/core.xml").decode()
    assert package.FIXED_STAMP in core


def test_build_from_a_store_is_deterministic(tmp_path, circuit_template):
    from datetime import date

    store = tmp_path / "oncosecours.sqlite"
    shutil.copy(circuit_template, store)
    day = date(2026, 3, 2)
    one = builder.build_workbook(tmp_path / "OncoSecours.xlsm", store=store, day=day).read_bytes()
    two = builder.build_workbook(tmp_path / "OncoSecours.xlsm", store=store, day=day).read_bytes()
    assert one == two


def test_macro_enabled_main_part_and_vba_project(built):
    with _zip(built) as archive:
        names = archive.namelist()
        assert "xl/vbaProject.bin" in names
        assert _content_type(archive, "xl/workbook.xml") == package.MACRO_MAIN
        assert _content_type(archive, "xl/vbaProject.bin") == VBA_PROJECT_CT
        rels = _rels(archive, "xl/_rels/workbook.xml.rels")
        assert {"Type": VBA_PROJECT_REL, "Target": "vbaProject.bin"}.items() <= {
            k: v for r in rels if r["Type"] == VBA_PROJECT_REL for k, v in r.items()
        }.items()
        workbook = archive.read("xl/workbook.xml").decode()
    assert 'codeName="ThisWorkbook"' in workbook


def test_ribbon_parts_relationships_and_content_types(built):
    with _zip(built) as archive:
        names = archive.namelist()
        assert package.UI14_PART in names and package.UI12_PART in names
        rels = {r["Type"]: r["Target"] for r in _rels(archive, "_rels/.rels")}
        assert rels[package.UI14_REL] == package.UI14_PART
        assert rels[package.UI12_REL] == package.UI12_PART
        assert _content_type(archive, package.UI14_PART) == "application/xml"
        assert _content_type(archive, package.UI12_PART) == "application/xml"
        ui14 = archive.read(package.UI14_PART)
    assert ui14 == (shipped("addin") / "customUI14.xml").read_bytes()


@pytest.mark.skipif(not SCHEMAS.is_dir(), reason="schémas customUI de ../shared absents")
def test_ribbon_parts_validate_against_the_office_schemas(built):
    import xmlschema

    with _zip(built) as archive:
        ui14 = archive.read(package.UI14_PART).decode()
        ui12 = archive.read(package.UI12_PART).decode()
    xmlschema.XMLSchema(str(SCHEMAS / "customui14.xsd")).validate(ui14)
    xmlschema.XMLSchema(str(SCHEMAS / "customUI.xsd")).validate(ui12)


def test_a_ribbon_error_would_be_caught_by_the_schema():
    """The validation is not a formality: a wrong attribute value fails."""
    import xmlschema

    if not SCHEMAS.is_dir():
        pytest.skip("schémas customUI de ../shared absents")
    broken = (
        (shipped("addin") / "customUI14.xml")
        .read_text("utf-8")
        .replace('size="large"', 'size="huge"', 1)
    )
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        xmlschema.XMLSchema(str(SCHEMAS / "customui14.xsd")).validate(broken)


def test_olevba_modules_equal_the_sources(built):
    modules = _vba_modules(built)
    for path in sorted(shipped("addin").glob("*.bas")):
        source = path.read_text("utf-8")
        name = builder.module_name(source)
        assert name in modules, f"module {name} absent"
        assert _norm(modules[name]) == _norm(source)
    assert _norm(modules["xlwings"]) == _norm(builder.xlwings_module())
    assert "Module1" not in modules  # the template's empty module is removed


def _public_subs(code: str) -> set[str]:
    return set(re.findall(r"^Public Sub (\w+)\s*\(", code, flags=re.MULTILINE))


def _ribbon_buttons() -> list[ET.Element]:
    root = ET.parse(shipped("addin") / "customUI14.xml").getroot()
    return [el for el in root.iter() if el.tag.endswith("}button")]


def test_every_on_action_names_an_existing_public_sub(built):
    modules = _vba_modules(built)
    buttons = _ribbon_buttons()
    assert buttons
    for button in buttons:
        action = button.get("onAction")
        module, _, sub = action.rpartition(".")
        candidates = [modules[module]] if module else list(modules.values())
        assert any(sub in _public_subs(code) for code in candidates), action
        # the callback signature the ribbon needs
        assert any(
            re.search(rf"Public Sub {sub}\(control As IRibbonControl\)", code)
            for code in candidates
        )


def test_every_button_has_an_action_and_every_action_a_button():
    buttons = _ribbon_buttons()
    tags = [b.get("tag") for b in buttons]
    assert len(tags) == len(set(tags))
    assert set(tags) == set(BY_TAG)
    for button in buttons:
        assert button.get("label") == BY_TAG[button.get("tag")].label
    for action in ACTIONS:
        from oncosecours.excel import ribbon

        spec, handler = ribbon.handler_for(action.tag)
        assert callable(handler) and spec is action
        assert re.fullmatch(r"[a-z0-9_]{1,40}", action.tag)  # what the VBA filter accepts


def test_groups_follow_the_circuit():
    root = ET.parse(shipped("addin") / "customUI14.xml").getroot()
    groups = [el for el in root.iter() if el.tag.endswith("}group")]
    assert [g.get("label") for g in groups] == [
        "Données",
        "Patient",
        "Prescription",
        "Validation",
        "Production",
        "Suivi",
        "Outils",
        "Sortie de crise",
    ]
    for group in groups:
        for button in group:
            assert BY_TAG[button.get("tag")].group == group.get("label")


def test_vba_pin_free_actions_match_the_registry():
    source = (shipped("addin") / "OncoSecoursRuban.bas").read_text("utf-8")
    constant = re.search(r'SANS_PIN As String = "([^"]*)"', source).group(1)
    assert set(filter(None, constant.split("|"))) == {a.tag for a in ACTIONS if not a.needs_pin}


def test_vba_never_stores_the_pin_in_the_workbook():
    source = (shipped("addin") / "OncoSecoursRuban.bas").read_text("utf-8")
    code = [line for line in source.splitlines() if not line.lstrip().startswith("'")]
    for line in code:
        if "mPin" in line:
            assert ".Value" not in line and "Range(" not in line and "Names(" not in line, line


def test_resave_through_the_project_keeps_ribbon_and_vba(tmp_path, built):
    path = tmp_path / "OncoSecours.xlsm"
    shutil.copy(built, path)
    with _zip(path) as archive:
        vba_before = archive.read("xl/vbaProject.bin")
        ui_before = archive.read(package.UI14_PART)
    builder.set_xlwings_conf(path, r"C:\OncoSecours\python\Scripts\python.exe", "C:\\lib\\")
    with _zip(path) as archive:
        assert archive.read("xl/vbaProject.bin") == vba_before
        assert archive.read(package.UI14_PART) == ui_before
        assert package.UI12_PART in archive.namelist()
        rels = {r["Type"] for r in _rels(archive, "_rels/.rels")}
        assert {package.UI14_REL, package.UI12_REL} <= rels
        assert _content_type(archive, "xl/workbook.xml") == package.MACRO_MAIN
    conf = builder.conf_values(path)
    assert conf["INTERPRETER_WIN"] == r"C:\OncoSecours\python\Scripts\python.exe"
    assert conf["PYTHONPATH"] == r"C:\lib"  # xlwings #2144: no trailing backslash
    assert _norm(_vba_modules(path)["OncoSecoursRuban"]) == _norm(
        (shipped("addin") / "OncoSecoursRuban.bas").read_text("utf-8")
    )


def test_plain_openpyxl_resave_loses_the_office_2010_ribbon(tmp_path, built):
    """Why every save goes through builder.resave (a characterisation of openpyxl 3.1)."""
    import openpyxl

    path = tmp_path / "naive.xlsm"
    wb = openpyxl.load_workbook(built, keep_vba=True)
    wb.save(path)
    with _zip(path) as archive:
        rels = {r["Type"] for r in _rels(archive, "_rels/.rels")}
    assert package.UI14_REL not in rels


def test_default_conf_points_to_the_python_beside_the_workbook(built):
    conf = builder.conf_values(built)
    assert conf["INTERPRETER_WIN"] == builder.DEFAULT_INTERPRETER
    assert conf["INTERPRETER_WIN"].startswith("%ONCOSECOURS_DIR%\\")
    assert conf["ADD_WORKBOOK_TO_PYTHONPATH"] == "false"


def test_sheets_tables_and_print_setup(built):
    import openpyxl

    layout = load_layout()
    wb = openpyxl.load_workbook(built)
    expected = [s.name for s in layout.sheets] + [builder.CONF_SHEET]
    assert wb.sheetnames == expected
    assert wb.sheetnames[:12] == [
        "Accueil",
        "Patients",
        "Prescription",
        "Validation",
        "Feu vert",
        "Fabrication",
        "Libération",
        "Dispensation",
        "Administration",
        "Notes",
        "Journal",
        "Paramètres",
    ]
    assert wb["Listes"].sheet_state == "hidden"
    assert wb[builder.CONF_SHEET].sheet_state == "hidden"
    for sheet in layout.sheets:
        ws = wb[sheet.name]
        assert ws.protection.sheet, sheet.name
        assert int(ws.page_setup.paperSize) == 9  # A4
        if sheet.table is None:
            continue
        table = ws.tables[sheet.table.name]
        header = [c.value for c in ws[sheet.table.header_row]][: len(sheet.table.columns)]
        assert header == [c.title for c in sheet.table.columns]
        assert table.ref.startswith(f"A{sheet.table.header_row}:")
        assert ws.freeze_panes == (f"A{sheet.table.first_row}" if sheet.freeze else None)
        assert ws.protection.autoFilter is False  # filters usable on the protected view
        for col in sheet.table.columns:
            letter = builder.column_letter(sheet.table.index(col.key) + 1)
            locked = ws.column_dimensions[letter].protection.locked
            assert locked is (not col.editable), (sheet.name, col.key)
        if "etat" in sheet.table.keys():
            rules = [r for cf in ws.conditional_formatting for r in cf.rules]
            assert any('="validée"' in (r.formula or [""])[0] for r in rules), sheet.name
        for item in sheet.fields:
            assert ws[item.cell].protection.locked is (not item.editable), (sheet.name, item.key)


def test_drop_downs_point_at_named_lists(built):
    import openpyxl

    wb = openpyxl.load_workbook(built)
    layout = load_layout()
    for name in layout.lists:
        assert name in wb.defined_names
    sexes = wb.defined_names["L_Sexes"].attr_text
    assert sexes.startswith("'Listes'!$")
    formulas = {dv.formula1 for dv in wb["Patients"].data_validations.dataValidation}
    assert {"L_Sexes", "L_Protocoles", "L_OuiNon"} <= formulas  # as Excel writes them


def test_home_shows_backup_age_with_a_warning_colour(built):
    import openpyxl

    wb = openpyxl.load_workbook(built)
    ws = wb["Accueil"]
    sheet = load_layout().sheet("Accueil")
    age = sheet.field("age_sauvegarde").cell
    assert ws[age].value.startswith("=IF(ISNUMBER(")
    assert ws[sheet.field("date_sauvegarde").cell].font.sz >= 20
    rules = [(str(cf.sqref), r) for cf in ws.conditional_formatting for r in cf.rules if r.formula]
    assert any(ref == age and "OS_SeuilSauvegarde" in r.formula[0] for ref, r in rules)
    assert "OS_SeuilSauvegarde" in wb.defined_names


def test_formula_injection_user_text_stays_text(tmp_path, circuit_template):
    """Named test: notes starting with = + - @ are written as text, never as a formula."""
    from oncosecours.services.notes import add_note
    from oncosecours.services.patients import create_patient
    from oncosecours.services.users import authenticate
    from oncosecours.store.db import connect

    store = tmp_path / "oncosecours.sqlite"
    shutil.copy(circuit_template, store)
    conn = connect(store)
    nurse = authenticate(conn, "IDE1", "4826")
    create_patient(
        conn,
        nurse,
        birth_name='=HYPERLINK("http://x")',
        first_name="Test",
        birth_date="1970-01-01",
        sex="F",
        ipp="7770001",
    )
    dangerous = ["=1+1", '+cmd|" /C calc"!A0', "-2+3", "@SUM(A1:A2)"]
    for text in dangerous:
        add_note(conn, nurse, text, patient="7770001")
    conn.close()
    path = builder.build_workbook(tmp_path / "OncoSecours.xlsm", store=store)
    layout = load_layout()
    index = layout.sheets.index(layout.sheet("Notes")) + 1
    with _zip(path) as archive:
        xml = archive.read(f"xl/worksheets/sheet{index}.xml").decode()
    assert "<f>" not in xml
    root = ET.fromstring(xml)
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    texts = {}
    for cell in root.iterfind(".//m:c", ns):
        inline = cell.find("m:is/m:t", ns)
        if inline is not None:
            texts[inline.text] = cell.get("t")
    for text in dangerous:
        assert texts.get(text) == "inlineStr", text
    names = [t for t in texts if t.startswith("=HYPERLINK")]
    assert names and all(texts[t] == "inlineStr" for t in names)


def test_lists_are_filled_from_the_store(tmp_path, circuit_template):
    import openpyxl

    store = tmp_path / "oncosecours.sqlite"
    shutil.copy(circuit_template, store)
    path = builder.build_workbook(tmp_path / "OncoSecours.xlsm", store=store)
    wb = openpyxl.load_workbook(path)
    ref = wb.defined_names["L_Protocoles"].attr_text
    cells = wb["Listes"][ref.split("!")[1].replace("$", "")]
    names = [row[0].value for row in cells]
    assert names and all(re.search(r"\[\d+\]$", n) for n in names)
    assert wb["Paramètres"][load_layout().sheet("Paramètres").field("base").cell].value == (
        "oncosecours.sqlite"
    )
    for sheet in load_layout().sheets:
        if sheet.table:
            table = wb[sheet.name].tables[sheet.table.name]
            assert table.autoFilter.ref == table.ref, sheet.name
