"""Reading one source of a query: find the files, check them, parse them with pyarrow.

Every column is read as text (the query's ``typer`` step converts it, so that an unreadable
number names its line). A file the parser refuses is scanned again with Python's ``csv`` module
to say where it goes wrong (line, column) in French: wrong separator, wrong encoding, unclosed
quote, truncated or missing line, extra field.

Many files of one source (``plusieurs_fichiers``, e.g. one file per patient) are checked to have
the same header and parsed in one pass; each row keeps its file (``__src``) and its record
number in that file (``__rec``), from which :func:`line_of` gives the line in the file.
"""

from __future__ import annotations

import csv
import difflib
import fnmatch
import io
import os
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from oncosecours.domain.errors import OncoError
from oncosecours.refresh.query import Query, Source

SRC = "__src"
REC = "__rec"
STEP_SOURCE = "0. Source"

_NAME_DATE = re.compile(
    r"(?<!\d)(\d{4})([-_]?)(\d{2})\2(\d{2})(?!\d)"  # 2023-09-07, 2023_09_07 or 20230907
)
_SEPARATORS = {";": "point-virgule", "|": "barre verticale", ",": "virgule", "\t": "tabulation"}


@dataclass
class FileInfo:
    path: str
    rel: str
    size: int
    date: date
    date_source: str  # "nom" or "modification"
    records: int = 0
    first_row: int = 0


@dataclass
class Read:
    """The rows of one source as text columns (pandas, Arrow-backed), and where they came from."""

    frame: pd.DataFrame
    header: list[str]
    files: list[FileInfo]
    source: Source
    query: Query
    _lines: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def line_of(self, src: int, rec: int) -> int:
        """Line number (1 = header) where record ``rec`` of file ``src`` starts."""
        if not self.source.multiline:
            return rec + 2
        if src not in self._lines:
            info = self.files[src]
            text = _strip_bom(_read(info.path)).decode(self.source.encoding, "replace")
            starts = []
            reader = csv.reader(io.StringIO(text, newline=""), **_dialect(self.source))
            previous = 1
            try:
                next(reader)
                for _ in reader:
                    starts.append(previous + 1)
                    previous = reader.line_num
            except (csv.Error, StopIteration):
                pass
            self._lines[src] = starts
        starts = self._lines[src]
        return starts[rec] if 0 <= rec < len(starts) else rec + 2

    def where(self, row: int) -> tuple[str, int]:
        """(file, line) of row ``row`` of the frame."""
        src = int(self.frame[SRC].iat[row])
        rec = int(self.frame[REC].iat[row])
        return self.files[src].rel, self.line_of(src, rec)


def _dialect(source: Source) -> dict:
    if source.quote is None:
        return {"delimiter": source.separator, "quoting": csv.QUOTE_NONE, "strict": True}
    return {"delimiter": source.separator, "quotechar": source.quote, "strict": True}


def _strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def clean(text: str | None) -> str | None:
    """Text from a backup made safe to show: control characters written as \\xNN."""
    if text is None or text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _fail(message: str, query: Query, *, file: str | None = None, line: int | None = None,
          column: str | None = None, hint: str | None = None, step: str = STEP_SOURCE):  # fmt: skip
    raise OncoError(
        clean(message),
        file=clean(file),
        line=line,
        column=clean(column),
        step=f"{query.name} › {step}",
        hint=clean(hint),
    )


# --- finding the files --------------------------------------------------------------------------


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _match(folder: Path, pattern: str) -> list[str]:
    """Files matching ``pattern`` (``*`` jokers, ``/`` for sub-folders), case-insensitive."""
    parts = [p for p in pattern.replace("\\", "/").split("/") if p and p != "."]
    current = [str(folder)]
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        wanted = part.lower()
        found = []
        for directory in current:
            try:
                with os.scandir(directory) as entries:
                    for entry in entries:
                        if not fnmatch.fnmatchcase(entry.name.lower(), wanted):
                            continue
                        if (last and entry.is_file()) or (not last and entry.is_dir()):
                            found.append(entry.path)
            except OSError:
                continue
        current = found
    return sorted(current, key=str.lower)


def _file_date(name: str, mtime: float, source: Source) -> tuple[date, str]:
    for way in source.date_from:
        if way == "nom":
            for found in _NAME_DATE.finditer(name):
                try:
                    return date(int(found[1]), int(found[3]), int(found[4])), "nom"
                except ValueError:
                    continue
        else:
            break
    return datetime.fromtimestamp(mtime).date(), "modification"


