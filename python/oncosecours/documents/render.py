"""Producing the documents: the Python API used by the CLI and by the workbook's ribbon.

    render_day(conn, "2026-03-07", "fabrication", out_dir, settings)       -> [Path, ...]
    render_preparation(conn, "2026-000123", "etiquette", out_dir, settings)
    render_care_plans(conn, "2026-03-07", out_dir, settings, patient="80012345")
    render_ordonnancier(conn, "2026-03-01", "2026-03-07", "patient", out_dir, settings)

For a day: one .docx per preparation (or per patient) AND one print-ready .docx with all of them
(a page each; for labels, either one label per page for a label printer or A4 sheets of
labels with ``sheet=True``). PDF as well when LibreOffice is installed (``pdf=None``: if
available; ``True``: required; ``False``: never) — all files in one LibreOffice call.
The .docx files are always written. Templates are looked up in ``templates`` (argument),
else ``$ONCOSECOURS_TEMPLATES``, else the shipped ``templates/`` folder.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncosecours.documents import contract as contract_mod
from oncosecours.documents import engine
from oncosecours.domain.errors import OncoError

TEMPLATES_ENV = "ONCOSECOURS_TEMPLATES"

KINDS = {
    "fabrication": "fabrication",
    "fiche": "fabrication",
    "labels": "etiquette",
    "label": "etiquette",
    "etiquette": "etiquette",
    "care-plan": "plan_de_soins",
    "plan_de_soins": "plan_de_soins",
    "ordonnancier": "ordonnancier",
    "qualification": "qualification",
    "dossier": "dossier_patient",
    "dossier_patient": "dossier_patient",
}
FILE_PREFIX = {
    "fabrication": "fiche",
    "etiquette": "etiquette",
    "plan_de_soins": "plan_de_soins",
    "ordonnancier": "ordonnancier",
    "qualification": "rapport_qualification",
    "dossier_patient": "dossier",
}
QR_SIZE_MM = {"fabrication": 22.0, "etiquette": 15.0}
SHEET_PAGE_MM = (210.0, 297.0)
SHEET_MIN_MARGIN_MM = 5.0


def kind_of(name: str) -> str:
    try:
        return KINDS[name]
    except KeyError:
        raise OncoError(
            f"Document inconnu « {name} » (fabrication, labels, care-plan, ordonnancier)"
        ) from None


def templates_dir(path: str | os.PathLike | None = None) -> Path:
    if path:
        return Path(path)
    env = os.environ.get(TEMPLATES_ENV)
    if env:
        return Path(env)
    from oncosecours.resources import shipped

    return shipped("templates")


def safe_name(text: str, limit: int = 40) -> str:
    """ASCII file-name part: ``N'Diaye Aïssatou -> NDiaye_Aissatou``."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    folded = re.sub(r"[^A-Za-z0-9-]+", "_", folded.replace("'", "")).strip("_")
    return folded[:limit].rstrip("_") or "sans_nom"


@dataclass
class Result:
    """Files written by one rendering call."""

    docx: list[Path] = field(default_factory=list)
    combined: Path | None = None
    pdf: list[Path] = field(default_factory=list)
    pdf_error: str | None = None

    @property
    def files(self) -> list[Path]:
        out = list(self.docx)
        if self.combined:
            out.append(self.combined)
        return out + list(self.pdf)


