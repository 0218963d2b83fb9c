"""``oncosecours bench refresh``: the full refresh against pyarrow alone parsing the same files.

Each measured phase runs in its own child process, so that its peak memory is its own:

1. ``synth``   - the synthetic backup is written (``large`` by default);
2. ``parse``   - pyarrow alone reads and parses the same files (the floor any reader pays):
   with pyarrow's own type inference and with every column as text, each with and without
   threads; the fastest is the baseline of the ratio;
3. ``refresh`` - the real refresh (read, check, write the store in one audited transaction)
   into an empty store, then refreshes that replace that snapshot.

Each measure is repeated (``REPEAT`` times, the parse modes and the replacing refresh alike) and
the best time of each is kept: on a shared machine the other processes only ever add time, so
the best of a few runs is the steadiest estimate, and both sides of the ratio get the same
treatment. Every run's time is in the JSON output.

Usage from Python: :func:`run`; the child phases are ``python -m oncosecours.ops.bench_refresh``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path


def peak_mb() -> float | None:
    """Peak resident memory of this process in MiB (None where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# --- child phases ------------------------------------------------------------------------------


def _phase_synth(folder: str, scale: str, seed: int) -> dict:
    from oncosecours.refresh.synth import generate

    started = time.perf_counter()
    counts = generate(folder, scale, seed, date.today())
    return {"seconds": time.perf_counter() - started, "counts": counts}


REPEAT = 3
"""Runs of each measure (the best is kept)."""


def _phase_parse(folder: str, repeat: int = 1) -> dict:
    """pyarrow alone: read the same files and parse them, with the queries' CSV dialects."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from oncosecours.refresh.query import load_queries
    from oncosecours.refresh.reader import find_files
    from oncosecours.resources import shipped

    queries = load_queries(shipped("queries"))
    results = {}
    modes = (("inference", True), ("inference", False), ("texte", True), ("texte", False))
    for mode, threads in [m for _ in range(repeat) for m in modes]:
        started = time.perf_counter()
        cpu = time.process_time()
        rows = 0
        for query in queries:
            source = query.source
            paths = find_files(Path(folder), source, query)
            blobs = []
            for index, path in enumerate(paths):
                with open(path, "rb") as handle:
                    data = handle.read()
                if index and not source.multiline:
                    data = data[data.find(b"\n") + 1 :]
                blobs.append(data)
            parse = pacsv.ParseOptions(
                delimiter=source.separator,
                quote_char=source.quote or False,
                newlines_in_values=source.multiline,
            )
            read = pacsv.ReadOptions(
                use_threads=threads,
                encoding="utf8" if source.encoding == "utf-8" else source.encoding,
            )
            buffers = blobs if source.multiline else [b"".join(blobs)]
            for buffer in buffers:
                convert = pacsv.ConvertOptions()
                if mode == "texte":
                    names = buffer[: buffer.find(b"\n")].decode(source.encoding).rstrip("\r")
                    convert = pacsv.ConvertOptions(
                        column_types={n: pa.string() for n in names.split(source.separator)}
                    )
                table = pacsv.read_csv(pa.py_buffer(buffer), read, parse, convert)
                rows += table.num_rows
                del table
        key = f"{mode}, {'parallèle' if threads else 'un fil'}"
        result = results.setdefault(key, {"runs": [], "cpu_runs": [], "rows": rows})
        result["runs"].append(time.perf_counter() - started)
        result["cpu_runs"].append(time.process_time() - cpu)
    for result in results.values():
        result["seconds"], result["cpu"] = min(result["runs"]), min(result["cpu_runs"])
    return {"modes": results, "peak_mb": peak_mb()}


def _phase_refresh(folder: str, store: str, repeat: int = 1) -> dict:
    from oncosecours.services.refresh import refresh_snapshot
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    conn = connect(store)
    admin = bootstrap_admin(conn, "BENCH", "Banc d'essai", "7391")
    runs = []
    for _ in range(1 + repeat):  # into an empty store, then replacing that snapshot
        started = time.perf_counter()
        cpu = time.process_time()
        result = refresh_snapshot(conn, admin, folder)
        runs.append(
            {
                "seconds": time.perf_counter() - started,
                "cpu": time.process_time() - cpu,
                "read_s": result["timings"]["lecture_s"],
                "write_s": result["timings"]["ecriture_s"],
                "tables": result["tables"],
            }
        )
    conn.close()
    size = os.path.getsize(store) / 2**20 if os.path.exists(store) else None  # None: a server
    return {"runs": runs, "peak_mb": peak_mb(), "store_mb": size}


def settle() -> None:
    """Write what the synthetic backup left in the page cache to disk before anything is
    timed: its write-back would otherwise land in whichever measure runs next."""
    if hasattr(os, "sync"):  # not on Windows
        os.sync()


def _child(*args: str, env: dict[str, str] | None = None) -> dict:
    """One measured phase in its own process (``env``: e.g. settings naming a server)."""
    command = [sys.executable, "-m", "oncosecours.ops.bench_refresh", *args]
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env)
    if done.returncode != 0:
        from oncosecours.domain.errors import OncoError

        raise OncoError(f"Mesure « {args[0]} » interrompue : {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the benchmark -----------------------------------------------------------------------------


def run(scale: str = "large", seed: int = 1, keep: str | None = None, progress=None,
        repeat: int = REPEAT) -> dict:  # fmt: skip
    """Generate (or reuse, with ``keep``) the backup, then measure; returns the numbers."""
    say = progress or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="oncosecours-bench-") as tmp:
        folder = Path(keep) if keep else Path(tmp) / "sauvegarde"
        synth = None
        if not (folder.exists() and any(folder.iterdir())):
            say(f"Génération de la sauvegarde synthétique « {scale} » dans {folder}…")
            synth = _child("synth", str(folder), scale, str(seed))
            settle()
            say(f"  écrite en {synth['seconds']:.1f} s")
        else:
            say(f"Sauvegarde existante réutilisée : {folder}")
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        nfiles = sum(1 for f in folder.rglob("*") if f.is_file())
        say(f"Mesure : pyarrow seul lit les mêmes fichiers ({repeat} fois)…")
        parse = _child("parse", str(folder), str(repeat))
        say(f"Mesure : actualisation complète (base vide, puis {repeat} remplacements)…")
        refresh = _child("refresh", str(folder), str(Path(tmp) / "bench.sqlite"), str(repeat))
    modes = parse["modes"]
    baseline = min(m["seconds"] for m in modes.values())
    baseline_cpu = min(m["cpu"] for m in modes.values())
    rows = next(iter(modes.values()))["rows"]
    first, replaces = refresh["runs"][0], refresh["runs"][1:]
    second = min(replaces, key=lambda r: r["seconds"])
    second_cpu = min(r["cpu"] for r in replaces)
    return {
        "repetitions": repeat,
        "scale": scale,
        "files": nfiles,
        "megabytes": size / 2**20,
        "synth_s": synth["seconds"] if synth else None,
        "parse_s": {mode: m["seconds"] for mode, m in modes.items()},
        "parse_runs_s": {mode: m["runs"] for mode, m in modes.items()},
        "parse_rows": rows,
        "baseline_s": baseline,
        "refresh_empty_s": first["seconds"],
        "refresh_replace_s": second["seconds"],
        "refresh_replace_runs_s": [r["seconds"] for r in replaces],
        "refresh_read_s": second["read_s"],
        "refresh_write_s": second["write_s"],
        "ratio_empty": first["seconds"] / baseline,
        "ratio_replace": second["seconds"] / baseline,
        "baseline_cpu_s": baseline_cpu,
        "refresh_replace_cpu_s": second_cpu,
        "ratio_cpu": second_cpu / baseline_cpu,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "peak_refresh_mb": refresh["peak_mb"],
        "peak_parse_mb": parse["peak_mb"],
        "store_mb": refresh["store_mb"],
        "tables": second["tables"],
        "cpus": os.cpu_count(),
    }


def report(numbers: dict) -> str:
    """The French text printed by ``oncosecours bench refresh``."""

    def thousands(value: float) -> str:
        return f"{value:,.0f}".replace(",", " ")

    def mb(value: float | None) -> str:
        return "non mesurée" if value is None else f"{value:,.0f} Mo".replace(",", " ")

    peak = numbers["peak_refresh_mb"]
    best = f"meilleur de {numbers.get('repetitions', 1)}"
    runs = " ; ".join(f"{t:.2f}" for t in numbers.get("refresh_replace_runs_s", []))
    verdict_ratio = "OK" if numbers["ratio_replace"] <= 5 else "AU-DELÀ DE LA CIBLE"
    verdict_mem = "OK" if peak is not None and peak < 2048 else "à vérifier"
    lines = [
        f"Jeu « {numbers['scale']} » : {thousands(numbers['files'])} fichiers, "
        f"{thousands(numbers['megabytes'])} Mo, {thousands(numbers['parse_rows'])} lignes",
        *[
            f"pyarrow seul ({mode:<20})      : {seconds:7.2f} s"
            for mode, seconds in numbers["parse_s"].items()
        ],
        f"  référence retenue (la plus rapide)    : {numbers['baseline_s']:7.2f} s ({best})",
        f"Actualisation, base vide                : {numbers['refresh_empty_s']:7.2f} s "
        f"(× {numbers['ratio_empty']:.1f})",
        f"Actualisation, remplacement             : {numbers['refresh_replace_s']:7.2f} s "
        f"(× {numbers['ratio_replace']:.1f}, {best} : {runs} s) — lecture et contrôles "
        f"{numbers['refresh_read_s']:.2f} s, écriture {numbers['refresh_write_s']:.2f} s",
        f"Rapport actualisation / pyarrow seul    : × {numbers['ratio_replace']:.1f} "
        f"(cible ≤ 5, idéal ≤ 3) : {verdict_ratio}",
        f"Temps processeur (remplacement / pyarrow seul) : {numbers['refresh_replace_cpu_s']:.2f} s"
        f" / {numbers['baseline_cpu_s']:.2f} s = × {numbers['ratio_cpu']:.1f} "
        "(indépendant de la charge de la machine)",
        f"Mémoire maximale de l'actualisation     : {mb(peak)} (cible < 2 048 Mo) : {verdict_mem}",
        f"Mémoire maximale de pyarrow seul        : {mb(numbers['peak_parse_mb'])}",
        f"Taille de la base                       : {mb(numbers['store_mb'])}",
        f"Processeurs                             : {numbers['cpus']}"
        + (
            f" (charge moyenne pendant la mesure : {numbers['load_average']:.1f})"
            if numbers["load_average"] is not None
            else ""
        ),
    ]
    if numbers["synth_s"] is not None:
        lines.insert(1, f"Génération de la sauvegarde synthétique : {numbers['synth_s']:7.2f} s")
    return "\n".join(lines)


def _main(argv: list[str]) -> int:
    phase, *rest = argv
    if phase == "synth":
        result = _phase_synth(rest[0], rest[1], int(rest[2]))
    elif phase == "parse":
        result = _phase_parse(rest[0], int(rest[1]) if len(rest) > 1 else 1)
    elif phase == "refresh":
        result = _phase_refresh(rest[0], rest[1], int(rest[2]) if len(rest) > 2 else 1)
    else:
        raise SystemExit(f"phase inconnue : {phase}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
