"""Patients and treatment history, vectorised (numpy/pyarrow): a large unit's million lines."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from oncosecours.refresh.synth.catalogue import (
    CURE_COLUMNS,
    FIRST_F,
    FIRST_M,
    KEY_RANGES,
    MOTIFS,
    PATIENT_COLUMNS,
    ROUTES,
    SURNAMES,
)
from oncosecours.refresh.synth.formats import _spread


def _dates(days: np.ndarray) -> pa.Array:
    """ISO texts of many (mostly repeated) days: formatted once per distinct day."""
    unique, inverse = np.unique(days.astype("datetime64[D]"), return_inverse=True)
    texts = pc.strftime(pa.array(unique), format="%Y-%m-%d")
    return texts.take(pa.array(inverse.reshape(-1)))


def _text(values: np.ndarray, nulls: np.ndarray | None = None) -> pa.Array:
    array = pa.array(values)
    if pa.types.is_floating(array.type):
        array = pc.round(array, 2)
    text = array.cast(pa.string())
    if nulls is not None:
        text = pc.if_else(pa.array(nulls), pa.scalar(None, pa.string()), text)
    return text


def _join(columns: list[pa.Array], separator: str) -> pa.Array:
    return pc.binary_join_element_wise(
        *columns, separator, null_handling="replace", null_replacement="None"
    )


def _patients(rng: np.random.Generator, n: int, backup: date):
    sex_f = rng.random(n) < 0.52
    age_days = (rng.normal(64, 12, n).clip(18, 95) * 365.25).astype(np.int64)
    birth = np.datetime64(backup, "D") - age_days
    surname = rng.integers(0, len(SURNAMES), n)
    married = sex_f & (rng.random(n) < 0.45)
    usual = np.where(married, rng.integers(0, len(SURNAMES), n), surname)
    first = np.where(sex_f, rng.integers(0, len(FIRST_F), n), rng.integers(0, len(FIRST_M), n))
    first, last = KEY_RANGES["PATIENT_NUM"]
    numbers = first + rng.choice(last - first + 1, size=n, replace=False)
    ipp = 800_000_000 + rng.choice(99_999_999, size=n, replace=False)
    return {
        "sex_f": sex_f,
        "birth": birth,
        "birth_name": np.array(SURNAMES, dtype=object)[surname],
        "usual_name": np.array(SURNAMES, dtype=object)[usual],
        "first_name": np.where(sex_f, np.array(FIRST_F, dtype=object)[first % len(FIRST_F)],
                               np.array(FIRST_M, dtype=object)[first % len(FIRST_M)]),
        "number": numbers.astype(np.int64),
        "ipp": ipp.astype(np.int64),
        "weight": np.where(sex_f, rng.normal(65, 13, n), rng.normal(78, 14, n)).clip(38, 160),
        "height": np.where(sex_f, rng.normal(162, 7, n), rng.normal(175, 7, n)).clip(140, 200),
        "creat": np.where(sex_f, rng.normal(70, 15, n), rng.normal(85, 18, n)).clip(35, 300),
    }  # fmt: skip


def _write_history(out: Path, rng: np.random.Generator, pat: dict, protocols: list[dict],
                   n_lines: int, backup: date,
                   progress: Callable[[str], None] | None) -> None:  # fmt: skip
    n = len(pat["number"])
    # Per protocol line: flat arrays indexed by a global line index.
    flat = [(p_index, line) for p_index, p in enumerate(protocols) for line in p["lines"]]
    line_dose = np.array([f[1]["dose"] for f in flat], dtype=float)
    line_unit = np.array([f[1]["unit"] for f in flat], dtype=np.int64)
    line_day = np.array([f[1]["mask"].find("O") + 1 for f in flat], dtype=np.int64)
    line_min = np.array([f[1]["minutes"] for f in flat], dtype=np.int64)
    line_route = np.array([ROUTES.get(f[1]["route"], "Voie Intra Veineuse") for f in flat],
                          dtype=object)  # fmt: skip
    line_concept = np.array(
        [f"CHIMIO:D|{f[1]['molecule']}" if f[1]["molecule"] != -1 else
         f"CHIMIO:P|{f[1]['product']}" for f in flat], dtype=object)  # fmt: skip
    line_cap = np.array([f[1]["cap"] for f in flat], dtype=float)
    p_first = np.zeros(len(protocols), dtype=np.int64)
    p_count = np.array([len(p["lines"]) for p in protocols], dtype=np.int64)
    p_first[1:] = np.cumsum(p_count)[:-1]
    p_cycle = np.array([p["cycle"] for p in protocols], dtype=np.int64)
    p_id = np.array([p["id"] for p in protocols], dtype=np.int64)
    p_name = np.array([p["name"] for p in protocols], dtype=object)
    p_loc = np.array([p["loc"] for p in protocols], dtype=object)

    # Per patient: protocol, number of lines, first day.
    counts = _spread(n_lines, rng.gamma(2.0, 1.0, n) + 0.2, 1, rng)
    weights = 1.0 / (1 + np.arange(len(protocols)) % 40)
    proto = rng.choice(len(protocols), size=n, p=weights / weights.sum())
    old = rng.random(n) < 0.05  # protocols no longer in the thésaurus (history as it is)
    span = (np.ceil(counts / p_count[proto]) + 1) * p_cycle[proto]
    start = np.datetime64(backup, "D") - span.astype(np.int64) - rng.integers(1, 900, n)

    patient = np.repeat(np.arange(n), counts)
    k = np.arange(n_lines) - np.repeat(np.cumsum(counts) - counts, counts)
    pp = proto[patient]
    per = p_count[pp]
    cure = k // per
    line = p_first[pp] + k % per
    day = line_day[line]
    when = start[patient] + cure * p_cycle[pp] + day - 1
    drift = 1 + 0.01 * np.sin(cure + patient)
    weight = np.round(pat["weight"][patient] * drift, 0)
    height = np.round(pat["height"][patient], 0)
    dubois = 0.007184 * weight**0.425 * height**0.725
    grams = weight * 1000
    boyd = 0.0003207 * height**0.3 * grams ** (0.7285 - 0.0188 * np.log10(grams))
    creat = np.round(pat["creat"][patient] * (1 + 0.03 * np.cos(cure)), 0)
    age = (when - pat["birth"][patient]).astype(np.int64) / 365.25
    female = pat["sex_f"][patient]
    chatelut = (0.134 * weight + 218 * weight * (1 - 0.00457 * age)
                * (1 - 0.314 * female) / creat)  # fmt: skip
    unit = line_unit[line]
    dose = line_dose[line]
    calc = np.select(
        [unit == 2, unit == 1, (unit == 7) | (unit == 8), unit == 15, (unit == 4) | (unit == 5)],
        [dose * np.round(dubois, 2), dose * weight, dose * chatelut, dose * weight,
         dose * weight],
        default=dose,
    )  # fmt: skip
    cap = line_cap[line]
    calc = np.where((cap > 0) & (calc > cap), cap, calc)
    calc = np.where(calc < 10, np.round(calc, 1), np.round(calc, 0))
    reduced = rng.random(n_lines) < 0.06
    pct = rng.choice([10, 20, 25, 50], size=n_lines)
    pres = calc * np.where(reduced, 1 - pct / 100, 1.0)
    pres = np.where(pres < 10, np.round(pres, 1), np.round(pres, 0))
    pres_text = _text(pres)
    nval = pc.if_else(pa.array(pres == np.round(pres)),
                      pc.binary_join_element_wise(pres_text, ".0", ""), pres_text)  # fmt: skip
    hours = line_min[line] // 60
    minutes = line_min[line] % 60
    duration = pc.binary_join_element_wise(_text(hours), pc.utf8_lpad(_text(minutes), 2, "0"), ":")
    death = np.where(rng.random(n) < 0.08, start + span.astype(np.int64) + 30, np.datetime64("NaT"))
    death = np.where(death > np.datetime64(backup, "D"), np.datetime64("NaT"), death)
    death_l = death[patient]
    no_death = np.isnat(death_l)
    sex = np.where(female, "DEM|SEX:F", "DEM|SEX:M")
    p_names = p_name[pp]
    p_names = np.where(old[patient], p_names + " ANCIEN", p_names)
    p_ids = np.where(old[patient], p_id[pp] + 100_000, p_id[pp])
    creat_null = rng.random(n_lines) < 0.05
    columns = [
        _text(KEY_RANGES["ROW_NUM"][0] + np.arange(n_lines)),
        _dates(pat["birth"][patient]),
        pc.if_else(pa.array(no_death), pa.scalar(None, pa.string()),
                   _dates(np.where(no_death, np.datetime64(backup, "D"), death_l))),
        pa.array(sex),
        _text(pat["number"][patient]),
        _dates(when),
        pa.array(line_concept[line]),
        nval,
        pa.array(p_names),
        pa.array(p_loc[pp]),
        _text(cure + 1),
        _text(day),
        pres_text,
        _text(calc),
        _text(weight),
        _text(height),
        _text(creat, creat_null),
        pc.if_else(pa.array(reduced), pc.binary_join_element_wise(_text(pct), "%", ""),
                   pa.scalar(None, pa.string())),
        pc.if_else(pa.array(reduced), pa.array(np.array(MOTIFS, dtype=object)[
            rng.integers(0, len(MOTIFS), n_lines)]), pa.scalar(None, pa.string())),
        pa.array(line_route[line]),
        duration,
        _text(np.round(dubois, 2)),
        pa.nulls(n_lines, pa.string()),
        _text(np.round(boyd, 2)),
        _text(unit),
        _text(p_ids),
    ]  # fmt: skip
    if progress:
        progress(f"  historique : {n_lines:,} lignes calculées".replace(",", " "))
    rows = _join(columns, ";")
    rows = pc.binary_join_element_wise(rows, pa.scalar("\n"), "")  # each row ends with \n
    del columns
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[: n_lines + 1]
    data = memoryview(rows.buffers()[2])
    header = (";".join(CURE_COLUMNS) + "\n").encode("ascii")
    folder = out / "cures"
    folder.mkdir(parents=True, exist_ok=True)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    numbers = pat["number"].tolist()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)

    stamp = _stamp(backup)

    def write(index: int) -> None:  # one file per patient, as in the HEGP extract
        first, last = offsets[bounds[index]], offsets[bounds[index + 1]]
        path = os.path.join(folder, f"{numbers[index]}.csv")
        handle = os.open(path, flags, 0o644)
        try:
            os.write(handle, header + data[first:last])
        finally:
            os.close(handle)
        os.utime(path, (stamp, stamp))

    with ThreadPoolExecutor(max_workers=8) as pool:  # file creation waits on the disk
        list(pool.map(write, range(n), chunksize=512))
    pat["death"] = death


def _stamp(backup: date) -> float:
    """Modification time of the written files: the backup day at 02:00 (a nightly export)."""
    from datetime import datetime

    return datetime(backup.year, backup.month, backup.day, 2, 0).timestamp()


def _write_patients(out: Path, pat: dict, backup: date) -> None:
    n = len(pat["number"])
    death = pat["death"]
    no_death = np.isnat(death)
    columns = [
        _text(pat["number"]),
        _text(pat["ipp"]),
        pa.array(pat["birth_name"]),
        pa.array(pat["usual_name"]),
        pa.array(pat["first_name"]),
        pc.binary_join_element_wise(_dates(pat["birth"]), "T00:00:00Z", ""),
        pa.array(np.where(pat["sex_f"], "DEM|SEX:F", "DEM|SEX:M")),
        pc.if_else(pa.array(no_death), pa.scalar("NA"), pc.binary_join_element_wise(
            _dates(np.where(no_death, np.datetime64(backup, "D"), death)), "T00:00:00Z", "")),
    ]  # fmt: skip
    rows = _join(columns, ";")
    body = "\n".join(rows.to_pylist())
    path = out / f"{backup:%Y-%m-%d}_{n}_patients_list.csv"
    path.write_text(";".join(PATIENT_COLUMNS) + "\n" + body + "\n", encoding="utf-8")
