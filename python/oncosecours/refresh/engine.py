"""Running the five queries on a backup folder into one checked, in-memory snapshot.

Nothing here touches the store: :func:`load_backup` either returns a complete
:class:`Snapshot` (tables in the canonical model, warnings, backup date, what was read) or
raises :class:`OncoError`. The service (``services/refresh.py``) then writes it in one
transaction.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from oncosecours.domain.errors import OncoError
from oncosecours.refresh import model
from oncosecours.refresh.query import Query, load_queries
from oncosecours.refresh.reader import REC, SRC, read_source
from oncosecours.refresh.steps import ACTIONS, FLOAT, INT, STRING, Context, convert, nulls
from oncosecours.resources import shipped

Progress = Callable[[str], None]


@dataclass
class Snapshot:
    tables: dict[str, pd.DataFrame]  # canonical name -> model columns only
    warnings: list[str]
    backup_date: date
    backup_date_source: str
    files: list[dict]
    sha256: str
    queries: dict[str, str]
    source_dir: str
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(self.tables[name]) for name in model.COUNT_ORDER}


def _needed_columns(query: Query) -> set[str]:
    first = query.steps[0]
    return set(first.params["colonnes"].values()) | set(
        first.params.get("facultatives", {}).values()
    )


def parse_types(query: Query) -> dict[str, str]:
    """Backup columns whose first step is a conversion to a number (``typer`` entier/décimal,
    possibly after ``vide_si`` on numbers): pyarrow may parse them directly."""
    from oncosecours.refresh.query import TYPES

    first = query.steps[0].params
    source_of = {**first.get("facultatives", {}), **first["colonnes"]}
    decided: dict[str, str | None] = {}
    numeric = re.compile(r"^[+-]?\d+([.,]\d+)?$")

    def settle(column: str, kind: str | None) -> None:
        decided.setdefault(column, kind)

    for step in query.steps[1:]:
        p = step.params
        if step.action == "vide_si":
            if not all(numeric.match(str(v)) for v in p["valeurs"]):
                for column in p["colonnes"]:
                    settle(column, None)
        elif step.action == "typer":
            for column, spec in p["types"].items():
                kind = TYPES.get(spec.partition(":")[0])
                settle(column, kind if kind in ("integer", "real") else None)
        else:
            for key in ("depuis", "colonnes", "cle", "colonne", "groupe", "si_non_vide"):
                value = p.get(key)
                names = value if isinstance(value, list) else list(value) if isinstance(
                    value, dict) else [value] if isinstance(value, str) else []  # fmt: skip
                for column in names:
                    settle(column, None)
            if isinstance(p.get("quand"), dict):
                settle(p["quand"]["colonne"], None)
    return {source_of[c]: k for c, k in decided.items() if k and c in source_of}


def _conform(ctx: Context, table: model.Table, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's check, after the last step: every column present, typed, required, allowed."""
    ctx.step = None
    ctx.frame = frame
    out: dict[str, pd.Series] = {}
    for column in table.columns:
        if column.name in frame.columns:
            values = frame[column.name]
            if ctx.typed.get(column.name) != column.kind:  # already checked by ``typer``
                values = convert(ctx, column.name, values, column.kind)
        elif column.required and column.default is None:
            ctx.fail(
                f"La requête ne fournit pas la colonne obligatoire « {column.name} » "
                f"({column.doc}) de la table {table.name}",
                column=column.name,
            )
        else:
            dtype = {"integer": INT, "bool": INT, "real": FLOAT}.get(column.kind, STRING)
            values = nulls(len(frame), dtype, frame.index)
        if column.default is not None:
            values = values.fillna(column.default)
        if column.required:
            empty = values.isna()
            if empty.any():
                position = int(empty.to_numpy(dtype=bool, na_value=True).nonzero()[0][0])
                ctx.fail(
                    f"Valeur obligatoire absente ({column.doc})",
                    position=position,
                    column=column.name,
                )
        allowed = model.vocabulary(column)
        if allowed:
            bad = values.notna() & ~values.isin(allowed)
            if bad.any():
                position = int(bad.to_numpy(dtype=bool, na_value=False).nonzero()[0][0])
                ctx.fail(
                    f"Valeur « {values.iat[position]} » non reconnue par OncoSecours "
                    f"(valeurs possibles : {', '.join(allowed)})",
                    position=position,
                    column=column.name,
                )
        if column.kind == "bool":
            bad = values.notna() & ~values.isin([0, 1])
            if bad.any():
                position = int(bad.to_numpy(dtype=bool, na_value=False).nonzero()[0][0])
                ctx.fail(f"Valeur « {values.iat[position]} » au lieu de 0 ou 1",
                         position=position, column=column.name)  # fmt: skip
        out[column.name] = values
    out[SRC] = frame[SRC]
    out[REC] = frame[REC]
    return pd.DataFrame(out, index=frame.index, copy=False).reset_index(drop=True)


