"""The applied steps of a query, run with pandas on Arrow-backed columns.

Each ``action`` of a query file is one function here taking the running :class:`Context`.
Conversions are vectorised (pyarrow compute); per-value functions (masks, codes, ``h:mm``)
run once per distinct value. A refusal names the file, the line, the column (as written in
the backup, with the model's name) and the step.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date as date_type
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from oncosecours.domain.errors import OncoError
from oncosecours.refresh import model
from oncosecours.refresh.query import DATE_FORMATS, TYPES, Query, Step
from oncosecours.refresh.reader import (
    REC,
    SRC,
    Read,
    clean,
    missing_column_hint,
    read_source,
)

MAX_WARNINGS_PER_STEP = 20

STRING = pd.ArrowDtype(pa.string())
INT = pd.ArrowDtype(pa.int64())
FLOAT = pd.ArrowDtype(pa.float64())


# --- Arrow <-> pandas ---------------------------------------------------------------------------


def arrow(series: pd.Series) -> pa.ChunkedArray:
    values = series.array
    if hasattr(values, "__arrow_array__"):
        result = values.__arrow_array__()
        return result if isinstance(result, pa.ChunkedArray) else pa.chunked_array([result])
    return pa.chunked_array([pa.array(series.to_numpy(dtype=object), from_pandas=True)])


def series(values: pa.ChunkedArray | pa.Array, index: pd.Index) -> pd.Series:
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    return pd.Series(pd.arrays.ArrowExtensionArray(values), index=index, copy=False)


def nulls(length: int, dtype: pd.ArrowDtype, index: pd.Index) -> pd.Series:
    return series(pa.nulls(length, dtype.pyarrow_dtype), index)


def is_text(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.ArrowDtype) and pa.types.is_string(
        column.dtype.pyarrow_dtype
    )


def kind_of(column: pd.Series) -> str:
    dtype = column.dtype.pyarrow_dtype if isinstance(column.dtype, pd.ArrowDtype) else None
    if dtype is None:
        return "object"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "text"
    if pa.types.is_integer(dtype):
        return "integer"
    if pa.types.is_floating(dtype):
        return "real"
    if pa.types.is_null(dtype):
        return "null"
    return str(dtype)


def fold(text: str) -> str:
    """Case and accents ignored: ``"Épirubicine " -> "epirubicine"``."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --- the running context ------------------------------------------------------------------------


@dataclass
class Context:
    query: Query
    read: Read
    frame: pd.DataFrame
    tables: dict[str, pd.DataFrame]  # tables already loaded by earlier queries
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)  # tables split off here
    origin: dict[str, str] = field(default_factory=dict)  # model column -> backup column
    warnings: list[str] = field(default_factory=list)
    step: Step | None = None
    reads: dict[str, Read] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)  # column -> kind given by ``typer``
    folder: Any = None
    hasher: Any = None

    @property
    def step_label(self) -> str:
        label = self.step.label if self.step else "Contrôle du modèle"
        return f"{self.query.name} › {label}"

    def column_label(self, column: str | None) -> str | None:
        if column is None:
            return None
        source = self.origin.get(column)
        return f"{source} → {column}" if source and source != column else column

    def where(self, position: int, frame: pd.DataFrame | None = None) -> tuple[str, int]:
        frame = self.frame if frame is None else frame
        src = int(frame[SRC].iat[position])
        rec = int(frame[REC].iat[position])
        return self.read.files[src].rel, self.read.line_of(src, rec)

    def fail(self, message: str, *, position: int | None = None, column: str | None = None,
             hint: str | None = None, frame: pd.DataFrame | None = None):  # fmt: skip
        file = line = None
        if position is not None:
            file, line = self.where(position, frame)
        raise OncoError(
            clean(message),
            file=clean(file),
            line=line,
            column=clean(self.column_label(column)),
            step=self.step_label,
            hint=clean(hint),
        )

    def warn(self, message: str) -> None:
        self.warnings.append(clean(f"{self.query.title} : {message}"))


def _first(mask: pd.Series | np.ndarray) -> int:
    values = mask.to_numpy(dtype=bool, na_value=False) if isinstance(mask, pd.Series) else mask
    return int(np.flatnonzero(values)[0])


