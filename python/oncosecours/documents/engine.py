"""Rendering .docx templates: docxtpl's template language, compiled once, written fast.

Two ways to render the same template with the same result:

* :func:`render_naive` — the textbook docxtpl loop: load the template, render, save, for each
  document (kept for the benchmark and as a reference in the tests);
* :class:`CompiledTemplate` — the template is read once; each XML part with Jinja tags
  (document, headers, footers) is cleaned by docxtpl's own ``patch_xml`` and compiled once by
  Jinja; each document is then one Jinja render of the XML, a well-formedness check with lxml,
  and one zip write that reuses every other part of the template from memory. Several
  contexts can be rendered into ONE document (a page each) for printing.

Both use the same Jinja environment: autoescape (``&``, ``<``, quotes in the data never break the
XML), ``StrictUndefined`` (a misspelled field stops the rendering with its name instead of
printing a blank on a patient document), control characters removed, ``None`` printed empty,
tabs and line breaks of the data kept (docxtpl's listing conversion).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
HEADER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
FOOTER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
OFFICE_DOC_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
EMU_PER_MM = 36000
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

IMAGE_FIELDS = ("logo", "code_barre")
CODE_SIZE_MM = 22.0
LOGO_HEIGHT_MM = 14.0

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_NEWLINE_P = re.compile(r"\n<w:p([ >])")
_TO_NEWLINE_P = re.compile(r"<w:p([ >])")

# A tiny paragraph that starts a new page: the next preparation of a combined document.
PAGE_BREAK = (
    '<w:p><w:pPr><w:pageBreakBefore/><w:spacing w:before="0" w:after="0" w:line="20" '
    'w:lineRule="exact"/><w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>'
)


# ---------------------------------------------------------------- Jinja environment


def clean_text(value: Any) -> Any:
    """What a field prints: ``None`` -> "", control characters removed, CR/LF kept as LF."""
    if value is None:
        return ""
    if hasattr(value, "__html__"):
        return value
    text = value if isinstance(value, str) else str(value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return text


def environment():
    """The Jinja environment shared by the renderers and the checker."""
    from jinja2 import Environment, StrictUndefined

    return Environment(autoescape=True, undefined=StrictUndefined, finalize=clean_text)


def patch_xml(xml: str) -> str:
    """docxtpl's cleaning of Word XML into Jinja source (tags split across runs, ``{%tr``...)."""
    from docxtpl import DocxTemplate

    return DocxTemplate.patch_xml(None, xml)  # it uses no instance state


def resolve_listing(xml: str) -> str:
    """docxtpl's conversion of tabs and line breaks inside ``<w:t>`` into Word elements."""
    from docxtpl import DocxTemplate

    return DocxTemplate.resolve_listing(None, xml)


def jinja_source(part_xml: bytes | str) -> str:
    """The Jinja source of a Word XML part, exactly as docxtpl builds it (one line per
    paragraph, so that an error's line number is the paragraph's number)."""
    from lxml import etree

    data = part_xml.encode("utf-8") if isinstance(part_xml, str) else part_xml
    xml = etree.tostring(etree.fromstring(data), encoding="unicode")
    return _TO_NEWLINE_P.sub(r"\n<w:p\1", patch_xml(xml))


def paragraph_text(source: str, lineno: int | None) -> str:
    """Visible text of the paragraph at ``lineno`` of a :func:`jinja_source` (for messages)."""
    if not lineno:
        return ""
    lines = source.splitlines()
    if not 1 <= lineno <= len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1])
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------- images


@dataclass(frozen=True)
class Image:
    """An image to place with ``{{ logo }}`` / ``{{ code_barre }}``: bytes and printed size."""

    data: bytes
    width_mm: float
    height_mm: float
    ext: str = "png"

    @property
    def content_type(self) -> str:
        return "image/jpeg" if self.ext in ("jpg", "jpeg") else f"image/{self.ext}"


def qr_image(text: str, size_mm: float = CODE_SIZE_MM) -> Image | None:
    """QR code of ``text`` (the ordonnancier number) as a PNG; ``None`` for an empty text."""
    if not text:
        return None
    import segno

    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=4, border=2)
    return Image(buffer.getvalue(), size_mm, size_mm, "png")


def logo_image(path: str | Path | None, height_mm: float = LOGO_HEIGHT_MM) -> Image | None:
    """The settings' logo (PNG or JPEG) at ``height_mm``; ``None`` when no logo is set."""
    if not path:
        return None
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError:
        raise OncoError(
            "Logo introuvable ou illisible",
            file=str(file),
            field="etablissement.logo",
            hint="Corriger le chemin dans les paramètres ou le laisser vide",
        ) from None
    from docx.image.image import Image as DocxImage

    try:
        info = DocxImage.from_blob(data)
    except Exception:
        raise OncoError(
            "Logo : format d'image non reconnu (PNG ou JPEG attendu)",
            file=str(file),
            field="etablissement.logo",
        ) from None
    ratio = info.px_width / info.px_height if info.px_height else 1.0
    ext = "jpeg" if info.ext in ("jpg", "jpeg") else info.ext
    return Image(data, height_mm * ratio, height_mm, ext)