def find_files(folder: Path, source: Source, query: Query) -> list[str]:
    files = _match(folder, source.pattern)
    if not files:
        present = sorted(p.name for p in folder.iterdir())[:12] if folder.is_dir() else []
        _fail(
            f"Fichier manquant : aucun fichier ne correspond à « {source.pattern} » "
            "dans le dossier de sauvegarde",
            query,
            file=source.pattern,
            hint=f"Fichiers présents : {', '.join(present) or 'aucun'}",
        )
    if len(files) > 1 and not source.several:
        _fail(
            f"Plusieurs fichiers correspondent à « {source.pattern} » : "
            + ", ".join(os.path.basename(p) for p in files[:5]),
            query,
            file=source.pattern,
            hint="Ne laisser qu'un fichier, ou préciser le motif dans la requête",
        )
    return files


# --- checks on the bytes ------------------------------------------------------------------------


def _line_and_column(data: bytes, offset: int, source: Source, header: list[str]) -> tuple:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    index = data.count(source.separator.encode("ascii", "replace"), start, offset)
    column = header[index] if 0 <= index < len(header) else None
    return line, column


def _check_encoding(data: bytes, info: FileInfo, source: Source, query: Query,
                    header: list[str]) -> None:  # fmt: skip
    if data.isascii():
        return
    if source.encoding == "utf-8":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, column = _line_and_column(data, exc.start, source, header)
            byte = data[exc.start]
            guess = data[exc.start : exc.start + 1].decode("cp1252", "replace")
            _fail(
                f"Encodage incorrect : l'octet 0x{byte:02X} n'est pas de l'UTF-8 "
                f"(« {guess} » en Windows-1252) ; la requête attend de l'UTF-8",
                query,
                file=info.rel,
                line=line,
                column=column,
                hint="Le fichier semble encodé en Windows-1252 (cp1252) : ré-exporter la "
                'sauvegarde en UTF-8 ou écrire encodage = "cp1252" dans la requête',
            )
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    offset = next(i for i, b in enumerate(data) if b > 127)
    line, column = _line_and_column(data, offset, source, header)
    _fail(
        f"Encodage incorrect : le fichier est en UTF-8 alors que la requête attend "
        f"{source.encoding} (les accents seraient mal lus)",
        query,
        file=info.rel,
        line=line,
        column=column,
        hint='Écrire encodage = "utf-8" dans la requête',
    )


def _header(data: bytes, info: FileInfo, source: Source, query: Query) -> list[str]:
    if not data.strip():
        _fail("Fichier vide", query, file=info.rel, line=1)
    end = data.find(b"\n")
    first = data if end < 0 else data[:end]
    try:
        text = first.decode(source.encoding).rstrip("\r")
    except UnicodeDecodeError as exc:
        _fail(
            f"Encodage incorrect dans l'en-tête (octet 0x{first[exc.start]:02X}) ; la requête "
            f"attend {source.encoding}",
            query,
            file=info.rel,
            line=1,
        )
    try:
        header = next(csv.reader([text], **_dialect(source)))
    except csv.Error as exc:
        _fail(f"En-tête illisible : {exc}", query, file=info.rel, line=1)
    header = [name.strip() for name in header]
    if not any(header):
        _fail(
            "En-tête vide : la première ligne du fichier ne nomme aucune colonne",
            query,
            file=info.rel,
            line=1,
            hint="Le fichier a peut-être été coupé ou modifié à la main : refaire la copie",
        )
    seen = set()
    for name in header:
        if name in seen:
            _fail(f"Colonne « {name} » en double dans l'en-tête", query, file=info.rel, line=1,
                  column=name)  # fmt: skip
        seen.add(name)
    return header


def wrong_separator_hint(header: list[str], source: Source) -> str | None:
    """When the header is one column holding another separator, name that separator."""
    if len(header) > 2:
        return None
    joined = source.separator.join(header)
    counts = {sep: joined.count(sep) for sep in _SEPARATORS if sep != source.separator}
    best = max(counts, key=counts.get)
    if counts[best] >= 2:
        return (
            f"Le fichier semble séparé par « {best} » ({_SEPARATORS[best]}) et non par "
            f"« {source.separator} » : corriger « separateur » dans la requête ou le fichier"
        )
    return None


