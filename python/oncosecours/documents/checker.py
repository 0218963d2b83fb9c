"""The template checker for quality staff: ``oncosecours templates check [DOSSIER]``.

For each template of ``champs.toml`` found in the folder:
  * Jinja syntax errors and unknown filters, with the paragraph where they are;
  * every variable that is not in the documented context (a misspelled field), with the
    closest documented names; in headers and footers only the common fields are allowed;
  * a rendering of every sample context (``documents.samples``) with the compiled renderer,
    the XML checked and the .docx re-opened with python-docx;
  * optionally (``pdf=True``) the samples converted by LibreOffice, page counts reported.
Any problem makes the command exit non-zero.
"""

from __future__ import annotations

import difflib
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncosecours.documents import contract as contract_mod
from oncosecours.documents import engine

JINJA_GLOBALS = {
    "range",
    "dict",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "loop",
    "true",
    "false",
}
_ANY = contract_mod.Node("any")


@dataclass
class Problem:
    part: str  # "document", "en-tête header1.xml", ...
    kind: str  # "champ", "syntaxe", "rendu", "fichier"
    message: str
    line: int | None = None
    paragraph: str = ""

    def __str__(self) -> str:
        where = f"{self.part}"
        if self.line:
            where += f", paragraphe n° {max(self.line - 1, 1)}"
        if self.paragraph:
            shown = self.paragraph if len(self.paragraph) <= 90 else self.paragraph[:87] + "..."
            where += f" : « {shown} »"
        return f"[{self.kind}] {self.message} ({where})"


@dataclass
class TemplateReport:
    kind: str
    file: Path
    problems: list[Problem] = field(default_factory=list)
    samples_rendered: int = 0
    pages: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _part_label(name: str, main: str) -> str:
    if name == main:
        return "document"
    short = name.rpartition("/")[2]
    return ("en-tête " if "header" in short else "pied de page ") + short