def run_query(query: Query, folder: Path, tables: dict[str, pd.DataFrame], hasher,
              progress: Progress | None = None) -> tuple[dict[str, pd.DataFrame], Context]:  # fmt: skip
    read = read_source(
        folder, query.source, query, _needed_columns(query), hasher, parse_types(query)
    )
    if progress:
        nfiles = len(read.files)
        progress(
            f"  {query.title} : {len(read.frame):,} lignes lues".replace(",", " ")
            + (f" dans {nfiles:,} fichiers".replace(",", " ") if nfiles > 1 else "")
        )
    ctx = Context(query, read, read.frame, tables, folder=folder, hasher=hasher)
    for step in query.steps:
        ctx.step = step
        ACTIONS[step.action](ctx, step)
    outputs = {query.table: _conform(ctx, model.TABLES[query.table], ctx.frame)}
    for name, frame in ctx.extra.items():
        outputs[name] = _conform(ctx, model.TABLES[name], frame)
    return outputs, ctx


def _backup_date(files: list[dict], warnings: list[str]) -> tuple[date, str]:
    dated = [(f["date"], f) for f in files]
    # the oldest date; on a tie, the one read in a file name (a copy can change an mtime)
    oldest, where = min(dated, key=lambda x: (x[0], x[1]["date_source"] != "nom"))
    newest = max(d for d, _ in dated)
    by_mtime = [f for f in files if f["date_source"] == "modification"]
    if where["date_source"] == "nom":
        how = f"date du nom de fichier {where['fichier']}"
    else:
        how = f"date de modification du fichier {where['fichier']}"
        warnings.append(
            "Date de la sauvegarde déduite de la date de modification des fichiers (aucun nom de "
            "fichier ne la porte) : une copie peut l'avoir changée, la vérifier"
        )
    if (newest - oldest).days > 1:
        warnings.append(
            f"Les fichiers de la sauvegarde portent des dates différentes (du "
            f"{oldest:%d/%m/%Y} au {newest:%d/%m/%Y}) : la plus ancienne est retenue"
            + (" (dates de modification comprises)" if by_mtime else "")
        )
    return oldest, how


def load_backup(
    folder: str | Path,
    queries_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Snapshot:
    """Read and check a whole backup folder; raise OncoError at the first problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise OncoError(
            "Dossier de sauvegarde introuvable",
            file=str(folder),
            hint="Indiquer le dossier qui contient les fichiers exportés de Chimio",
        )
    queries = load_queries(Path(queries_dir) if queries_dir else shipped("queries"))
    hasher = hashlib.sha256()
    tables: dict[str, pd.DataFrame] = {}
    warnings: list[str] = []
    files: list[dict] = []
    timings: dict[str, float] = {}
    for query in queries:
        started = time.perf_counter()
        if progress:
            progress(f"Lecture de {query.source.pattern} ({query.title})…")
        outputs, ctx = run_query(query, folder, tables, hasher, progress)
        tables.update(outputs)
        warnings.extend(ctx.warnings)
        for read in [ctx.read, *ctx.reads.values()]:
            infos = read.files
            oldest = min(infos, key=lambda i: i.date)
            files.append(
                {
                    "requete": query.name,
                    "motif": read.source.pattern,
                    "fichier": infos[0].rel if len(infos) == 1 else f"{len(infos)} fichiers",
                    "fichiers": len(infos),
                    "octets": sum(i.size for i in infos),
                    "date": oldest.date,
                    "date_source": oldest.date_source,
                    "lignes": sum(i.records for i in infos),
                }
            )
            if len(infos) > 1:
                files[-1]["fichier"] = oldest.rel
        timings[query.name] = time.perf_counter() - started
    backup_date, how = _backup_date(files, warnings)
    for entry in files:
        entry["date"] = entry["date"].isoformat()
    for name, frame in tables.items():
        tables[name] = frame.drop(columns=[SRC, REC])
    return Snapshot(
        tables=tables,
        warnings=warnings,
        backup_date=backup_date,
        backup_date_source=how,
        files=files,
        sha256=hasher.hexdigest(),
        queries={q.name: q.sha256 for q in queries},
        source_dir=str(folder.resolve()),
        timings=timings,
    )