def missing_column_hint(name: str, header: list[str], source: Source) -> str:
    separator = wrong_separator_hint(header, source)
    if separator:
        return separator
    close = difflib.get_close_matches(name, header, n=3, cutoff=0.6)
    if close:
        return f"Colonnes proches dans le fichier : {', '.join(close)} (colonne renommée ?)"
    return f"Colonnes du fichier : {', '.join(header[:15])}{' ...' if len(header) > 15 else ''}"


# --- diagnosing a refused file ------------------------------------------------------------------


def _diagnose(data: bytes, info: FileInfo, source: Source, query: Query, header: list[str],
              detail: str) -> None:  # fmt: skip
    """Find where a file the parser refused goes wrong; raise the French message."""
    _check_encoding(data, info, source, query, header)
    text = _strip_bom(data).decode(source.encoding, "replace")
    width = len(header)
    hint = wrong_separator_hint(header, source)
    if source.multiline:
        reader = csv.reader(io.StringIO(text, newline=""), **_dialect(source))
        previous = 1
        try:
            next(reader)
            for record in reader:
                start = previous + 1
                previous = reader.line_num
                _check_record(record, width, header, info, query, start, hint)
        except csv.Error as exc:
            _fail(
                f"Fichier tronqué ou mal formé : guillemet non fermé ({exc})",
                query,
                file=info.rel,
                line=previous + 1,
                hint="Le fichier est peut-être incomplet : refaire la copie de la sauvegarde",
            )
    else:
        lines = text.split("\n")
        while lines and not lines[-1].strip("\r"):
            lines.pop()
        for number, line in enumerate(lines[1:], start=2):
            try:
                record = next(csv.reader([line.rstrip("\r")], **_dialect(source)), [])
            except csv.Error as exc:
                _fail(f"Ligne mal formée : {exc}", query, file=info.rel, line=number)
            _check_record(record, width, header, info, query, number, hint)
    _fail(f"Fichier illisible : {detail}", query, file=info.rel)


def _fields(count: int) -> str:
    return f"{count} champ{'s' if count > 1 else ''}"


def _check_record(record: list[str], width: int, header: list[str], info: FileInfo,
                  query: Query, line: int, hint: str | None) -> None:  # fmt: skip
    if len(record) == width:
        return
    if not record or record == [""]:
        _fail("Ligne vide au milieu du fichier", query, file=info.rel, line=line,
              hint="Le fichier a peut-être été coupé ou modifié à la main")  # fmt: skip
    if len(record) < width:
        _fail(
            f"Ligne incomplète : {_fields(len(record))} au lieu de {width} "
            f"(fichier tronqué ou séparateur manquant)",
            query,
            file=info.rel,
            line=line,
            column=header[len(record)],
            hint=hint or "Le fichier est peut-être incomplet : refaire la copie de la sauvegarde",
        )
    _fail(
        f"Ligne avec {_fields(len(record))} au lieu de {width} (séparateur en trop dans un champ ?)",
        query,
        file=info.rel,
        line=line,
        column=header[-1],
        hint=hint,
    )


# --- reading ------------------------------------------------------------------------------------


_ARROW_TYPES = {"integer": pa.int64(), "real": pa.float64()}
THREADS = (os.cpu_count() or 1) >= 4
"""pyarrow's parallel parse pays off from 4 processors; on 2 it costs twice the CPU."""


def _arrow_options(
    source: Source, header: list[str], wanted: list[str], types: dict[str, str] | None = None
):
    read = pacsv.ReadOptions(
        use_threads=THREADS,
        block_size=8 << 20,
        skip_rows=1,
        column_names=header,
        encoding="utf8" if source.encoding == "utf-8" else source.encoding,
    )
    parse = pacsv.ParseOptions(
        delimiter=source.separator,
        quote_char=source.quote or False,
        double_quote=True,
        escape_char=False,
        newlines_in_values=source.multiline,
        ignore_empty_lines=False,
    )
    column_types = {name: pa.string() for name in header}
    for name, kind in (types or {}).items():
        if name in column_types:
            column_types[name] = _ARROW_TYPES[kind]
    convert = pacsv.ConvertOptions(
        column_types=column_types,
        decimal_point=source.decimal,
        null_values=list(source.nulls),
        strings_can_be_null=True,
        include_columns=wanted,
        check_utf8=True,
    )
    return read, parse, convert