class _Sink:
    """The images placed in one XML part of one output document."""

    def __init__(self, counter: list[int]) -> None:
        self.counter = counter
        self.items: dict[int, tuple[str, str, Image]] = {}  # id(image) -> (rId, target, image)

    def add(self, image: Image) -> str:
        key = id(image)
        if key not in self.items:
            self.counter[0] += 1
            number = self.counter[0]
            self.items[key] = (f"rIdOS{number}", f"media/oncosecours_{number}.{image.ext}", image)
        return self.items[key][0]

    def next_id(self) -> int:
        self.counter[0] += 1
        return self.counter[0]


class _Holder:
    sink: _Sink | None = None


_DRAWING = (
    '</w:t></w:r><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
    '<wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="{id}" name="Image {id}"/>'
    "<wp:cNvGraphicFramePr><a:graphicFrameLocks "
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" noChangeAspect="1"/>'
    '</wp:cNvGraphicFramePr><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
    '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
    '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
    '<pic:nvPicPr><pic:cNvPr id="0" name="image{id}.{ext}"/><pic:cNvPicPr/></pic:nvPicPr>'
    '<pic:blipFill><a:blip xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'r:embed="{rid}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
    '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
    '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData>'
    '</a:graphic></wp:inline></w:drawing></w:r><w:r><w:t xml:space="preserve">'
)


class _Picture:
    """An image field for the compiled renderer (docxtpl's InlineImage, without python-docx)."""

    def __init__(self, holder: _Holder, image: Image) -> None:
        self.holder = holder
        self.image = image

    def __html__(self) -> str:
        sink = self.holder.sink
        rid = sink.add(self.image)
        return _DRAWING.format(
            cx=int(self.image.width_mm * EMU_PER_MM),
            cy=int(self.image.height_mm * EMU_PER_MM),
            id=sink.next_id(),
            rid=rid,
            ext=self.image.ext,
        )

    __str__ = __html__


# ---------------------------------------------------------------- the compiled template