class Renderer:
    """Compiled templates and settings' images, reused across calls (the ribbon keeps one)."""

    def __init__(self, settings: Mapping[str, Any] | None = None, templates: Any = None) -> None:
        if settings is None:
            from oncosecours.settings import load_settings

            settings = load_settings()
        self.settings = settings
        self.folder = templates_dir(templates)
        self.contract = contract_mod.cached()
        self.env = engine.environment()
        self._compiled: dict[Path, tuple[float, engine.CompiledTemplate]] = {}
        self._logo: engine.Image | None | bool = False

    # -- resources

    def template_path(self, kind: str) -> Path:
        path = self.folder / self.contract.template(kind).file
        if not path.exists():
            raise OncoError(
                "Modèle introuvable",
                file=str(path),
                hint="Régénérer les modèles par défaut : python -m oncosecours.documents.make_templates",
            )
        return path

    def compiled(self, kind: str) -> engine.CompiledTemplate:
        path = self.template_path(kind)
        mtime = path.stat().st_mtime
        hit = self._compiled.get(path)
        if hit and hit[0] == mtime:
            return hit[1]
        compiled = engine.CompiledTemplate(path, self.env)
        self._compiled[path] = (mtime, compiled)
        return compiled

    def logo(self) -> engine.Image | None:
        if self._logo is False:
            raw = str(self.settings["etablissement"]["logo"] or "")
            path = None
            if raw:
                path = Path(raw)
                if not path.is_absolute():
                    base = getattr(self.settings, "source", None)
                    if base:
                        path = Path(base).parent / path
                    else:
                        from oncosecours.resources import shipped

                        path = shipped(raw)
            self._logo = engine.logo_image(path)
        return self._logo  # type: ignore[return-value]

    def images(self, kind: str, context: Mapping[str, Any]) -> dict[str, engine.Image | None]:
        number = ""
        if kind in QR_SIZE_MM:
            number = str(context.get("ordonnancier", {}).get("numero", ""))
        return {
            "logo": self.logo(),
            "code_barre": engine.qr_image(number, QR_SIZE_MM.get(kind, 22.0)) if number else None,
        }

    def check(self, kind: str, contexts: Sequence[Mapping[str, Any]]) -> None:
        """Refuse data that does not match the documented context (a bug, never printed)."""
        root = self.contract.template(kind).root
        for context in contexts:
            found = contract_mod.problems(root, context)
            if found:
                raise OncoError(
                    "Données du document non conformes à champs.toml : " + " ; ".join(found[:5]),
                    rule="CONTEXTE",
                )

    # -- writing

    def write_one(self, kind: str, context: Mapping[str, Any], out: Path) -> Path:
        compiled = self.compiled(kind)
        return compiled.write(compiled.render(context, self.images(kind, context)), out)

    def write_combined(self, kind: str, contexts: Sequence[Mapping[str, Any]], out: Path) -> Path:
        compiled = self.compiled(kind)
        images = [self.images(kind, c) for c in contexts]
        return compiled.write(compiled.render_many(contexts, images), out)

    def write_sheet(self, contexts: Sequence[Mapping[str, Any]], out: Path) -> Path:
        """A4 sheets of labels: as many label-sized cells per page as fit (label template size)."""
        compiled = self.compiled("etiquette")
        width, height, margin = compiled.page_size_mm()
        page_w, page_h = SHEET_PAGE_MM
        cols = max(1, int((page_w - 2 * SHEET_MIN_MARGIN_MM) // width))
        rows = max(1, int((page_h - 2 * SHEET_MIN_MARGIN_MM - 2) // height))
        counter = [5000]
        sink = engine._Sink(counter)
        cells = [compiled.body_of(c, self.images("etiquette", c), sink) for c in contexts]
        twips = 1440 / 25.4
        cell_w, cell_h = int(width * twips), int(height * twips)
        pad = int(margin * twips)
        left = int((page_w * twips - cols * cell_w) / 2)
        top = int((page_h * twips - rows * cell_h) / 2 - 1 * twips)
        border = '<w:{side} w:val="dashed" w:sz="2" w:space="0" w:color="BFBFBF"/>'
        borders = "".join(
            border.format(side=s) for s in ("top", "left", "bottom", "right", "insideH", "insideV")
        )
        parts = [
            f'<w:tbl><w:tblPr><w:tblW w:w="{cols * cell_w}" w:type="dxa"/>'
            f'<w:jc w:val="center"/><w:tblBorders>{borders}</w:tblBorders>'
            '<w:tblLayout w:type="fixed"/>'
            f'<w:tblCellMar><w:top w:w="{pad}" w:type="dxa"/><w:left w:w="{pad}" w:type="dxa"/>'
            f'<w:bottom w:w="0" w:type="dxa"/><w:right w:w="{pad}" w:type="dxa"/></w:tblCellMar>'
            "</w:tblPr><w:tblGrid>"
            + "".join(f'<w:gridCol w:w="{cell_w}"/>' for _ in range(cols))
            + "</w:tblGrid>"
        ]
        for start in range(0, len(cells), cols):
            parts.append(
                f'<w:tr><w:trPr><w:cantSplit/><w:trHeight w:val="{cell_h}" w:hRule="atLeast"/>'
                "</w:trPr>"
            )
            for index in range(cols):
                body = cells[start + index] if start + index < len(cells) else ""
                if not body.rstrip().endswith("</w:p>"):
                    body += "<w:p/>"
                parts.append(
                    f'<w:tc><w:tcPr><w:tcW w:w="{cell_w}" w:type="dxa"/></w:tcPr>{body}</w:tc>'
                )
            parts.append("</w:tr>")
        parts.append("</w:tbl>")
        tiny = (
            '<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
            '<w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>'
        )
        section = (
            f'<w:sectPr><w:pgSz w:w="{int(page_w * twips)}" w:h="{int(page_h * twips)}"/>'
            f'<w:pgMar w:top="{top}" w:right="{left}" w:bottom="{top}" w:left="{left}" '
            'w:header="0" w:footer="0" w:gutter="0"/></w:sectPr>'
        )
        rendered = compiled.render(contexts[0], self.images("etiquette", contexts[0]))
        head, _, _tail = engine.split_body(rendered.parts[compiled.main])
        rendered.parts[compiled.main] = (
            head + "".join(parts) + tiny + section + "</w:body></w:document>"
        )
        rendered.sinks[compiled.main] = sink
        compiled._check(rendered.parts[compiled.main], compiled.main)
        return compiled.write(rendered, out)

    def render(
        self,
        kind: str,
        contexts: Sequence[Mapping[str, Any]],
        out_dir: str | os.PathLike,
        names: Sequence[str],
        *,
        combined_name: str | None = None,
        sheet: bool = False,
        pdf: bool | None = None,
        singles: bool = True,
    ) -> Result:
        """Write one .docx per context (``names``), the combined file, then the PDFs."""
        kind = kind_of(kind)
        if not contexts:
            raise OncoError("Aucun document à produire pour cette sélection")
        self.check(kind, contexts)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        result = Result()
        if singles:
            for context, name in zip(contexts, names, strict=True):
                result.docx.append(self.write_one(kind, context, out / f"{name}.docx"))
        if combined_name:
            target = out / f"{combined_name}.docx"
            if sheet:
                result.combined = self.write_sheet(contexts, target)
            else:
                result.combined = self.write_combined(kind, contexts, target)
        convert_pdf(result, pdf)
        return result


def convert_pdf(result: Result, pdf: bool | None) -> None:
    from oncosecours.documents import pdf as pdf_mod

    if pdf is False:
        return
    if pdf is None and pdf_mod.soffice() is None:
        result.pdf_error = "LibreOffice absent : PDF non produits (les .docx sont écrits)"
        return
    try:
        result.pdf = pdf_mod.convert(result.docx + ([result.combined] if result.combined else []))
    except OncoError as error:
        if pdf:
            raise
        result.pdf_error = str(error)


# ---------------------------------------------------------------- from the store


def _iso_day(day: Any) -> str:
    if isinstance(day, dt.datetime):
        return day.date().isoformat()
    if isinstance(day, dt.date):
        return day.isoformat()
    from oncosecours.domain.identity import parse_date

    return parse_date(day, "date").isoformat()


def _preparation_name(kind: str, context: Mapping[str, Any]) -> str:
    patient = context["patient"]
    return (
        f"{FILE_PREFIX[kind]}_{context['ordonnancier']['numero']}_"
        f"{safe_name(patient['nom_naissance'] + ' ' + patient['prenom'])}"
    )


def render_preparations(
    conn,
    refs: Sequence[object],
    kind: str,
    out_dir: str | os.PathLike,
    settings: Mapping[str, Any] | None = None,
    *,
    combined_name: str | None = None,
    sheet: bool = False,
    pdf: bool | None = None,
    templates: Any = None,
    renderer: Renderer | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """Fiches or labels of the given preparations (ids, ``#id`` or ordonnancier numbers)."""
    from oncosecours.documents import context as C
    from oncosecours.services import document_queries as Q

    kind = kind_of(kind)
    if kind not in ("fabrication", "etiquette"):
        raise OncoError(f"« {kind} » ne se produit pas par préparation")
    renderer = renderer or Renderer(settings, templates)
    backup = Q.backup_date(conn)
    contexts = [
        C.preparation(
            Q.preparation_record(conn, ref),
            renderer.settings,
            backup_date=backup,
            now=now,
            kind=kind,
        )
        for ref in refs
    ]
    names = [_preparation_name(kind, c) for c in contexts]
    return renderer.render(
        kind,
        contexts,
        out_dir,
        names,
        combined_name=combined_name,
        sheet=sheet,
        pdf=pdf,
    )


def render_preparation(
    conn, ref: object, kind: str, out_dir, settings=None, **options
) -> list[Path]:
    """One preparation's fiche de fabrication or label."""
    return render_preparations(conn, [ref], kind, out_dir, settings, **options).files


def render_day(
    conn,
    day: Any,
    kind: str,
    out_dir: str | os.PathLike,
    settings: Mapping[str, Any] | None = None,
    *,
    sheet: bool = False,
    pdf: bool | None = None,
    templates: Any = None,
    renderer: Renderer | None = None,
    now: dt.datetime | None = None,
) -> list[Path]:
    """Every document of ``kind`` for ``day``: one file each and the print-ready combined file.

    ``fabrication`` / ``labels``: the day's preparations (not cancelled nor rejected);
    ``care-plan``: the plans de soins of the day's patients.
    """
    from oncosecours.documents import context as C
    from oncosecours.services import document_queries as Q

    kind = kind_of(kind)
    iso = _iso_day(day)
    if kind == "plan_de_soins":
        return render_care_plans(
            conn, iso, out_dir, settings, pdf=pdf, templates=templates, renderer=renderer, now=now
        ).files
    if kind == "ordonnancier":
        return render_ordonnancier(
            conn, iso, iso, "date", out_dir, settings, pdf=pdf, templates=templates, now=now
        ).files
    ids = Q.day_preparation_ids(conn, iso)
    if not ids:
        raise OncoError(f"Aucune préparation pour le {C.date(iso)}", field="date")
    suffix = "planche" if sheet and kind == "etiquette" else "toutes"
    return render_preparations(
        conn,
        ids,
        kind,
        out_dir,
        settings,
        combined_name=f"{FILE_PREFIX[kind]}s_{iso}_{suffix}",
        sheet=sheet,
        pdf=pdf,
        templates=templates,
        renderer=renderer,
        now=now,
    ).files


def render_care_plans(
    conn,
    day: Any,
    out_dir: str | os.PathLike,
    settings: Mapping[str, Any] | None = None,
    *,
    patient: object = None,
    t0: str = "",
    pdf: bool | None = None,
    templates: Any = None,
    renderer: Renderer | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """Plans de soins of ``day`` (one patient with ``patient``), plus the combined file."""
    from oncosecours.documents import context as C
    from oncosecours.services import document_queries as Q

    iso = _iso_day(day)
    renderer = renderer or Renderer(settings, templates)
    records = Q.care_plan_records(conn, iso, patient)
    if not records:
        who = f" pour le patient {patient}" if patient is not None else ""
        raise OncoError(f"Aucune cure à administrer le {C.date(iso)}{who}", field="date")
    backup = Q.backup_date(conn)
    contexts = []
    for record in records:
        record = dict(record)
        record["t0"] = t0
        contexts.append(C.care_plan(record, renderer.settings, backup_date=backup, now=now))
    names = [
        f"plan_de_soins_{iso}_{safe_name(c['patient']['nom_naissance'] + ' ' + c['patient']['prenom'])}"
        f"_{c['patient']['ipp'] or 'sans_IPP'}"
        for c in contexts
    ]
    combined = f"plans_de_soins_{iso}_tous" if patient is None else None
    return renderer.render(
        "plan_de_soins", contexts, out_dir, names, combined_name=combined, pdf=pdf
    )


def render_ordonnancier(
    conn,
    date_from: Any,
    date_to: Any,
    order_by: str,
    out_dir: str | os.PathLike,
    settings: Mapping[str, Any] | None = None,
    *,
    pdf: bool | None = None,
    templates: Any = None,
    renderer: Renderer | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """The register extract for a period, sorted by ``date``, ``patient`` or ``drug``."""
    from oncosecours.documents import context as C
    from oncosecours.services import document_queries as Q

    start, end = _iso_day(date_from), _iso_day(date_to)
    renderer = renderer or Renderer(settings, templates)
    records = Q.register_records(conn, start, end, order_by)
    context = C.ordonnancier(
        records,
        renderer.settings,
        date_from=start,
        date_to=end,
        order_by=order_by,
        backup_date=Q.backup_date(conn),
        now=now,
        presorted=True,
        anchor=_anchor(conn),
    )
    name = f"ordonnancier_{start}_{end}_par_{ {'drug': 'molecule'}.get(order_by, order_by) }"
    return renderer.render("ordonnancier", [context], out_dir, [name.replace(" ", "")], pdf=pdf)


def render_samples(
    out_dir: str | os.PathLike,
    settings: Mapping[str, Any] | None = None,
    *,
    templates: Any = None,
    pdf: bool | None = None,
    kinds: Sequence[str] = contract_mod.KINDS,
) -> Result:
    """Every template on the sample data (what quality staff look at after editing)."""
    from oncosecours.documents import samples

    renderer = Renderer(settings, templates)
    total = Result()
    for kind in kinds:
        contexts = samples.contexts(kind, renderer.settings)
        names = [f"exemple_{FILE_PREFIX[kind]}_{i + 1}" for i in range(len(contexts))]
        part = renderer.render(
            kind,
            contexts,
            out_dir,
            names,
            combined_name=f"exemple_{FILE_PREFIX[kind]}_tous" if len(contexts) > 1 else None,
            pdf=False,
        )
        total.docx += part.docx + ([part.combined] if part.combined else [])
        if kind == "etiquette":
            total.docx.append(
                renderer.write_sheet(contexts, Path(out_dir) / "exemple_etiquettes_planche.docx")
            )
    convert_pdf(total, pdf)
    return total


def _anchor(conn) -> str:
    """The chain head printed on the register: ``audit verify --ancre`` compares it later."""
    from oncosecours.store.anchors import read_head

    head = read_head(conn)
    return head.label() if head is not None else ""