class _Walker:
    """Resolves every variable of a Jinja AST against the contract tree."""

    def __init__(
        self,
        root: contract_mod.Node,
        full_root: contract_mod.Node,
        common_only: bool,
        env=None,
    ):
        self.env = env or engine.environment()
        self.root = root
        self.full_root = full_root
        self.common_only = common_only
        self.found: list[tuple[str, int | None]] = []
        self.names = contract_mod.flat_names(root)

    def report(self, path: str, lineno: int | None, label: str = "") -> None:
        shown = path if not label else f"{path} (élément de {label})"
        candidates = difflib.get_close_matches(
            path if not label else label + "." + path.split(".", 1)[-1], self.names, n=3, cutoff=0.6
        )
        message = f"champ inconnu « {shown} »"
        if self.common_only and self._in_full(path):
            message = (
                f"champ « {path} » interdit dans un en-tête ou pied de page "
                "(seuls les champs communs y sont permis)"
            )
        elif candidates:
            message += " ; vouliez-vous dire " + " ou ".join(f"« {c} »" for c in candidates) + " ?"
        self.found.append((message, lineno))

    def _in_full(self, path: str) -> bool:
        node = self.full_root
        for part in path.split("."):
            node = node.child(part) if node is not None else None
        return node is not None

    # -- expressions

    def resolve(self, expr, scope) -> tuple[contract_mod.Node, str, str]:
        """(contract node or _ANY, dotted path for messages, list label of the loop item)."""
        from jinja2 import nodes

        if isinstance(expr, nodes.Name):
            if expr.name in scope:
                node, label = scope[expr.name]
                return node, expr.name, label
            if expr.name in JINJA_GLOBALS:
                return _ANY, expr.name, ""
            child = self.root.child(expr.name)
            if child is None:
                self.report(expr.name, expr.lineno)
                return _ANY, expr.name, ""
            return child, expr.name, ""
        if isinstance(expr, nodes.Getattr | nodes.Getitem):
            if isinstance(expr, nodes.Getitem):
                self.resolve(expr.arg, scope)
                if not isinstance(expr.arg, nodes.Const):
                    self.resolve(expr.node, scope)
                    return _ANY, "", ""
                key = expr.arg.value
            else:
                key = expr.attr
            base, path, label = self.resolve(expr.node, scope)
            full = f"{path}.{key}" if path else str(key)
            if base is _ANY:
                return _ANY, full, label
            if base.kind == "objet":
                child = base.children.get(str(key))
                if child is None:
                    self.report(full, expr.lineno, label)
                    return _ANY, full, label
                return child, full, label
            if base.kind in (contract_mod.LIST, contract_mod.LINES) and isinstance(key, int):
                return base.item, full, label
            if base.kind == contract_mod.TEXT and isinstance(key, str) and hasattr(str, key):
                return _ANY, full, label  # string methods: {{ patient.nom.upper() }}
            self.report(full, expr.lineno, label)
            return _ANY, full, label
        if isinstance(expr, nodes.Filter) and expr.name not in self.env.filters:
            self.found.append((f"filtre inconnu « {expr.name} »", expr.lineno))
        if isinstance(expr, nodes.Test) and expr.name not in self.env.tests:
            self.found.append((f"test inconnu « {expr.name} »", expr.lineno))
        for child in expr.iter_child_nodes():
            if isinstance(child, nodes.Expr):
                self.resolve(child, scope)
        return _ANY, "", ""

    # -- statements

    def bind(self, target, value: tuple[contract_mod.Node, str], scope) -> None:
        from jinja2 import nodes

        if isinstance(target, nodes.Name):
            scope[target.name] = value
        elif isinstance(target, nodes.Tuple):
            for item in target.items:
                self.bind(item, (_ANY, ""), scope)

    def visit(self, node, scope) -> None:
        from jinja2 import nodes

        if isinstance(node, nodes.For):
            iterable, path, _label = self.resolve(node.iter, scope)
            inner = dict(scope)
            item: tuple[contract_mod.Node, str] = (_ANY, "")
            if iterable is not _ANY and iterable.kind in (contract_mod.LIST, contract_mod.LINES):
                item = (iterable.item, f"{path}[]")
            elif iterable is not _ANY and iterable.kind in (contract_mod.TEXT, "objet"):
                item = (_ANY, "")
            self.bind(node.target, item, inner)
            inner["loop"] = (_ANY, "")
            if node.test is not None:
                self.resolve(node.test, inner)
            for child in node.body:
                self.visit(child, inner)
            for child in node.else_:
                self.visit(child, scope)
            return
        if isinstance(node, nodes.Assign):
            value, _, label = self.resolve(node.node, scope)
            self.bind(node.target, (value, label), scope)
            return
        if isinstance(node, nodes.AssignBlock):
            for child in node.body:
                self.visit(child, scope)
            self.bind(node.target, (_ANY, ""), scope)
            return
        if isinstance(node, nodes.Macro | nodes.CallBlock):
            inner = dict(scope)
            for arg in getattr(node, "args", []):
                self.bind(arg, (_ANY, ""), inner)
            inner["caller"] = (_ANY, "")
            if isinstance(node, nodes.CallBlock):
                self.resolve(node.call, scope)
            for child in node.body:
                self.visit(child, inner)
            if isinstance(node, nodes.Macro):
                scope[node.name] = (_ANY, "")
            return
        if isinstance(node, nodes.With):
            inner = dict(scope)
            for target, value in zip(node.targets, node.values, strict=False):
                resolved, _, label = self.resolve(value, scope)
                self.bind(target, (resolved, label), inner)
            for child in node.body:
                self.visit(child, inner)
            return
        for child in node.iter_child_nodes():
            if isinstance(child, nodes.Expr):
                self.resolve(child, scope)
            else:
                self.visit(child, scope)