def _rels_name(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def _resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    folder = base_part.rpartition("/")[0]
    parts = (folder.split("/") if folder else []) + target.split("/")
    out: list[str] = []
    for piece in parts:
        if piece == "..":
            if out:
                out.pop()
        elif piece and piece != ".":
            out.append(piece)
    return "/".join(out)


@dataclass
class _Part:
    name: str
    source: str  # Jinja source (one line per paragraph)
    template: Any  # jinja2.Template
    common_only: bool  # headers / footers: rendered once with the common fields


@dataclass
class RenderedDocument:
    """The XML of the rendered parts and their images, before zipping."""

    parts: dict[str, str]
    sinks: dict[str, _Sink] = field(default_factory=dict)


class CompiledTemplate:
    """A .docx template read and compiled once; renders documents without python-docx."""

    def __init__(self, path: str | Path, env=None) -> None:
        from jinja2 import TemplateError

        self.path = Path(path)
        self.env = env or environment()
        try:
            with zipfile.ZipFile(self.path) as archive:
                self.order = [info.filename for info in archive.infolist()]
                self.files = {name: archive.read(name) for name in self.order}
        except (OSError, zipfile.BadZipFile) as exc:
            raise OncoError(
                f"Modèle illisible (fichier Word .docx attendu) : {exc}", file=str(self.path)
            ) from None
        self.main = self._main_part()
        self.parts: list[_Part] = []
        for name, common_only in [(self.main, False), *((n, True) for n in self._headers())]:
            try:
                source = jinja_source(self.files[name])
                template = self.env.from_string(source)
            except TemplateError as exc:
                raise OncoError(
                    f"Modèle invalide : {exc.message}",
                    file=self.path.name,
                    hint="Lancer « oncosecours templates check » pour l'endroit exact",
                ) from None
            except Exception as exc:  # malformed XML
                raise OncoError(f"Modèle illisible : {exc}", file=self.path.name) from None
            self.parts.append(_Part(name, source, template, common_only))

    # -- package structure

    def _main_part(self) -> str:
        from lxml import etree

        rels = etree.fromstring(self.files["_rels/.rels"])
        for rel in rels:
            if rel.get("Type") == OFFICE_DOC_REL:
                return _resolve("", rel.get("Target"))
        return "word/document.xml"

    def _headers(self) -> list[str]:
        from lxml import etree

        rels_name = _rels_name(self.main)
        if rels_name not in self.files:
            return []
        found = []
        for rel in etree.fromstring(self.files[rels_name]):
            if rel.get("Type") in (HEADER_REL, FOOTER_REL) and rel.get("TargetMode") != "External":
                name = _resolve(self.main, rel.get("Target"))
                if name in self.files:
                    found.append(name)
        return found

    def page_size_mm(self) -> tuple[float, float, float]:
        """(width, height, margin) of the template's page, in mm (labels)."""
        from lxml import etree

        root = etree.fromstring(self.files[self.main])
        w = f"{{{W_NS}}}"
        sect = root.find(f"{w}body/{w}sectPr")
        size = sect.find(f"{w}pgSz") if sect is not None else None
        margin = sect.find(f"{w}pgMar") if sect is not None else None
        twip = 25.4 / 1440
        width = float(size.get(f"{w}w")) * twip if size is not None else 210.0
        height = float(size.get(f"{w}h")) * twip if size is not None else 297.0
        margin_mm = float(margin.get(f"{w}left", 0)) * twip if margin is not None else 0.0
        return width, height, margin_mm

    # -- rendering

    def _context(self, context: Mapping[str, Any], holder: _Holder, images) -> dict:
        ctx = dict(context)
        for name in IMAGE_FIELDS:
            image = images.get(name) if images else None
            ctx[name] = _Picture(holder, image) if image is not None else ""
        return ctx

    def _render_part(self, part: _Part, ctx: Mapping[str, Any]) -> str:
        from jinja2 import TemplateError
        from jinja2.exceptions import UndefinedError

        try:
            xml = part.template.render(ctx)
        except UndefinedError as exc:
            raise OncoError(
                f"Champ inconnu dans le modèle : {exc.message}",
                file=self.path.name,
                hint="Corriger le modèle (« oncosecours templates check » indique l'endroit)",
            ) from None
        except TemplateError as exc:
            raise OncoError(f"Erreur du modèle : {exc}", file=self.path.name) from None
        xml = _NEWLINE_P.sub(r"<w:p\1", xml)
        xml = (
            xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        )
        if "\n" in xml or "\t" in xml:
            xml = resolve_listing(xml)
        return xml

    def _check(self, xml: str, part: str) -> Any:
        from lxml import etree

        try:
            return etree.fromstring(xml.encode("utf-8"))
        except etree.XMLSyntaxError as exc:
            raise OncoError(
                f"Le modèle produit un document Word invalide ({part}) : {exc}",
                file=self.path.name,
                hint="Une balise {% %} coupe sans doute un tableau ou un paragraphe",
            ) from None

    def render(
        self, context: Mapping[str, Any], images: Mapping[str, Image | None] | None = None
    ) -> RenderedDocument:
        """One document for one context."""
        return self.render_many([context], [images or {}])

    def render_many(
        self,
        contexts: Sequence[Mapping[str, Any]],
        images: Sequence[Mapping[str, Image | None]] | None = None,
    ) -> RenderedDocument:
        """One document, each context's body on its own page; headers use the first context."""
        if not contexts:
            raise OncoError("Aucun document à produire (liste vide)")
        images = list(images) if images is not None else [{} for _ in contexts]
        counter = [5000]
        holder = _Holder()
        out = RenderedDocument(parts={})
        for part in self.parts:
            sink = _Sink(counter)
            holder.sink = sink
            out.sinks[part.name] = sink
            if part.common_only or len(contexts) == 1:
                xml = self._render_part(part, self._context(contexts[0], holder, images[0]))
                self._check(xml, part.name)
                out.parts[part.name] = xml
                continue
            bodies = []
            head = tail = ""
            for index, ctx in enumerate(contexts):
                xml = self._render_part(part, self._context(ctx, holder, images[index]))
                head, body, tail = split_body(xml, self._check(xml, part.name))
                bodies.append(body)
            out.parts[part.name] = head + PAGE_BREAK.join(bodies) + tail
        return out

    def body_of(
        self, context: Mapping[str, Any], images: Mapping[str, Image | None], sink: _Sink
    ) -> str:
        """The rendered body content of one context (no section properties), images in ``sink``."""
        holder = _Holder()
        holder.sink = sink
        main = self.parts[0]
        xml = self._render_part(main, self._context(context, holder, images))
        return split_body(xml, self._check(xml, main.name))[1]

    # -- writing

    def write(self, rendered: RenderedDocument, out: str | Path) -> Path:
        """Zip the rendered parts with the template's other parts (and the images)."""
        from lxml import etree

        files = dict(self.files)
        order = list(self.order)
        need_types: dict[str, str] = {}
        for name, xml in rendered.parts.items():
            files[name] = (XML_DECL + xml).encode("utf-8")
            sink = rendered.sinks.get(name)
            if not sink or not sink.items:
                continue
            rels_name = _rels_name(name)
            if rels_name in files:
                rels = etree.fromstring(files[rels_name])
            else:
                rels = etree.Element(f"{{{REL_NS}}}Relationships", nsmap={None: REL_NS})
                order.append(rels_name)
            folder = name.rpartition("/")[0]
            for rid, target, image in sink.items.values():
                etree.SubElement(
                    rels, f"{{{REL_NS}}}Relationship", Id=rid, Type=IMAGE_REL, Target=target
                )
                media = f"{folder}/{target}" if folder else target
                files[media] = image.data
                order.append(media)
                need_types[image.ext] = image.content_type
            files[rels_name] = etree.tostring(
                rels, xml_declaration=True, encoding="UTF-8", standalone=True
            )
        if need_types:
            types = etree.fromstring(files["[Content_Types].xml"])
            known = {d.get("Extension", "").lower() for d in types.findall(f"{{{CT_NS}}}Default")}
            for ext, content_type in need_types.items():
                if ext.lower() not in known:
                    etree.SubElement(
                        types, f"{{{CT_NS}}}Default", Extension=ext, ContentType=content_type
                    )
            files["[Content_Types].xml"] = etree.tostring(
                types, xml_declaration=True, encoding="UTF-8", standalone=True
            )
        target = Path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".tmp")
        entries = []
        for name in order:
            data = files[name]
            if data is self.files.get(name):
                entries.append((name, self._packed(name)))
            else:
                entries.append((name, _pack(data)))
        temporary.write_bytes(_zip(entries))
        temporary.replace(target)
        return target

    def _packed(self, name: str) -> tuple[int, int, bytes]:
        """A part of the template, compressed once and reused by every document."""
        cache = self.__dict__.setdefault("_pack_cache", {})
        if name not in cache:
            cache[name] = _pack(self.files[name], level=6)
        return cache[name]


