"""Running the five queries on backup folders into one checked, in-memory snapshot.

Nothing here touches the store: :func:`load_backup` either returns a complete
:class:`Snapshot` (tables in the canonical model, warnings, backup date, what was read) or
raises :class:`OncoError`. The service (``services/refresh.py``) then writes it in one
transaction.

Several folders (e.g. a synthetic backup and a real extract) make one snapshot: each query runs
on each folder in turn, its references resolved against what every folder has loaded so far,
and each table is the concatenation of the folders' rows. A key found in two folders is refused,
naming both files and lines (a folder never silently replaces another's row). The backup date
is the oldest of all the files read.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Sequence
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
    source_dir: str  # the folder, or the folders joined by " + "
    timings: dict[str, float] = field(default_factory=dict)
    folders: list[dict] = field(default_factory=list)  # [{"dossier": path, "lignes": counts}]

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
    if read.frame.empty:
        raise OncoError(
            "Aucune ligne de données (seulement l'en-tête) : export vide ou tronqué, "
            "l'instantané en place est conservé",
            file=read.files[0].rel if len(read.files) == 1 else query.source.pattern,
            step=f"{query.name} › 0. Source",
        )
    ctx = Context(query, read, read.frame, tables, folder=folder, hasher=hasher)
    for step in query.steps:
        ctx.step = step
        ACTIONS[step.action](ctx, step)
    outputs = {query.table: _conform(ctx, model.TABLES[query.table], ctx.frame)}
    for name, frame in ctx.extra.items():
        outputs[name] = _conform(ctx, model.TABLES[name], frame)
    return outputs, ctx


def _backup_date(files: list[dict], warnings: list[str], several: bool) -> tuple[date, str]:
    dated = [(f["date"], f) for f in files]
    # the oldest date; on a tie, the one read in a file name (a copy can change an mtime)
    oldest, where = min(dated, key=lambda x: (x[0], x[1]["date_source"] != "nom"))
    newest = max(d for d, _ in dated)
    by_mtime = [f for f in files if f["date_source"] == "modification"]
    folder = f" du dossier {where['dossier']}" if several else ""
    if where["date_source"] == "nom":
        how = f"date du nom de fichier {where['fichier']}{folder}"
    else:
        how = f"date de modification du fichier {where['fichier']}{folder}"
        warnings.append(
            "Date de la sauvegarde déduite de la date de modification des fichiers (aucun nom de "
            "fichier ne la porte) : une copie peut l'avoir changée, la vérifier"
        )
    if (newest - oldest).days > 1:
        what = "Les dossiers de sauvegarde" if several else "Les fichiers de la sauvegarde"
        warnings.append(
            f"{what} portent des dates différentes (du "
            f"{oldest:%d/%m/%Y} au {newest:%d/%m/%Y}) : la plus ancienne est retenue"
            + (" pour tout l'instantané" if several else "")
            + (" (dates de modification comprises)" if by_mtime else "")
        )
    return oldest, how


def backup_folders(backups: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The backup folders asked for, each checked to exist, none twice."""
    if isinstance(backups, (str, os.PathLike)):
        backups = [backups]
    folders = [Path(b) for b in backups]
    if not folders:
        raise OncoError(
            "Aucun dossier de sauvegarde indiqué",
            hint="Indiquer le dossier qui contient les fichiers exportés de Chimio",
        )
    seen: dict[Path, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            raise OncoError(
                "Dossier de sauvegarde introuvable",
                file=str(folder),
                hint="Indiquer le dossier qui contient les fichiers exportés de Chimio",
            )
        same = seen.get(folder.resolve())
        if same is not None:
            raise OncoError(
                f"Le même dossier de sauvegarde est indiqué deux fois : {same} et {folder}",
                file=str(folder),
                hint="Chaque dossier ne se donne qu'une fois (ses lignes seraient en double)",
            )
        seen[folder.resolve()] = folder
    return folders


def _in_folder(error: OncoError, folder: Path) -> OncoError:
    """With several folders, a refusal names the file with its folder."""
    if error.file and not Path(error.file).is_absolute() and not error.file.startswith("queries/"):
        error.file = str(folder / error.file)
    return error


def _model_dtypes(table: model.Table) -> dict[str, object]:
    from oncosecours.refresh.steps import FLOAT, INT, STRING

    kinds = {"integer": INT, "bool": INT, "real": FLOAT}
    return {c.name: kinds.get(c.kind, STRING) for c in table.columns}


def _disjoint(query: Query, name: str, parts: list[tuple[Path, pd.DataFrame, Context]]) -> None:
    """Refuse a key present in two folders: name both files, lines and the key."""
    import numpy as np

    table = model.TABLES[name]
    keys = list(table.key)
    pieces = []
    for index, (_folder, frame, _ctx) in enumerate(parts):
        piece = pd.DataFrame({k: frame[k].astype(str) for k in keys})
        piece["_part"] = index
        piece["_row"] = np.arange(len(frame))
        pieces.append(piece.drop_duplicates(subset=keys))  # within a folder: the query's job
    combined = pd.concat(pieces, ignore_index=True)
    clash = combined.duplicated(subset=keys, keep=False).to_numpy()
    if not clash.any():
        return
    rows = combined[clash]
    first = rows.iloc[0]
    same = rows[(rows[keys] == first[keys].to_numpy()).all(axis=1).to_numpy()]
    (a, row_a), (b, row_b) = [
        (int(r["_part"]), int(r["_row"])) for _, r in same.iloc[:2].iterrows()
    ]
    (folder_a, frame_a, ctx_a), (folder_b, frame_b, ctx_b) = parts[a], parts[b]
    file_a, line_a = ctx_a.where(row_a, frame_a)
    file_b, line_b = ctx_b.where(row_b, frame_b)
    label = ", ".join(f"{ctx_b.column_label(k)} = {frame_b[k].iat[row_b]}" for k in keys)
    raise OncoError(
        f"Clé présente dans deux dossiers de sauvegarde : {label} ({table.label}) est dans "
        f"{folder_a / file_a} (ligne {line_a}) et dans {folder_b / file_b} (ligne {line_b})",
        file=str(folder_b / file_b),
        line=line_b,
        column=ctx_b.column_label(keys[0]),
        step=f"{query.name} › Réunion des dossiers",
        hint="Une ligne d'un dossier ne remplace jamais celle d'un autre : retirer l'un des deux "
        "dossiers, ou corriger l'export qui réutilise cette clé",
    )


def _concat(name: str, frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    dtypes = _model_dtypes(model.TABLES[name])
    aligned = []
    for frame in frames:
        changed = {c: t for c, t in dtypes.items() if c in frame and frame[c].dtype != t}
        aligned.append(frame.astype(changed) if changed else frame)
    return pd.concat(aligned, ignore_index=True)


def load_backup(
    backups: str | os.PathLike | Sequence[str | os.PathLike],
    queries_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> Snapshot:
    """Read and check one backup folder, or several into one snapshot; raise OncoError at the
    first problem."""
    folders = backup_folders(backups)
    several = len(folders) > 1
    queries = load_queries(Path(queries_dir) if queries_dir else shipped("queries"))
    hasher = hashlib.sha256()
    tables: dict[str, pd.DataFrame] = {}
    warnings: list[str] = []
    files: list[dict] = []
    timings: dict[str, float] = {}
    per_folder: list[dict[str, int]] = [{} for _ in folders]
    for query in queries:
        started = time.perf_counter()
        parts: dict[str, list[tuple[Path, pd.DataFrame, Context]]] = {}
        for index, folder in enumerate(folders):
            if progress:
                progress(
                    f"Lecture de {query.source.pattern} ({query.title})"
                    + (f" dans {folder}" if several else "")
                    + "…"
                )
            try:
                outputs, ctx = run_query(query, folder, tables, hasher, progress)
            except OncoError as error:
                raise (_in_folder(error, folder) if several else error) from None
            warnings.extend(f"{folder.name} — {w}" if several else w for w in ctx.warnings)
            for read in [ctx.read, *ctx.reads.values()]:
                infos = read.files
                oldest = min(infos, key=lambda i: i.date)
                files.append(
                    {
                        "requete": query.name,
                        "motif": read.source.pattern,
                        "fichier": oldest.rel if len(infos) > 1 else infos[0].rel,
                        "fichiers": len(infos),
                        "octets": sum(i.size for i in infos),
                        "date": oldest.date,
                        "date_source": oldest.date_source,
                        "lignes": sum(i.records for i in infos),
                    }
                )
                if several:
                    files[-1]["dossier"] = str(folder)
            for name, frame in outputs.items():
                parts.setdefault(name, []).append((folder, frame, ctx))
                per_folder[index][name] = len(frame)
        for name, items in parts.items():
            if len(items) > 1:
                _disjoint(query, name, items)
            tables[name] = _concat(name, [frame for _folder, frame, _ctx in items])
        timings[query.name] = time.perf_counter() - started
    backup_date, how = _backup_date(files, warnings, several)
    for entry in files:
        entry["date"] = entry["date"].isoformat()
    for name, frame in tables.items():
        tables[name] = frame.drop(columns=[SRC, REC])
    resolved = [str(folder.resolve()) for folder in folders]
    return Snapshot(
        tables=tables,
        warnings=warnings,
        backup_date=backup_date,
        backup_date_source=how,
        files=files,
        sha256=hasher.hexdigest(),
        queries={q.name: q.sha256 for q in queries},
        source_dir=" + ".join(resolved),
        timings=timings,
        folders=[
            {"dossier": path, "lignes": {n: counts.get(n, 0) for n in model.COUNT_ORDER}}
            for path, counts in zip(resolved, per_folder, strict=True)
        ],
    )