def check_source(
    source: str,
    root: contract_mod.Node,
    full_root: contract_mod.Node,
    part: str,
    *,
    common_only: bool = False,
    env=None,
) -> list[Problem]:
    """Syntax and variables of one part's Jinja source."""
    from jinja2 import TemplateSyntaxError
    from jinja2.exceptions import TemplateAssertionError

    env = env or engine.environment()
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        lineno = exc.lineno
        message = f"erreur de syntaxe : {_french_syntax(exc.message or '')}"
        if "end of template" in (exc.message or "").lower():
            opened = _unclosed_block(source, env)
            if opened:
                lineno = opened
                message += " (bloc ouvert ici)"
        return [Problem(part, "syntaxe", message, lineno, engine.paragraph_text(source, lineno))]
    problems: list[Problem] = []
    try:
        env.from_string(source)
    except TemplateAssertionError as exc:
        problems.append(
            Problem(
                part,
                "syntaxe",
                f"erreur : {_french_syntax(exc.message or '')}",
                exc.lineno,
                engine.paragraph_text(source, exc.lineno),
            )
        )
    except TemplateSyntaxError as exc:
        problems.append(
            Problem(
                part,
                "syntaxe",
                f"erreur de syntaxe : {_french_syntax(exc.message or '')}",
                exc.lineno,
                engine.paragraph_text(source, exc.lineno),
            )
        )
    walker = _Walker(root, full_root, common_only, env)
    walker.visit(tree, {})
    seen = set()
    for message, lineno in walker.found:
        if (message, lineno) in seen:
            continue
        seen.add((message, lineno))
        kind = "syntaxe" if message.startswith(("filtre", "test")) else "champ"
        problems.append(Problem(part, kind, message, lineno, engine.paragraph_text(source, lineno)))
    return problems


_SYNTAX_FR = (
    ("unexpected end of template", "fin du modèle inattendue (une balise n'est pas fermée)"),
    ("encountered unknown tag", "balise inconnue"),
    ("unexpected char", "caractère inattendu"),
    ("unexpected", "inattendu"),
    ("expected token", "élément attendu"),
    ("no filter named", "filtre inconnu"),
    ("no test named", "test inconnu"),
    ("jinja was looking for the following tags:", "balises attendues :"),
    ("the innermost block that needs to be closed is", "bloc à fermer :"),
    (" or ", " ou "),
    ("found.", "."),
)
_BLOCKS = {"for", "if", "macro", "call", "filter", "set", "with", "block", "raw"}


def _french_syntax(message: str) -> str:
    import re

    out = message.replace("\n", " ")
    for english, french in _SYNTAX_FR:
        out = re.sub(re.escape(english), french, out, flags=re.IGNORECASE)
    return out


def _unclosed_block(source: str, env) -> int | None:
    """Line of the innermost block opened and never closed (for an end-of-template error)."""
    stack: list[tuple[str, int]] = []
    previous = ""
    try:
        for lineno, token, value in env.lex(source):
            if previous == "block_begin" and token == "name":
                if value in _BLOCKS:
                    stack.append((value, lineno))
                elif value.startswith("end") and stack and stack[-1][0] == value[3:]:
                    stack.pop()
            if token != "whitespace":
                previous = token
    except Exception:
        return None
    return stack[-1][1] if stack else None


def _render_samples(
    report: TemplateReport, path: Path, kind: str, settings, folder: Path, pdf: bool
) -> None:
    from oncosecours.documents import samples
    from oncosecours.documents.render import FILE_PREFIX, Renderer
    from oncosecours.domain.errors import OncoError

    renderer = Renderer(settings, folder)
    contexts = samples.contexts(kind, renderer.settings)
    with tempfile.TemporaryDirectory(prefix="oncosecours-check-") as tmp:
        written = []
        for index, context in enumerate(contexts, start=1):
            target = Path(tmp) / f"{FILE_PREFIX[kind]}_exemple_{index}.docx"
            try:
                renderer.write_one(kind, context, target)
                _reopen(target)
            except OncoError as error:
                report.problems.append(
                    Problem("document", "rendu", f"exemple {index} : {error.message}")
                )
                continue
            except Exception as error:  # a corrupt package python-docx cannot read
                report.problems.append(
                    Problem("document", "rendu", f"exemple {index} : document illisible ({error})")
                )
                continue
            report.samples_rendered += 1
            written.append(target)
        if pdf and written:
            from oncosecours.documents import pdf as pdf_mod

            try:
                for produced in pdf_mod.convert(written):
                    report.pages[produced.stem] = pdf_mod.page_count(produced)
            except OncoError as error:
                report.problems.append(Problem("document", "rendu", f"PDF : {error}"))


def _reopen(path: Path) -> None:
    from docx import Document

    Document(str(path))