def _parse(
    buffer: bytes,
    source: Source,
    header: list[str],
    wanted: list[str],
    types: dict[str, str] | None = None,
) -> pa.Table:
    read, parse, convert = _arrow_options(source, header, wanted, types)
    return pacsv.read_csv(pa.py_buffer(buffer), read, parse, convert)


def _load(path: str) -> tuple[str, bytes, float]:
    """(path, bytes, modification time) of a file, read unbuffered in one call."""
    with open(path, "rb", buffering=0) as handle:
        return path, handle.readall(), os.fstat(handle.fileno()).st_mtime


BLOCK = 16 << 20
"""Bytes of records parsed at once while the following files are read."""


def _block(pool: ThreadPoolExecutor, header_line: bytes, parts: list, source: Source,
           header: list[str], columns: set[str], types: dict[str, str] | None
           ) -> tuple[bytes, Future]:  # fmt: skip
    """Join ``parts`` under the header and start parsing them: (bytes, future of the table,
    None when a number did not parse)."""
    buffer = b"".join([header_line + b"\n", *parts])
    wanted = _wanted(header, columns)

    def parse() -> pa.Table | None:
        try:
            return _parse(buffer, source, header, wanted, types)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            if types:
                return None
            raise

    return buffer, pool.submit(parse)


def _digest(hasher, buffers: list[bytes]) -> None:
    """The blocks as if joined under one header (the digest of a one-block read)."""
    for index, buffer in enumerate(buffers):
        hasher.update(buffer if index == 0 else memoryview(buffer)[buffer.find(b"\n") + 1 :])


def read_source(
    folder: Path,
    source: Source,
    query: Query,
    columns: set[str],
    hasher=None,
    types: dict[str, str] | None = None,
) -> Read:
    """Read the files of ``source`` (only ``columns`` of them are kept; absent ones are left to
    the ``renommer`` step, which knows whether they are optional).

    ``types`` (column -> "integer" or "real") lets pyarrow parse numbers directly, for the
    columns whose first step is their conversion; if any value does not parse, everything is
    read again as text and the query's ``typer`` step names the value, its line and column."""
    paths = find_files(folder, source, query)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return _read_files(folder, source, query, columns, hasher, types, paths, pool)
    finally:
        pool.shutdown()


