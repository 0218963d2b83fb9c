"""Declarative export files (``exports/*.toml``): which dataset, which columns, in which order and
format. The unit (or the DIM) edits them in a text editor, like the backup queries; a wrong field
name or format is refused with the file, the line and the column named, before anything is written.

Two layouts: ``csv`` (a separator, a header line) and ``largeur_fixe`` (each field padded to its
``longueur``, no header: the PMSI files' layout).
"""

from __future__ import annotations

import csv
import hashlib
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.resources import shipped

TYPES = ("texte", "entier", "nombre", "date", "horodatage")
FORMATS = ("csv", "largeur_fixe")
ALIGNS = ("gauche", "droite")


@dataclass(frozen=True)
class Column:
    title: str
    field: str | None
    constant: str | None
    kind: str
    length: int | None
    align: str
    fill: str
    decimals: int | None


@dataclass(frozen=True)
class Layout:
    path: Path
    title: str
    source: str
    file_name: str
    fmt: str
    separator: str
    encoding: str
    decimal: str
    date_format: str
    timestamp_format: str
    header: bool
    columns: tuple[Column, ...]

    @property
    def name(self) -> str:
        return self.path.name


def exports_dir(folder: str | Path | None = None) -> Path:
    return Path(folder) if folder else shipped("exports")


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def load(name: str, folder: str | Path | None = None, fields: Iterable[str] = ()) -> Layout:
    """Read and check one export file; ``fields`` are the dataset's field names."""
    path = exports_dir(folder) / (name if name.endswith(".toml") else f"{name}.toml")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise OncoError("Fichier d'export introuvable", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise OncoError(f"Fichier d'export illisible : {exc}", file=str(path)) from None
    head = data.get("export") or {}

    def fail(message: str, needle: str | None = None, column: str | None = None):
        raise OncoError(
            message,
            file=str(path),
            line=_line_of(text, needle) if needle else None,
            column=column,
        )

    fmt = head.get("format", "csv")
    if fmt not in FORMATS:
        fail(f"format inconnu « {fmt} » (attendu : {', '.join(FORMATS)})", "format")
    known = set(fields)
    columns = []
    raw_columns = data.get("colonnes") or []
    if not raw_columns:
        fail("aucune colonne ([[colonnes]]) dans le fichier d'export")
    for index, raw in enumerate(raw_columns, start=1):
        title = str(raw.get("titre") or f"colonne {index}")
        where = f"n° {index} « {title} »"
        field = raw.get("champ")
        constant = raw.get("valeur")
        if (field is None) == (constant is None):
            fail("chaque colonne a soit un « champ », soit une « valeur » fixe", title, where)
        if field is not None and known and field not in known:
            fail(
                f"champ inconnu « {field} » (champs possibles : {', '.join(sorted(known))})",
                f'"{field}"',
                where,
            )
        kind = raw.get("type", "texte")
        if kind not in TYPES:
            fail(f"type inconnu « {kind} » (attendu : {', '.join(TYPES)})", f'"{kind}"', where)
        length = raw.get("longueur")
        if fmt == "largeur_fixe" and not (isinstance(length, int) and length > 0):
            fail("en largeur fixe, chaque colonne a une « longueur » (entier > 0)", title, where)
        align = raw.get("alignement", "droite" if kind in ("entier", "nombre") else "gauche")
        if align not in ALIGNS:
            fail(f"alignement inconnu « {align} » (gauche ou droite)", title, where)
        columns.append(
            Column(
                title,
                field,
                None if constant is None else str(constant),
                kind,
                length,
                align,
                str(raw.get("remplissage", " "))[:1] or " ",
                raw.get("decimales"),
            )
        )
    return Layout(
        path=path,
        title=str(head.get("titre") or path.stem),
        source=str(head.get("source") or ""),
        file_name=str(head.get("fichier") or f"{path.stem}.csv"),
        fmt=fmt,
        separator=str(head.get("separateur", ";")),
        encoding=str(head.get("encodage", "utf-8-sig")),
        decimal=str(head.get("decimale", ",")),
        date_format=str(head.get("format_date", "%d/%m/%Y")),
        timestamp_format=str(head.get("format_horodatage", "%d/%m/%Y %H:%M")),
        header=bool(head.get("entete", fmt == "csv")),
        columns=tuple(columns),
    )


def _value(layout: Layout, column: Column, row: dict[str, Any]) -> str:
    if column.constant is not None:
        return column.constant
    value = row.get(column.field)
    if value is None or value == "":
        return ""
    if column.kind == "date":
        return date.fromisoformat(str(value)[:10]).strftime(layout.date_format)
    if column.kind == "horodatage":
        return datetime.fromisoformat(str(value)).strftime(layout.timestamp_format)
    if column.kind == "entier":
        return str(int(value))
    if column.kind == "nombre":
        number = float(value)
        text = f"{number:.{column.decimals}f}" if column.decimals is not None else f"{number:g}"
        if column.decimals is None and "e" in text:
            text = f"{number:f}".rstrip("0").rstrip(".")
        return text.replace(".", layout.decimal)
    return str(value)


def _fixed(column: Column, text: str, row_no: int) -> str:
    assert column.length is not None
    if len(text) > column.length:
        raise OncoError(
            f"valeur « {text} » trop longue pour la colonne « {column.title} » "
            f"({len(text)} caractères, longueur {column.length}) à la ligne {row_no}",
            column=column.title,
        )
    if column.align == "droite":
        return text.rjust(column.length, column.fill)
    return text.ljust(column.length, column.fill)


def render(layout: Layout, rows: list[dict[str, Any]]) -> bytes:
    """The file's bytes (written by :func:`write`; also what is hashed)."""
    if layout.fmt == "largeur_fixe":
        lines = []
        for row_no, row in enumerate(rows, start=1):
            lines.append("".join(_fixed(c, _value(layout, c, row), row_no) for c in layout.columns))
        return ("\r\n".join(lines) + ("\r\n" if lines else "")).encode(layout.encoding)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=layout.separator, lineterminator="\r\n")
    if layout.header:
        writer.writerow([c.title for c in layout.columns])
    for row in rows:
        writer.writerow([_value(layout, c, row) for c in layout.columns])
    return buffer.getvalue().encode(layout.encoding)


def write(layout: Layout, rows: list[dict[str, Any]], folder: str | Path) -> tuple[Path, str]:
    """Write the file in ``folder``; returns its path and SHA-256."""
    content = render(layout, rows)
    target = Path(folder) / layout.file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return target, hashlib.sha256(content).hexdigest()