def check_template(
    path: Path,
    kind: str,
    contract: contract_mod.Contract,
    *,
    settings: Mapping[str, Any] | None = None,
    render: bool = True,
    pdf: bool = False,
) -> TemplateReport:
    """Check one template file as the template of ``kind``."""
    report = TemplateReport(kind, path)
    template = contract.template(kind)
    env = engine.environment()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(Problem("fichier", "fichier", f"pas un fichier Word .docx ({exc})"))
        return report
    with archive:
        try:
            compiled_parts = _parts(archive)
        except Exception as exc:
            report.problems.append(Problem("fichier", "fichier", f"fichier Word abîmé ({exc})"))
            return report
        main = compiled_parts[0][0]
        for name, common_only in compiled_parts:
            label = _part_label(name, main)
            try:
                source = engine.jinja_source(archive.read(name))
            except Exception as exc:
                report.problems.append(Problem(label, "fichier", f"XML illisible ({exc})"))
                continue
            report.problems += check_source(
                source,
                contract.common_root if common_only else template.root,
                template.root,
                label,
                common_only=common_only,
                env=env,
            )
    if render and report.ok:
        _render_samples(report, path, kind, settings, path.parent, pdf)
    return report


def _parts(archive: zipfile.ZipFile) -> list[tuple[str, bool]]:
    """(part name, common fields only) for the main document and its headers/footers."""
    from lxml import etree

    main = "word/document.xml"
    for rel in etree.fromstring(archive.read("_rels/.rels")):
        if rel.get("Type") == engine.OFFICE_DOC_REL:
            main = engine._resolve("", rel.get("Target"))
    parts = [(main, False)]
    rels_name = engine._rels_name(main)
    if rels_name in archive.namelist():
        for rel in etree.fromstring(archive.read(rels_name)):
            if rel.get("Type") in (engine.HEADER_REL, engine.FOOTER_REL):
                name = engine._resolve(main, rel.get("Target"))
                if name in archive.namelist():
                    parts.append((name, True))
    return parts


def check_dir(
    folder: str | Path | None = None,
    *,
    settings: Mapping[str, Any] | None = None,
    render: bool = True,
    pdf: bool = False,
) -> list[TemplateReport]:
    """Check every template of the contract in ``folder`` (default: the templates in use)."""
    from oncosecours.documents.render import templates_dir

    base = templates_dir(folder)
    contract = contract_mod.load()
    reports = []
    for kind, template in contract.templates.items():
        path = base / template.file
        if not path.exists():
            report = TemplateReport(kind, path)
            report.problems.append(Problem("fichier", "fichier", "modèle absent du dossier"))
            reports.append(report)
            continue
        reports.append(
            check_template(path, kind, contract, settings=settings, render=render, pdf=pdf)
        )
    return reports


def format_reports(reports: list[TemplateReport]) -> str:
    """The French text printed by ``oncosecours templates check``."""
    lines = []
    for report in reports:
        status = "OK" if report.ok else f"{len(report.problems)} problème(s)"
        lines.append(f"{report.file.name} ({report.kind}) : {status}")
        for problem in report.problems:
            lines.append(f"  - {problem}")
        if report.samples_rendered:
            lines.append(f"  {report.samples_rendered} exemple(s) produit(s) sans erreur")
        if report.pages:
            shown = ", ".join(f"{name} : {count} p." for name, count in report.pages.items())
            lines.append(f"  pages (PDF) : {shown}")
    total = sum(len(r.problems) for r in reports)
    lines.append(
        "Tous les modèles sont corrects."
        if total == 0
        else f"{total} problème(s) à corriger avant d'utiliser ces modèles."
    )
    return "\n".join(lines)


def reports_json(reports: list[TemplateReport]) -> list[dict[str, Any]]:
    return [
        {
            "modele": r.kind,
            "fichier": str(r.file),
            "ok": r.ok,
            "exemples": r.samples_rendered,
            "pages": r.pages,
            "problemes": [
                {
                    "partie": p.part,
                    "type": p.kind,
                    "message": p.message,
                    "ligne": p.line,
                    "paragraphe": p.paragraph,
                }
                for p in r.problems
            ],
        }
        for r in reports
    ]