def _value(column: pd.Series, position: int) -> str:
    value = column.iat[position]
    return "vide" if value is pd.NA or value is None else f"« {value} »"


# --- conversions (shared by ``typer`` and the final model check) --------------------------------

_REAL = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_INTEGER = r"^[+-]?\d+(\.0*)?$"
_ISO = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
_TRUE = {"1", "o", "oui", "true", "vrai", "y", "yes"}
_FALSE = {"0", "n", "non", "false", "faux", "no"}


def _bad(ctx: Context, column: str, values: pd.Series, valid: pa.ChunkedArray, what: str,
         hint: str | None = None) -> None:  # fmt: skip
    ok = pc.or_(pc.is_null(arrow(values)), pc.fill_null(valid, False))
    if not pc.all(ok).as_py():
        position = _first(~series(ok, values.index).astype(bool))
        ctx.fail(
            f"{what} illisible : {_value(values, position)}",
            position=position,
            column=column,
            hint=hint,
        )


def _finite(ctx: Context, column: str, values: pd.Series, out: pa.ChunkedArray) -> None:
    ok = pc.fill_null(pc.is_finite(out), True)
    if not pc.all(ok).as_py():
        position = _first(~series(ok, values.index).astype(bool))
        ctx.fail(f"Nombre illisible : {_value(values, position)}", position=position,
                 column=column)  # fmt: skip


def _numbers(ctx: Context, column: str, values: pd.Series, decimal: str, what: str,
             pattern: str) -> pa.ChunkedArray:  # fmt: skip
    """Text with the source's decimal mark -> float64; the first unreadable value is named."""
    text = arrow(values)
    if decimal == ",":
        text = pc.replace_substring(text, ",", ".")
    try:
        out = pc.cast(text, pa.float64())
    except pa.ArrowInvalid:  # slow path, only to say where
        text = pc.utf8_trim_whitespace(text)
        _bad(ctx, column, values, pc.match_substring_regex(text, pattern), what,
             f"marque décimale attendue : « {decimal} »")  # fmt: skip
        out = pc.cast(text, pa.float64())
    _finite(ctx, column, values, out)
    return out


def to_real(ctx: Context, column: str, values: pd.Series, decimal: str) -> pd.Series:
    return series(_numbers(ctx, column, values, decimal, "Nombre", _REAL), values.index)


def to_integer(ctx: Context, column: str, values: pd.Series, decimal: str) -> pd.Series:
    try:
        return series(pc.cast(arrow(values), pa.int64()), values.index)
    except (pa.ArrowInvalid, OverflowError):
        pass
    numbers = _numbers(ctx, column, values, decimal, "Nombre entier", _INTEGER)
    whole = pc.equal(pc.floor(numbers), numbers)
    _bad(ctx, column, values, whole, "Nombre entier")
    big = pc.greater(pc.abs(numbers), 2.0**53)
    if pc.any(big).as_py():
        position = _first(series(big, values.index).fillna(False).astype(bool))
        ctx.fail(f"Nombre entier trop grand : {_value(values, position)}", position=position,
                 column=column)  # fmt: skip
    return series(pc.cast(numbers, pa.int64()), values.index)


_ISO_RE = re.compile(_ISO)


def to_date(ctx: Context, column: str, values: pd.Series, fmt: str | None) -> pd.Series:
    """Text -> ISO ``AAAA-MM-JJ`` text, checked once per distinct value (dates repeat)."""
    from datetime import datetime

    pattern = DATE_FORMATS.get(fmt or "AAAA-MM-JJ", "%Y-%m-%d")
    iso = fmt in (None, "AAAA-MM-JJ")

    def parse(value: str) -> str:
        text = str(value).strip()
        try:
            if iso:
                if not _ISO_RE.match(text):
                    raise ValueError
                return date_type.fromisoformat(text[:10]).isoformat()
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            raise OncoError(
                f"Date illisible : « {value} » (format attendu {fmt or 'AAAA-MM-JJ'})"
            ) from None

    return _per_value(ctx, column, values, parse, pa.string())