def _pack(data: bytes, level: int = 1) -> tuple[int, int, bytes]:
    """(crc32, uncompressed size, raw deflate data) of one zip entry."""
    import zlib

    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return zlib.crc32(data), len(data), compressor.compress(data) + compressor.flush()


def _zip(entries: list[tuple[str, tuple[int, int, bytes]]]) -> bytes:
    """A zip archive from pre-compressed entries (deflate, UTF-8 names)."""
    import struct
    import time as time_mod

    now = time_mod.localtime()
    dos_time = (now.tm_hour << 11) | (now.tm_min << 5) | (now.tm_sec // 2)
    dos_date = ((now.tm_year - 1980) << 9) | (now.tm_mon << 5) | now.tm_mday
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name, (crc, size, data) in entries:
        raw = name.encode("utf-8")
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0x0800,
            8,
            dos_time,
            dos_date,
            crc,
            len(data),
            size,
            len(raw),
            0,
        )
        chunks += [header, raw, data]
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0x0800,
                8,
                dos_time,
                dos_date,
                crc,
                len(data),
                size,
                len(raw),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw
        )
        offset += len(header) + len(raw) + len(data)
    directory = b"".join(central)
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), offset, 0
    )
    return b"".join(chunks) + directory + end


def split_body(document_xml: str, root: Any = None) -> tuple[str, str, str]:
    """(head up to ``<w:body>``, body content without the final section, the rest)."""
    from lxml import etree

    if root is None:
        root = etree.fromstring(document_xml.encode("utf-8"))
    body = root.find(f"{{{W_NS}}}body")
    has_section = body is not None and len(body) and body[-1].tag == f"{{{W_NS}}}sectPr"
    start = document_xml.find("<w:body>")
    if start < 0:
        start = document_xml.index(">", document_xml.index("<w:body")) + 1
    else:
        start += len("<w:body>")
    end_body = document_xml.rindex("</w:body>")
    cut = document_xml.rindex("<w:sectPr", start, end_body) if has_section else end_body
    return document_xml[:start], document_xml[start:cut], document_xml[cut:]


# ---------------------------------------------------------------- the naive loop (reference)


def render_naive(
    template: str | Path,
    context: Mapping[str, Any],
    out: str | Path,
    images: Mapping[str, Image | None] | None = None,
    env=None,
) -> Path:
    """Load the template with docxtpl, render one context, save. Same output as the compiled
    way (used by the benchmark as the baseline and by the tests as a reference)."""
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    tpl = DocxTemplate(str(template))
    ctx = dict(context)
    for name in IMAGE_FIELDS:
        image = (images or {}).get(name)
        ctx[name] = (
            InlineImage(
                tpl, io.BytesIO(image.data), width=Mm(image.width_mm), height=Mm(image.height_mm)
            )
            if image is not None
            else ""
        )
    tpl.render(ctx, jinja_env=env or environment(), autoescape=True)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tpl.save(str(target))
    return target
