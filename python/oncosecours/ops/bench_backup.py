"""``oncosecours bench replica``: the cost of the live second copy on one click, same run.

For each store size (synthetic Chimio history rows in the snapshot tables, the bulk of a real
store), the same click (``add_note``, a light action) is timed alternately without and with the
second copy, in process (the marginal cost) and as a fresh ``oncosecours note add`` process (what
a ribbon click or a CLI user waits for, PIN check included). The first click of the day, which
also writes the dated snapshot, is reported apart.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

PIN = "4826"
_PATIENT_COLUMNS = ("patient_id", "ipp", "birth_name", "first_name", "birth_date", "sex")
_HISTORY_COLUMNS = (
    "row_id", "patient_id", "start_date", "concept", "molecule_id", "value", "protocol_name",
    "protocol_id", "cycle", "day", "dose_prescribed", "dose_calculated", "weight_kg", "height_cm",
    "creatinine_umol_l", "route", "duration_min", "bsa_dubois", "unit_code",
)  # fmt: skip


def _settings_file(path: Path, folder: Path | None) -> Path:
    value = str(folder).replace("\\", "\\\\") if folder else ""
    path.write_text(
        f'[copie_secours]\ndossier = "{value}"\ninstantanes_conserves = 7\n', encoding="utf-8"
    )
    return path


def build_store(path: Path, history_rows: int | str, seed: int = 7) -> dict[str, Any]:
    """A store with an administrator, a nurse and a Chimio snapshot: ``history_rows`` rows of
    history written directly, or ``"small"`` / ``"large"``: the synthetic backup of that scale
    (``oncosecours synth``) loaded by the real refresh."""
    from oncosecours.services.users import bootstrap_admin, create_user
    from oncosecours.store import db, history_write, snapshot
    from oncosecours.store.db import connect

    conn = connect(path)
    admin = bootstrap_admin(conn, "ADM", "Administrateur Banc", PIN)
    nurse = create_user(conn, admin, "IDE1", "Infirmière Banc", "infirmier", PIN)
    if isinstance(history_rows, str):
        from datetime import date, timedelta

        from oncosecours.refresh import synth
        from oncosecours.services.refresh import refresh_snapshot

        backup = path.with_name("sauvegarde-synthetique")
        synth.generate(backup, history_rows, seed, date.today() - timedelta(days=1))
        refresh_snapshot(conn, admin, backup)
        shutil.rmtree(backup, ignore_errors=True)
        db.checkpoint(conn)
        return {"conn": conn, "nurse": nurse}
    rng = random.Random(seed)
    patients = max(1, history_rows // 20)
    patient_rows = (
        (
            f"P{i:07d}",
            f"8{i:08d}",
            f"NOM{i}",
            f"Prénom{i % 97}",
            f"19{40 + i % 50}-0{1 + i % 9}-1{i % 10}",
            "MF"[i % 2],
        )
        for i in range(patients)
    )
    protocols = ("FOLFOX 4", "R-CHOP 21", "CARBOPLATINE-PACLITAXEL", "FEC 100", "GEMCITABINE")
    history_rows_made = (
        (
            i,
            f"P{rng.randrange(patients):07d}",
            f"202{rng.randrange(6)}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}",
            f"CHIMIO:D|{rng.randrange(200)}",
            rng.randrange(200),
            round(rng.uniform(10, 2000), 2),
            rng.choice(protocols),
            rng.randrange(600),
            1 + rng.randrange(12),
            rng.choice((1, 8, 15)),
            round(rng.uniform(10, 2000), 2),
            round(rng.uniform(10, 2000), 2),
            round(rng.uniform(40, 110), 1),
            round(rng.uniform(150, 195), 1),
            round(rng.uniform(40, 150), 1),
            "IV",
            rng.choice((30, 60, 90, 120, 1440)),
            round(rng.uniform(1.4, 2.3), 2),
            rng.randrange(10),
        )
        for i in range(history_rows)
    )
    with db.plain_transaction(conn):
        snapshot.insert_many(
            conn, snapshot.insert_sql("ref_patients", _PATIENT_COLUMNS), patient_rows
        )
        history_write.replace(
            conn, [dict(zip(_HISTORY_COLUMNS, row, strict=True)) for row in history_rows_made]
        )
    db.checkpoint(conn)
    return {"conn": conn, "nurse": nurse}


def _wait_background_snapshot(second: Path, started: float, timeout: float = 1800) -> float | None:
    """A large store's snapshot is written by a detached process: wait for it (its disk writes
    would slow the clicks measured next) and return how long it took."""
    from datetime import date

    from oncosecours.store import replica
    from oncosecours.store.replica import sync

    if not (sync.last_result or {}).get("instantane_en_cours"):
        return None
    folder = second / replica.SNAPSHOT_DIR
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*-{date.today().isoformat()}.sqlite.sha256")]
        snaps = [p.with_name(p.name[: -len(".sha256")]) for p in done]
        if snaps and all(p.exists() for p in snaps):
            return time.perf_counter() - started
        time.sleep(0.05)
    return None


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))] if ordered else float("nan")


def _cli_click(store: Path, settings: Path, text: str) -> float:
    env = dict(os.environ, ONCOSECOURS_PIN=PIN, ONCOSECOURS_SETTINGS=str(settings))
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "oncosecours", "note", "add", "--store", str(store)]
        + ["--user", "IDE1", "--patient", "900000001", "--text", text],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"clic CLI en échec : {done.stderr.strip()}")
    return elapsed


MODES = ("sans", "incrementale", "complete")
LABELS = {"sans": "sans copie", "incrementale": "copie incrémentale", "complete": "copie complète"}


def _use(mode: str, without, with_copy) -> None:
    from oncosecours.store import replica
    from oncosecours.store.replica import sync

    replica.use_settings(without if mode == "sans" else with_copy)  # the folder of this mode
    sync.MODE = "complete" if mode == "complete" else "auto"


def run(
    sizes: list[int | str],
    clicks: int = 30,
    *,
    work_dir: str | None = None,
    copy_dir: str | None = None,
    cli_clicks: int = 5,
    log: TextIO | None = None,
) -> dict[str, Any]:
    """Time ``clicks`` notes per mode and store size, modes interleaved click by click."""
    from oncosecours.services.notes import add_note
    from oncosecours.services.patients import create_patient
    from oncosecours.settings import load_settings
    from oncosecours.store import replica
    from oncosecours.store.replica import files, sync

    own = work_dir is None
    root = Path(work_dir or tempfile.mkdtemp(prefix="oncosecours-bench-replica-"))
    root.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for rows in sizes:
            case = root / f"base-{rows}"
            shutil.rmtree(case, ignore_errors=True)
            case.mkdir()
            medium = Path(copy_dir) if copy_dir else case
            second = medium / f"banc-{rows}-incrementale"
            second_full = medium / f"banc-{rows}-complete"
            for folder in (second, second_full):
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
            without_path = _settings_file(case / "sans-copie.toml", None)
            with_copy_path = _settings_file(case / "avec-copie.toml", second)
            without, with_copy = load_settings(without_path), load_settings(with_copy_path)
            with_full = load_settings(_settings_file(case / "complete.toml", second_full))
            if log:
                print(f"… base de {rows} lignes d'historique", file=log, flush=True)
            _use("sans", without, with_copy)
            built = build_store(case / "oncosecours.sqlite", rows)
            conn, nurse = built["conn"], built["nurse"]
            create_patient(
                conn,
                nurse,
                ipp="900000001",
                birth_name="BANC",
                first_name="Essai",
                birth_date="1960-01-01",
                sex="F",
            )
            size = files._store_bytes(conn)
            # the first click of the day: complete copy and dated snapshot
            _use("incrementale", without, with_copy)
            started = time.perf_counter()
            add_note(conn, nurse, "premier clic du jour", patient="900000001")
            first = (time.perf_counter() - started) * 1000
            background_s = _wait_background_snapshot(second, started)
            timings: dict[str, list[float]] = {mode: [] for mode in MODES}
            changed_rows: list[int] = []
            for i in range(clicks):  # without and incremental, interleaved click by click
                for mode in ("sans", "incrementale") if i % 2 == 0 else ("incrementale", "sans"):
                    _use(mode, without, with_copy)
                    started = time.perf_counter()
                    add_note(conn, nurse, f"note {mode} {i}", patient="900000001")
                    timings[mode].append((time.perf_counter() - started) * 1000)
                    if mode == "incrementale" and sync.last_result:
                        changed_rows.append(sync.last_result.get("lignes") or 0)
            # complete copies last, to their own folder: their megabytes of writes must not
            # slow the flushes of the other cases
            _use("complete", without, with_full)
            add_note(conn, nurse, "mise en route complète", patient="900000001")
            for i in range(clicks):
                started = time.perf_counter()
                add_note(conn, nurse, f"note complete {i}", patient="900000001")
                timings["complete"].append((time.perf_counter() - started) * 1000)
            _use("incrementale", without, with_copy)
            replica.use_settings(None)
            conn.close()
            cli: dict[str, list[float]] = {"sans": [], "incrementale": []}
            for i in range(cli_clicks):
                for mode in cli:
                    settings = without_path if mode == "sans" else with_copy_path
                    cli[mode].append(
                        _cli_click(case / "oncosecours.sqlite", settings, f"cli {mode} {i}")
                    )
            up_to_date = replica.read_head(second / "oncosecours.sqlite") == replica.read_head(
                case / "oncosecours.sqlite"
            )
            service = {m: {"mediane_ms": _median(v), "p90_ms": _p90(v)} for m, v in timings.items()}
            base = service["sans"]["mediane_ms"]
            process = {m: {"mediane_ms": _median(v)} for m, v in cli.items()}
            results.append(
                {
                    "lignes_historique": rows,
                    "taille_octets": size,
                    "clics": clicks,
                    "premier_clic_du_jour_ms": first,
                    "instantane_arriere_plan_s": background_s,
                    "service": service,
                    "ecart_ms": {m: service[m]["mediane_ms"] - base for m in MODES[1:]},
                    "ratio": {m: service[m]["mediane_ms"] / base for m in MODES[1:]},
                    "processus": process,
                    "processus_ecart_ms": process["incrementale"]["mediane_ms"]
                    - process["sans"]["mediane_ms"],
                    "processus_ratio": process["incrementale"]["mediane_ms"]
                    / process["sans"]["mediane_ms"],
                    "copie_a_jour": up_to_date,
                    "lignes_par_clic_incrementale": _median(changed_rows),
                    "second_support": str(second),
                }
            )
    finally:
        replica.use_settings(None)
        sync.MODE = "auto"
        if own:
            shutil.rmtree(root, ignore_errors=True)
    return {"cas": results, "python": sys.version.split()[0]}


def text(result: dict[str, Any]) -> str:
    def ms(value: float) -> str:
        return f"{value:.1f}".replace(".", ",")

    lines = [
        "Coût de la copie de secours sur un clic (ajout d'une note), même exécution, médianes :",
        "",
        f"{'historique':>10} {'taille':>8} | {'sans copie':>10} | {'incrémentale (écart, ratio)':>28}"
        f" | {'complète (écart, ratio)':>28} | {'processus sans → avec':>22} | {'1er clic':>8}",
    ]
    for case in result["cas"]:
        service, process = case["service"], case["processus"]

        def cell(mode: str, service=service, case=case) -> str:
            return (
                f"{ms(service[mode]['mediane_ms'])} ms (+{ms(case['ecart_ms'][mode])}, "
                f"{case['ratio'][mode]:.1f}×)"
            )

        lines.append(
            f"{case['lignes_historique']:>10} {case['taille_octets'] / 1e6:>5.1f} Mo | "
            f"{ms(service['sans']['mediane_ms']):>7} ms | {cell('incrementale'):>28} | "
            f"{cell('complete'):>28} | "
            f"{ms(process['sans']['mediane_ms']):>8} → {ms(process['incrementale']['mediane_ms'])} ms"
            f" (+{ms(case['processus_ecart_ms'])}) | {ms(case['premier_clic_du_jour_ms']):>5} ms"
            + ("" if case["copie_a_jour"] else "  (COPIE PAS À JOUR !)")
        )
    for case in result["cas"]:
        if case.get("instantane_arriere_plan_s"):
            lines.append(
                f"Base {case['lignes_historique']} : instantané du jour écrit en arrière-plan en "
                f"{case['instantane_arriere_plan_s']:.1f} s (le clic ne l'a pas attendu)".replace(
                    ".", ",", 1
                )
            )
    lines += [
        "",
        "Colonnes sans / incrémentale / complète : l'appel du service seul (coût marginal du clic).",
        "  incrémentale (le mode utilisé) : les lignes changées depuis la copie, une transaction",
        "  SQLite sur la copie ; complète (pour comparer) : image entière par l'API de sauvegarde.",
        "processus : une commande « oncosecours note add » entière (démarrage, PIN, action, copie",
        "  incrémentale), ce qu'attend un clic du ruban.",
        "1er clic : le tout premier vers un support vide (copie complète, et instantané du jour :",
        "  au-delà de 16 Mo celui-ci part dans un processus détaché que le clic n'attend pas).",
        "Le coût dépend du second support : mesurer le vrai avec --copy-dir (clé USB, partage).",
    ]
    return "\n".join(lines)