def to_bool(ctx: Context, column: str, values: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(values)
    mapped = []
    for position, value in enumerate(uniques):
        key = fold(str(value))
        if key in _TRUE:
            mapped.append(1)
        elif key in _FALSE:
            mapped.append(0)
        else:
            ctx.fail(
                f"Valeur oui/non illisible : « {value} » (attendu 0/1, O/N, oui/non)",
                position=_first(codes == position),
                column=column,
            )
    return _from_codes(codes, mapped, pa.int64(), values.index)


def convert(ctx: Context, column: str, values: pd.Series, kind: str, fmt: str | None = None):
    """Convert a text column to a model kind (integer, real, text, date, bool)."""
    if kind in ("text", "json"):
        return values if is_text(values) else values.astype(STRING)
    if not is_text(values):
        current = kind_of(values)
        if current == "null":
            dtype = {"integer": INT, "bool": INT, "real": FLOAT}.get(kind, STRING)
            return nulls(len(values), dtype, values.index)
        if kind == "real" and current == "real":  # parsed by pyarrow: "nan", "inf" refused
            _finite(ctx, column, values, arrow(values))
            return values
        if kind == current or (kind == "bool" and current == "integer"):
            return values
        if kind == "real" and current == "integer":
            return values.astype(FLOAT)
        values = values.astype(STRING)
    decimal = ctx.read.source.decimal
    if kind == "integer":
        return to_integer(ctx, column, values, decimal)
    if kind == "real":
        return to_real(ctx, column, values, decimal)
    if kind == "date":
        return to_date(ctx, column, values, fmt)
    if kind == "bool":
        return to_bool(ctx, column, values)
    raise ValueError(kind)


def _from_codes(codes: np.ndarray, mapped: list, dtype: pa.DataType, index: pd.Index):
    table = pa.array(list(mapped) + [None], type=dtype)
    return series(table.take(pa.array(np.where(codes < 0, len(mapped), codes))), index)


def _infer(values: list) -> pa.DataType:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


# --- conditions ---------------------------------------------------------------------------------


def _literal(column: pd.Series, value: Any) -> Any:
    if is_text(column):
        return str(value)
    if isinstance(value, str):
        try:
            return float(value) if "." in value or "," in value else int(value)
        except ValueError:
            return value
    return value


def condition(ctx: Context, when: dict | None) -> pd.Series:
    frame = ctx.frame
    if not when:
        return pd.Series(True, index=frame.index)
    column = when["colonne"]
    _need(ctx, column)
    values = frame[column]
    if "vide" in when:
        mask = values.isna() if when["vide"] else values.notna()
    elif "egal" in when:
        mask = values == _literal(values, when["egal"])
    else:
        mask = values.isin([_literal(values, v) for v in when["dans"]])
    return mask.fillna(False).astype(bool)


def _need(ctx: Context, *columns: str) -> None:
    for column in columns:
        if column not in ctx.frame.columns:
            ctx.fail(
                f"Colonne « {column} » inconnue à cette étape (ni renommée ni dérivée avant)",
                column=column,
            )


# --- actions ------------------------------------------------------------------------------------


def renommer(ctx: Context, step: Step) -> None:
    header = set(ctx.read.header)
    frame = ctx.read.frame
    columns: dict[str, pd.Series] = {}
    absent = []
    for optional, mapping in ((False, step.params["colonnes"]),
                              (True, step.params.get("facultatives", {}))):  # fmt: skip
        for target, source in mapping.items():
            ctx.origin[target] = source
            if source in header:
                columns[target] = frame[source]
            elif optional:
                absent.append(source)
                columns[target] = nulls(len(frame), STRING, frame.index)
            else:
                raise OncoError(
                    f"Colonne obligatoire « {source} » absente du fichier",
                    file=ctx.read.files[0].rel,
                    line=1,
                    column=source,
                    step=ctx.step_label,
                    hint=clean(missing_column_hint(source, ctx.read.header, ctx.read.source)),
                )
    if absent:
        ctx.warn(
            f"colonnes facultatives absentes de la sauvegarde, laissées vides : {', '.join(absent)}"
        )
    columns[SRC] = frame[SRC]
    columns[REC] = frame[REC]
    ctx.frame = pd.DataFrame(columns, index=frame.index, copy=False)


def vide_si(ctx: Context, step: Step) -> None:
    _need(ctx, *step.params["colonnes"])
    for column in step.params["colonnes"]:
        values = ctx.frame[column]
        empty = values.isin([_literal(values, v) for v in step.params["valeurs"]])
        if empty.any():
            ctx.frame[column] = values.mask(empty.fillna(False).astype(bool))


def typer(ctx: Context, step: Step) -> None:
    _need(ctx, *step.params["types"])
    for column, spec in step.params["types"].items():
        base, _, fmt = spec.partition(":")
        ctx.frame[column] = convert(ctx, column, ctx.frame[column], TYPES[base], fmt or None)
        ctx.typed[column] = TYPES[base]


def filtrer(ctx: Context, step: Step) -> None:
    params = step.params
    column = params["colonne"]
    _need(ctx, column)
    values = ctx.frame[column]
    if "egal" in params:
        keep = values == _literal(values, params["egal"])
    elif "different" in params:
        keep = values != _literal(values, params["different"])
    elif "dans" in params:
        keep = values.isin([_literal(values, v) for v in params["dans"]])
    elif "hors" in params:
        keep = ~values.isin([_literal(values, v) for v in params["hors"]])
    elif params.get("non_vide"):
        keep = values.notna()
    else:
        ctx.fail("Le filtre doit dire egal, different, dans, hors ou non_vide")
    keep = keep.fillna(False).astype(bool)
    dropped = int((~keep).sum())
    if dropped:
        ctx.warn(f"{dropped} ligne(s) écartée(s) par le filtre « {step.name} »")
        ctx.frame = ctx.frame[keep.to_numpy()].reset_index(drop=True)


def cle_unique(ctx: Context, step: Step) -> None:
    keys = step.params["colonnes"]
    _need(ctx, *keys)
    frame = ctx.frame
    for column in keys:
        empty = frame[column].isna()
        if empty.any():
            ctx.fail("Clé vide", position=_first(empty), column=column)
    duplicated = frame.duplicated(subset=keys, keep=False)
    if duplicated.any():
        first = _first(duplicated)
        row = frame.iloc[first][keys]
        same = duplicated & (frame[keys] == row.to_numpy()).all(axis=1)
        second = [int(p) for p in np.flatnonzero(same.to_numpy()) if p != first][0]
        file2, line2 = ctx.where(second)
        values = ", ".join(f"{ctx.column_label(k)} = {row[k]}" for k in keys)
        ctx.fail(
            f"Clé en double : {values} (aussi en ligne {line2} de {file2})",
            position=first,
            column=keys[0],
        )


def obligatoire(ctx: Context, step: Step) -> None:
    _need(ctx, *step.params["colonnes"])
    when = condition(ctx, step.params.get("quand"))
    for column in step.params["colonnes"]:
        missing = ctx.frame[column].isna() & when
        if missing.any():
            extra = ""
            if step.params.get("quand"):
                q = step.params["quand"]
                extra = f" quand {ctx.column_label(q['colonne'])} " + (
                    "est vide" if q.get("vide") is True else
                    "n'est pas vide" if "vide" in q else
                    f"= {q['egal']}" if "egal" in q else f"dans {q['dans']}"
                )  # fmt: skip
            ctx.fail(f"Valeur obligatoire absente{extra}", position=_first(missing),
                     column=column)  # fmt: skip


def _target(ctx: Context, ref: str) -> pd.Series:
    table, column = model.column_of(ref)
    if table.name == ctx.query.table:
        return ctx.frame[column.name]
    if table.name in ctx.extra:
        return ctx.extra[table.name][column.name]
    return ctx.tables[table.name][column.name]


def reference(ctx: Context, step: Step) -> None:
    params = step.params
    column = params["colonne"]
    _need(ctx, column)
    values = ctx.frame[column]
    target = _target(ctx, params["vers"])
    if kind_of(values) != kind_of(target):
        values, target = values.astype(STRING), target.astype(STRING)
    when = condition(ctx, params.get("quand")) & values.notna()
    missing = when & ~values.isin(target.dropna().unique())
    if not missing.any():
        return
    table = model.TABLES[params["vers"].partition(".")[0]]
    explain = params.get("message", "")
    if params.get("gravite", "erreur") == "erreur":
        position = _first(missing)
        ctx.fail(
            f"Référence inconnue : {ctx.column_label(column)} = {values.iat[position]} absent "
            f"des {table.label}" + (f" ({explain})" if explain else ""),
            position=position,
            column=column,
        )
    rows = ctx.frame.loc[missing.to_numpy()]
    grouped = rows.groupby(rows[column].astype(STRING), sort=True)
    shown = 0
    for value, group in grouped:
        if shown == MAX_WARNINGS_PER_STEP:
            ctx.warn(
                f"… et {grouped.ngroups - shown} autre(s) {column} absent(s) des {table.label}"
            )
            break
        file, line = ctx.where(ctx.frame.index.get_loc(group.index[0]))
        ctx.warn(
            f"{ctx.column_label(column)} {value} absent des {table.label}"
            + (f" : {explain}" if explain else "")
            + f" ({len(group)} ligne(s), dont {file} ligne {line})"
        )
        shown += 1


def scinder(ctx: Context, step: Step) -> None:
    keys = step.params["cle"]
    columns = [c for c in step.params["colonnes"] if c not in keys]
    _need(ctx, *keys, *columns)
    frame = ctx.frame
    part = frame[keys + columns + [SRC, REC]]
    distinct = part.drop_duplicates(subset=keys + columns)
    clash = distinct.duplicated(subset=keys, keep=False)
    if clash.any():
        rows = distinct[clash.to_numpy()]
        first_key = rows.iloc[0][keys]
        same = rows[(rows[keys] == first_key.to_numpy()).all(axis=1).to_numpy()]
        differing = next(c for c in columns if same[c].nunique(dropna=False) > 1)
        position = frame.index.get_loc(same.index[1])
        ctx.fail(
            f"Valeurs différentes pour un même {', '.join(keys)} = "
            f"{', '.join(str(v) for v in first_key)} : « {same[differing].iat[0]} » puis "
            f"« {same[differing].iat[1]} » (l'en-tête doit être identique sur toutes ses lignes)",
            position=position,
            column=differing,
        )
    ctx.extra[step.params["table"]] = (
        distinct.drop_duplicates(subset=keys).reset_index(drop=True).copy()
    )


def joindre(ctx: Context, step: Step) -> None:
    params = step.params
    source = ctx.query.sources[params["source"]]
    mapping = params["colonnes"]
    keys = params["cle"]
    _need(ctx, *keys)
    for key in keys:
        if key not in mapping:
            ctx.fail(f"La clé « {key} » doit figurer dans les colonnes de la jointure")
    read = read_source(ctx.folder, source, ctx.query, set(mapping.values()), ctx.hasher)
    ctx.reads[params["source"]] = read
    other = {}
    for target, name in mapping.items():
        if name not in read.header:
            raise OncoError(
                f"Colonne obligatoire « {name} » absente du fichier",
                file=read.files[0].rel,
                line=1,
                column=name,
                step=ctx.step_label,
                hint=clean(missing_column_hint(name, read.header, read.source)),
            )
        other[target] = read.frame[name]
        ctx.origin.setdefault(target, name)
    right = pd.DataFrame(other)
    helper = Context(ctx.query, read, read.frame, ctx.tables, step=step)
    for key in keys:
        kind = kind_of(ctx.frame[key])
        right[key] = convert(helper, key, right[key], kind if kind != "null" else "text")
    duplicated = right.duplicated(subset=keys, keep="first")
    if duplicated.any():
        helper.fail(
            "Clé en double dans le fichier joint : "
            + ", ".join(f"{k} = {right[k].iat[_first(duplicated)]}" for k in keys),
            position=_first(duplicated),
            column=mapping[keys[0]],
        )
    merged = ctx.frame.merge(right, on=keys, how="left", indicator=True, sort=False)
    if params.get("obligatoire", True):
        unmatched = merged["_merge"] == "left_only"
        if unmatched.any():
            position = _first(unmatched)
            ctx.fail(
                f"Aucune ligne de {read.files[0].rel} pour "
                + ", ".join(f"{k} = {merged[k].iat[position]}" for k in keys),
                position=position,
                column=keys[0],
            )
    ctx.frame = merged.drop(columns="_merge")


# --- derived columns ----------------------------------------------------------------------------


def _per_value(ctx: Context, column: str, values: pd.Series, function: Callable[[Any], Any],
               dtype: pa.DataType | None = None) -> pd.Series:  # fmt: skip
    """Apply ``function`` once per distinct value; an OncoError names the first row concerned."""
    codes, uniques = pd.factorize(values)
    results = []
    for position, value in enumerate(uniques):
        try:
            results.append(function(value))
        except OncoError as error:
            ctx.fail(error.message, position=_first(codes == position), column=column,
                     hint=error.hint)  # fmt: skip
    return _from_codes(codes, results, dtype or _infer(results), values.index)


def _mask_days(value: str) -> str:
    from oncosecours.domain.schedule import days_from_mask

    return json.dumps(days_from_mask(value))


def _hmm(value: str) -> int:
    found = re.fullmatch(r"\s*(\d+):([0-5]\d)(:\d\d)?\s*", value)
    if not found:
        raise OncoError(f"Durée illisible : « {value} » (attendu h:mm, ex. 1:30)")
    return int(found[1]) * 60 + int(found[2])


def _percent(value: str) -> float:
    text = value.strip().rstrip("%").strip().replace(",", ".")
    if not re.fullmatch(_REAL, text):
        raise OncoError(f"Pourcentage illisible : « {value} » (attendu ex. 25 % ou 25,5%)")
    return float(text)


def deriver(ctx: Context, step: Step) -> None:
    p = step.params
    function = p["fonction"]
    target = p["colonne"]
    sources = p.get("depuis", [])
    _need(ctx, *sources)
    frame = ctx.frame
    columns = {name: frame[name] for name in sources}
    if p.get("si_non_vide"):
        _need(ctx, p["si_non_vide"])
        absent = frame[p["si_non_vide"]].isna().to_numpy()
        columns = {name: values.mask(absent) for name, values in columns.items()}
    first = columns[sources[0]] if sources else None
    name = sources[0] if sources else target
    index = frame.index

    if function == "copier":
        result = first.copy()
    elif function == "constante":
        value = p["valeur"]
        result = series(pa.array([value] * len(frame), type=_infer([value])), index)
    elif function == "jours_du_masque":
        result = _per_value(ctx, name, first, _mask_days, pa.string())
    elif function == "noms_du_masque":
        result = _mask_names(ctx, step, name, first)
    elif function == "correspondance":
        result = _lookup(ctx, step, name, first)
    elif function == "minutes_depuis_heures_minutes":
        hours = convert(ctx, sources[0], columns[sources[0]], "real")
        minutes = convert(ctx, sources[1], columns[sources[1]], "real")
        both_empty = hours.isna() & minutes.isna()
        total = hours.fillna(0) * 60 + minutes.fillna(0)
        result = total.mask(both_empty).round().astype(INT)
    elif function == "minutes_depuis_hmm":
        result = _per_value(ctx, name, first, _hmm, pa.int64())
    elif function == "heures_depuis_duree":
        result = _duration_hours(ctx, step, sources, columns)
    elif function == "extraire":
        pattern = re.compile(p["motif"])

        def extract(value: str):
            found = pattern.search(str(value))
            return found.group(1) if found else None

        result = _per_value(ctx, name, first.astype(STRING), extract, pa.string())
    elif function == "pourcentage":
        result = _per_value(ctx, name, first.astype(STRING), _percent, pa.float64())
    elif function == "premier_non_vide":
        result = first.copy()
        for other in sources[1:]:
            more = columns[other]
            result = result.fillna(more) if kind_of(result) != "null" else more
    elif function == "rang_dans_groupe":
        _need(ctx, p["groupe"])
        result = (frame.groupby(p["groupe"], sort=False, dropna=False).cumcount() + 1).astype(INT)
    elif function == "commence_par":
        prefixes = tuple(fold(x) for x in p["prefixes"])
        excluded = tuple(fold(x) for x in p.get("sauf", []))

        def starts(value: str) -> int:
            key = fold(str(value))
            return int(key.startswith(prefixes) and not (excluded and key.startswith(excluded)))

        result = _per_value(ctx, name, first.astype(STRING), starts, pa.int64())
    else:  # pragma: no cover - rejected when the query is loaded
        raise ValueError(function)
    if p.get("si_non_vide"):
        result = result.mask(absent)
    ctx.frame[target] = result
    ctx.typed.pop(target, None)
    ctx.origin.setdefault(target, "+".join(sources) or target)


def _mask_names(ctx: Context, step: Step, column: str, values: pd.Series) -> pd.Series:
    p = step.params
    names = list(p["noms"])
    yes, no = p.get("oui", "O"), p.get("non", "N")
    unnamed: set[int] = set()

    def decode(mask: str) -> str:
        text = str(mask).strip()
        chosen = []
        for position, letter in enumerate(text, start=1):
            if letter == yes:
                name = names[position - 1] if position <= len(names) else ""
                if not name:
                    unnamed.add(position)
                    name = f"position {position} (non nommée)"
                chosen.append(name)
            elif letter != no:
                raise OncoError(
                    f"Masque illisible : « {mask} » (lettre « {letter} » en position {position}, "
                    f"attendu {yes} ou {no})"
                )
        return json.dumps(chosen, ensure_ascii=False)

    result = _per_value(ctx, column, values, decode, pa.string()).fillna("[]")
    column = ctx.origin.get(column, column)
    if unnamed:
        ctx.warn(
            f"{column} : position(s) {', '.join(map(str, sorted(unnamed)))} cochée(s) mais sans "
            f"nom dans la requête (étape « {step.name} ») : compléter la liste des noms"
        )
    if not p.get("positions_confirmees", False):
        ctx.warn(
            f"la signification des positions de {column} est déduite, non confirmée par "
            f"l'établissement (étape « {step.name} ») : la vérifier dans Chimio puis écrire "
            "positions_confirmees = true"
        )
    return result


def _lookup(ctx: Context, step: Step, column: str, values: pd.Series) -> pd.Series:
    p = step.params
    loose = p.get("comparaison", "exacte") == "sans_accents"
    table = {(fold(str(k)) if loose else str(k).strip()): v for k, v in p["table"].items()}
    missing = p.get("si_absent", "erreur")
    unknown: dict[str, int] = {}
    text = values.astype(STRING) if not is_text(values) else values

    def look(value: str):
        key = fold(value) if loose else value.strip()
        if key in table:
            return table[key]
        if missing == "erreur":
            known = ", ".join(str(k) for k in list(p["table"])[:12])
            raise OncoError(
                f"Valeur sans correspondance : « {value} » (valeurs prévues : {known})",
                hint=f"Ajouter cette valeur à la table de l'étape « {step.name} » de "
                f"queries/{ctx.query.name}",
            )
        if missing == "garder":
            return value
        if missing == "avertir":
            unknown[value] = unknown.get(value, 0) + 1
        return None

    dtype = pa.string() if missing == "garder" else _infer(list(table.values()))
    result = _per_value(ctx, column, text, look, dtype)
    if unknown:
        counts = ", ".join(
            f"« {k} » ({int((text == k).sum())} ligne(s))" for k in sorted(unknown)[:10]
        )
        ctx.warn(
            f"{ctx.origin.get(column, column)} : valeur(s) sans correspondance dans l'étape "
            f"« {step.name} », laissée(s) vide(s) : {counts}"
        )
    return result


def _duration_hours(ctx: Context, step: Step, sources: list[str],
                    columns: dict[str, pd.Series]) -> pd.Series:  # fmt: skip
    table = {str(k).strip(): v for k, v in step.params["table"].items()}
    amount = convert(ctx, sources[0], columns[sources[0]], "real")
    unit = columns[sources[1]].astype(STRING)
    factor = _per_value(ctx, sources[1], unit, lambda v: table.get(str(v).strip()), pa.float64())
    unknown = amount.notna() & factor.isna()
    if unknown.any():
        position = _first(unknown)
        ctx.fail(
            f"Code d'unité de durée inconnu : {_value(unit, position)} "
            f"(codes prévus : {', '.join(table)})",
            position=position,
            column=sources[1],
            hint=f"Ajouter ce code à la table de l'étape « {step.name} »",
        )
    return (amount * factor).astype(FLOAT)


ACTIONS: dict[str, Callable[[Context, Step], None]] = {
    "renommer": renommer,
    "vide_si": vide_si,
    "typer": typer,
    "filtrer": filtrer,
    "deriver": deriver,
    "scinder": scinder,
    "joindre": joindre,
    "cle_unique": cle_unique,
    "reference": reference,
    "obligatoire": obligatoire,
}