def _read_files(folder: Path, source: Source, query: Query, columns: set[str], hasher,
                types: dict[str, str] | None, paths: list[str], pool: ThreadPoolExecutor
                ) -> Read:  # fmt: skip
    prefix = len(str(folder)) + 1
    infos: list[FileInfo] = []
    header: list[str] | None = None
    first_header_line = b""
    parts: list = []
    tables: list[pa.Table] = []
    row = 0
    check_bytes = source.encoding != "utf-8"  # UTF-8 is checked by the parser itself
    blocks: list[tuple[bytes, Future]] = []
    size = 0
    by_name = "nom" in source.date_from
    dated: dict[float, tuple[date, str]] = {}  # by modification time (files share it)
    names: list[bytes] = []
    same_header: tuple[bytes, ...] = ()
    for path, raw, mtime in map(_load, paths):
        name = os.path.basename(path)
        if hasher is not None:
            if source.multiline:
                hasher.update(name.encode("utf-8", "replace") + b"\0")
                hasher.update(raw)
            else:  # the same bytes, hashed at once after the loop
                names.append(name.encode("utf-8", "replace") + b"\0")
        rel = path[prefix:] if os.sep == "/" else path[prefix:].replace(os.sep, "/")
        if by_name:
            day, how = _file_date(name, mtime, source)
        else:
            day, how = dated.get(mtime) or dated.setdefault(mtime, _file_date(name, mtime, source))
        info = FileInfo(path, rel, len(raw), day, how)
        data = _strip_bom(raw)
        end = data.find(b"\n")
        if header is None:
            header = _header(data, info, source, query)
            first_header_line = (data if end < 0 else data[:end]).rstrip(b"\r")
            same_header = (first_header_line + b"\n", first_header_line + b"\r")
        elif not (data.startswith(same_header) or data == first_header_line):
            other = _header(data, info, source, query)
            if other != header:
                _fail(
                    f"En-tête différent de celui de {infos[0].rel}",
                    query,
                    file=rel,
                    line=1,
                    column=next(
                        (b for a, b in zip(header, other, strict=False) if a != b),
                        other[-1] if other else None,
                    ),  # fmt: skip
                )
        if source.final_newline and data and not data.endswith(b"\n"):
            _fail(
                "Fichier tronqué : la dernière ligne n'est pas terminée",
                query,
                file=rel,
                line=data.count(b"\n") + 1,
                hint="Le fichier est probablement incomplet : refaire la copie de la sauvegarde",
            )
        if check_bytes and not data.isascii():
            _check_encoding(data, info, source, query, header)
        infos.append(info)
        if source.multiline:
            # Records may span lines: each file is parsed alone, records counted by the parser.
            try:
                table = _parse(data, source, header, _wanted(header, columns))
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                _diagnose(data, info, source, query, header, str(exc))
            info.records, info.first_row = table.num_rows, row
            row += table.num_rows
            tables.append(table)
        else:
            # One record per line: bodies are joined under one header, block by block, and each
            # block is parsed in a thread (pyarrow releases the GIL) while the next files are
            # read and checked here.
            stop = len(data)
            while stop > end + 1 and data[stop - 1] in (10, 13):
                stop -= 1
            records = data.count(b"\n", end + 1, stop) + 1 if end >= 0 and stop > end + 1 else 0
            info.records, info.first_row = records, row
            row += records
            if records:
                parts.append(memoryview(data)[end + 1 : stop])
                parts.append(b"\n")
                size += stop - end
                if size >= BLOCK:
                    blocks.append(_block(pool, first_header_line, parts, source, header,
                                         columns, types))  # fmt: skip
                    parts, size = [], 0
    assert header is not None
    wanted = _wanted(header, columns)
    if source.multiline:
        frames = [_frame(t, i) for i, t in enumerate(tables)]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        return Read(frame, header, infos, source, query)
    if parts or not blocks:
        blocks.append(_block(pool, first_header_line, parts, source, header, columns, types))
    del parts
    hashing = None
    if names:
        hasher.update(b"".join(names))
    if hasher is not None:  # hashlib releases the GIL: the digest runs beside the last parse
        hashing = threading.Thread(target=_digest, args=(hasher, [b for b, _ in blocks]))
        hashing.start()
    table = None
    problem = None
    try:
        results = [future.result() for _, future in blocks]
        if any(t is None for t in results):  # read again as text: the steps will say which value
            results = [_parse(b, source, header, wanted) for b, _ in blocks]
        table = results[0] if len(results) == 1 else pa.concat_tables(results)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        problem = str(exc)
    if table is not None and table.num_rows != row:
        problem = f"{table.num_rows} lignes lues au lieu de {row}"
    if hashing is not None:
        hashing.join()
    del blocks
    if problem:
        for info in infos:
            data = _strip_bom(_read(info.path))
            try:
                _parse(data, source, header, wanted)
            except (pa.ArrowInvalid, UnicodeDecodeError):
                _diagnose(data, info, source, query, header, problem)
        _fail(f"Fichiers illisibles : {problem}", query, file=source.pattern)
    return Read(_frame_many(table, infos), header, infos, source, query)


def _wanted(header: list[str], columns: set[str]) -> list[str]:
    return [name for name in header if name in columns] or header[:1]


def _frame(table: pa.Table, src: int) -> pd.DataFrame:
    import numpy as np

    frame = table.to_pandas(types_mapper=pd.ArrowDtype)
    frame[SRC] = np.full(table.num_rows, src, dtype=np.int32)
    frame[REC] = np.arange(table.num_rows, dtype=np.int64)
    return frame


def _frame_many(table: pa.Table, infos: list[FileInfo]) -> pd.DataFrame:
    import numpy as np

    frame = table.to_pandas(types_mapper=pd.ArrowDtype)
    counts = np.fromiter((i.records for i in infos), dtype=np.int64, count=len(infos))
    starts = np.fromiter((i.first_row for i in infos), dtype=np.int64, count=len(infos))
    src = np.repeat(np.arange(len(infos), dtype=np.int32), counts)
    rec = np.arange(table.num_rows, dtype=np.int64) - np.repeat(starts, counts)
    frame[SRC] = src
    frame[REC] = rec
    return frame
