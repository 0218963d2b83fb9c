"""The .xlsm as a zip package: the ribbon parts, and a deterministic rewrite of the archive.

openpyxl keeps ``vbaProject.bin`` but writes back only the Office 2007 ribbon relationship, so a
``customUI14.xml`` ribbon would be silently lost by a plain re-save. Every save made by this project
therefore ends with :func:`finalize`: it puts both ribbon parts and their relationships back, pins
the timestamps (zip entries and ``docProps/core.xml``) and writes the entries in a fixed order, so
the same inputs give the same bytes.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

from oncosecours.domain.errors import OncoError

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
UI14_NS = "http://schemas.microsoft.com/office/2009/07/customui"
UI12_NS = "http://schemas.microsoft.com/office/2006/01/customui"
UI14_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
UI12_REL = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
UI14_PART = "customUI/customUI14.xml"
UI12_PART = "customUI/customUI.xml"
MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FIXED_STAMP = "2000-01-01T00:00:00Z"


def build_stamp() -> str:
    """The time written into docProps: ``$SOURCE_DATE_EPOCH`` if set, else a fixed date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        from datetime import UTC, datetime

        return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return FIXED_STAMP


def ribbon_parts(customui14: str) -> dict[str, bytes]:
    """Both ribbon parts from the one source: Office 2010+ reads customUI14, 2007 customUI."""
    if UI14_NS not in customui14:
        raise OncoError("Le ruban doit utiliser l'espace de noms customUI 2009/07", file=UI14_PART)
    legacy = customui14.replace(UI14_NS, UI12_NS)
    return {UI14_PART: customui14.encode("utf-8"), UI12_PART: legacy.encode("utf-8")}


def read_ribbon(path: Path) -> dict[str, bytes]:
    """The ribbon parts already inside a package (to carry them over a re-save)."""
    with zipfile.ZipFile(path) as archive:
        return {
            name: archive.read(name)
            for name in (UI14_PART, UI12_PART)
            if name in archive.namelist()
        }


def _serialize(root: ET.Element, namespace: str) -> bytes:
    ET.register_namespace("", namespace)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body).encode("utf-8")


def _root_rels(data: bytes, ribbon: dict[str, bytes]) -> bytes:
    root = ET.fromstring(data)
    for rel in list(root):
        if rel.get("Type") in (UI14_REL, UI12_REL):
            root.remove(rel)
    ids = {rel.get("Id") for rel in root}
    for part, kind, rid in (
        (UI14_PART, UI14_REL, "rIdOncoSecoursUI14"),
        (UI12_PART, UI12_REL, "rIdOncoSecoursUI"),
    ):
        if part in ribbon:
            assert rid not in ids
            ET.SubElement(
                root, f"{{{REL_NS}}}Relationship", {"Id": rid, "Type": kind, "Target": part}
            )
    return _serialize(root, REL_NS)


def _content_types(data: bytes) -> bytes:
    root = ET.fromstring(data)
    defaults = {el.get("Extension", "").lower() for el in root if el.tag.endswith("Default")}
    if "xml" not in defaults:
        ET.SubElement(
            root, f"{{{CT_NS}}}Default", {"Extension": "xml", "ContentType": "application/xml"}
        )
    return _serialize(root, CT_NS)


def _core(data: bytes, stamp: str) -> bytes:
    text = data.decode("utf-8")
    for tag in ("dcterms:created", "dcterms:modified"):
        text = re.sub(rf"(<{tag}[^>]*>)[^<]*(</{tag}>)", rf"\g<1>{stamp}\g<2>", text)
    text = re.sub(r"<cp:lastModifiedBy>[^<]*</cp:lastModifiedBy>", "", text)
    text = re.sub(r"<dc:creator>[^<]*</dc:creator>", "<dc:creator>OncoSecours</dc:creator>", text)
    return text.encode("utf-8")


def _order(name: str) -> tuple[int, str]:
    if name == "[Content_Types].xml":
        return (0, name)
    if name.startswith("_rels/"):
        return (1, name)
    return (2, name)


def finalize(path: Path, ribbon: dict[str, bytes]) -> None:
    """Insert the ribbon parts and rewrite the archive deterministically, in place."""
    with zipfile.ZipFile(path) as archive:
        entries = {
            info.filename: archive.read(info.filename)
            for info in archive.infolist()
            if not info.is_dir()
        }
    for name in (UI14_PART, UI12_PART):
        entries.pop(name, None)
    entries.update(ribbon)
    entries["_rels/.rels"] = _root_rels(entries["_rels/.rels"], ribbon)
    entries["[Content_Types].xml"] = _content_types(entries["[Content_Types].xml"])
    if "docProps/core.xml" in entries:
        entries["docProps/core.xml"] = _core(entries["docProps/core.xml"], build_stamp())
    temporary = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(temporary, "w") as out:
        for name in sorted(entries, key=_order):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            out.writestr(info, entries[name], compresslevel=6)
    os.replace(temporary, path)


def main_content_type(path: Path) -> str | None:
    """Content type of the workbook part (``xl/workbook.xml``)."""
    with zipfile.ZipFile(path) as archive:
        root = ET.fromstring(archive.read("[Content_Types].xml"))
    for el in root:
        if el.tag.endswith("Override") and el.get("PartName") == "/xl/workbook.xml":
            return el.get("ContentType")
    return None
