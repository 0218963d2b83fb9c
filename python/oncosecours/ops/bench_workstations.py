"""``oncosecours bench workstations``: several workstations at once, SQLite against the unit's
PostgreSQL server, and the refresh on both engines against pyarrow's bare parse.

1. **Clients.** For each engine and each number of clients (1, 4, 8), that many processes
   each play a day's mix for their own patients (create, include, prescribe, validate,
   go-ahead, prepare, lots, control, release, dispense, administer, and the day's status read
   before each write, as the sheets do) on one store; throughput (actions per second, all
   clients) and p50/p95 latency of an action.
2. **Refresh.** The same synthetic backup read by pyarrow alone, refreshed into SQLite, and into
   PostgreSQL (COPY), each in its own process, best of ``repeat`` runs: ratios from one run.

The server is a scratch one (:mod:`oncosecours.server.scratch`), never the unit's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

PIN = "4826"
TEAM = (("DR1", "prescripteur"), ("PH1", "pharmacien"), ("PR1", "préparateur"),
        ("PR2", "préparateur"), ("IDE1", "infirmier"))  # fmt: skip
PROTOCOL = "mFOLFOX6"


# --- one client (a child process) ------------------------------------------------------------


def _client(store: str, index: int, patients: int, ready: str, go: str, out: str) -> None:
    from oncosecours.domain.checks import blocking_rules
    from oncosecours.qualification.oq_checks import compounded_lines, lots_for
    from oncosecours.services.administration import administer
    from oncosecours.services.day_status import day_status
    from oncosecours.services.dispensing import dispense
    from oncosecours.services.go_ahead import give_go_ahead
    from oncosecours.services.inclusion import find_protocol, include_patient
    from oncosecours.services.patients import create_patient
    from oncosecours.services.preparation import prepare, record_lots
    from oncosecours.services.prescription import prescribe
    from oncosecours.services.release import control_preparation, release_preparation
    from oncosecours.services.users import authenticate
    from oncosecours.services.validation import findings_for, validate_prescription
    from oncosecours.store.db import connect

    conn = connect(store)
    team = {initials: authenticate(conn, initials, PIN) for initials, _ in TEAM}
    protocol = find_protocol(conn, PROTOCOL)["protocol_id"]
    day = date.today()
    timings: dict[str, list[float]] = {}

    def timed(name: str, call, *args, **kwargs):
        started = time.perf_counter()
        result = call(conn, *args, **kwargs)
        timings.setdefault(name, []).append(time.perf_counter() - started)
        return result

    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.001)
    begun = time.perf_counter()
    for n in range(patients):
        letters = "".join(chr(65 + int(d)) for d in f"{index:02d}{n:04d}")
        timed("lire l'état du jour", day_status, day)
        person = timed("créer le patient", create_patient, team["DR1"],
                       birth_name=f"BANC{letters}", first_name="Poste",
                       birth_date=f"19{50 + n % 40}-03-0{1 + index % 9}", sex="F",
                       ipp=f"B{index:02d}{n:05d}", weight_kg=60 + n % 20, height_cm=165,
                       creatinine_umol_l=70, measured_on=day, today=day)  # fmt: skip
        inclusion = timed("inclure", include_patient, team["DR1"], person["id"], protocol, day,
                          today=day)  # fmt: skip
        cure = inclusion["cures"][0]["id"]
        pid = timed("prescrire", prescribe, team["DR1"], cure, today=day)["prescription_id"]
        reasons = {r: "banc d'essai" for r in blocking_rules(findings_for(conn, pid, today=day))}
        timed("valider", validate_prescription, team["PH1"], pid, today=day,
              justifications=reasons)  # fmt: skip
        timed("feu vert", give_go_ahead, team["DR1"], cure, day)
        for line in compounded_lines(conn, pid, day):
            timed("lire l'état du jour", day_status, day)
            sheet = timed("préparer", prepare, team["PR1"], line["id"])
            lots = lots_for(sheet, day + timedelta(days=365))
            timed("saisir les lots", record_lots, team["PR1"], sheet["id"], lots)
            timed("contrôler", control_preparation, team["PR2"], sheet["id"],
                  sheet["target_weight_g"], visual_ok=True)  # fmt: skip
            timed("libérer", release_preparation, team["PH1"], sheet["id"])
            timed("dispenser", dispense, team["PR1"], sheet["id"], recipient="IDE banc",
                  ward="Hôpital de jour")  # fmt: skip
            now = datetime.now()
            timed("administrer", administer, team["IDE1"], line_id=line["id"], started_at=now,
                  ended_at=now)  # fmt: skip
    elapsed = time.perf_counter() - begun
    conn.close()
    Path(out).write_text(json.dumps({"seconds": elapsed, "timings": timings}), encoding="utf-8")


# --- the parent ----------------------------------------------------------------------------


def _make_store(store: Path, backup: Path, env: dict[str, str]) -> None:
    code = (
        "import sys\n"
        "from oncosecours.services.refresh import refresh_snapshot\n"
        "from oncosecours.services.users import bootstrap_admin, create_user\n"
        "from oncosecours.store.db import connect\n"
        "conn = connect(sys.argv[1])\n"
        f"admin = bootstrap_admin(conn, 'ADM', 'Admin banc', '{PIN}')\n"
        f"for i, r in {TEAM!r}: create_user(conn, admin, i, 'Banc ' + i, r, '{PIN}')\n"
        "refresh_snapshot(conn, admin, sys.argv[2])\n"
        "conn.close()\n"
    )
    subprocess.run([sys.executable, "-c", code, str(store), str(backup)], check=True, env=env)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _clients(store: Path, env: dict[str, str], clients: int, patients: int, tmp: Path) -> dict:
    from oncosecours.domain.errors import OncoError

    go = tmp / f"go-{clients}"
    procs, readies, outs = [], [], []
    for i in range(clients):
        ready, out = tmp / f"ready-{clients}-{i}", tmp / f"out-{clients}-{i}.json"
        readies.append(ready)
        outs.append(out)
        command = [sys.executable, "-m", "oncosecours.ops.bench_workstations", "client",
                   str(store), str(i), str(patients), str(ready), str(go), str(out)]  # fmt: skip
        procs.append(subprocess.Popen(command, env=env))
    while not all(r.exists() for r in readies):
        if any(p.poll() not in (None, 0) for p in procs):
            raise OncoError("Un poste du banc d'essai s'est arrêté au démarrage")
        time.sleep(0.01)
    started = time.perf_counter()
    go.touch()
    for proc in procs:
        if proc.wait() != 0:
            raise OncoError("Un poste du banc d'essai a échoué (voir son message ci-dessus)")
    wall = time.perf_counter() - started
    latencies: list[float] = []
    by_action: dict[str, list[float]] = {}
    for out in outs:
        for name, values in json.loads(out.read_text(encoding="utf-8"))["timings"].items():
            latencies += values
            by_action.setdefault(name, []).extend(values)
    return {
        "clients": clients,
        "actions": len(latencies),
        "secondes": wall,
        "actions_par_s": len(latencies) / wall,
        "p50_ms": 1000 * _percentile(latencies, 0.50),
        "p95_ms": 1000 * _percentile(latencies, 0.95),
        "p95_ms_par_action": {k: 1000 * _percentile(v, 0.95) for k, v in sorted(by_action.items())},
    }


def run(clients: tuple[int, ...] = (1, 4, 8), patients: int = 6, scale: str = "large",
        repeat: int = 3, progress=None) -> dict[str, Any]:  # fmt: skip
    """Measure; returns the numbers (see the module's docstring)."""
    from oncosecours.ops import bench_refresh
    from oncosecours.server.scratch import ScratchServer

    say = progress or (lambda _message: None)
    results: dict[str, Any] = {
        "clients": {},
        "patients_par_client": patients,
        "cpus": os.cpu_count(),
    }
    say("Démarrage d'un serveur PostgreSQL d'essai…")
    server = ScratchServer()
    try:
        with tempfile.TemporaryDirectory(prefix="oncosecours-bench-postes-") as folder:
            tmp = Path(folder)
            small = tmp / "sauvegarde-petite"
            bench_refresh._child("synth", str(small), "small", "1")
            for engine in ("sqlite", "postgresql"):
                for count in clients:
                    env = dict(os.environ)
                    store = tmp / f"{engine}-{count}.sqlite"
                    if engine == "postgresql":
                        settings = tmp / f"etablissement-{count}.toml"
                        settings.write_text(server.settings_text(server.database()), "utf-8")
                        env["ONCOSECOURS_SETTINGS"] = str(settings)
                    else:
                        env.pop("ONCOSECOURS_SETTINGS", None)
                    _make_store(store, small, env)
                    say(f"Mesure : {count} poste(s) sur {engine}…")
                    results["clients"].setdefault(engine, []).append(
                        _clients(store, env, count, patients, tmp)
                    )
            backup = tmp / f"sauvegarde-{scale}"
            say(f"Génération de la sauvegarde synthétique « {scale} »…")
            bench_refresh._child("synth", str(backup), scale, "1")
            bench_refresh.settle()
            say(f"Mesure : pyarrow seul ({repeat} fois)…")
            parse = bench_refresh._child("parse", str(backup), str(repeat))
            say(f"Mesure : actualisation SQLite ({1 + repeat} fois)…")
            env = {k: v for k, v in os.environ.items() if k != "ONCOSECOURS_SETTINGS"}
            lite = bench_refresh._child("refresh", str(backup), str(tmp / "refresh.sqlite"),
                                        str(repeat), env=env)  # fmt: skip
            say(f"Mesure : actualisation PostgreSQL par COPY ({1 + repeat} fois)…")
            settings = tmp / "etablissement-refresh.toml"
            settings.write_text(server.settings_text(server.database()), "utf-8")
            pg = bench_refresh._child("refresh", str(backup), str(tmp / "refresh-pg.sqlite"),
                                      str(repeat), env={**env, "ONCOSECOURS_SETTINGS": str(settings)})  # fmt: skip
    finally:
        server.close()
    baseline = min(m["seconds"] for m in parse["modes"].values())
    best = {name: min(r["seconds"] for r in runs["runs"][1:]) for name, runs in
            (("sqlite", lite), ("postgresql", pg))}  # fmt: skip
    results["actualisation"] = {
        "echelle": scale,
        "pyarrow_s": baseline,
        "sqlite_s": best["sqlite"],
        "postgresql_copy_s": best["postgresql"],
        "sqlite_sur_pyarrow": best["sqlite"] / baseline,
        "postgresql_sur_pyarrow": best["postgresql"] / baseline,
        "postgresql_sur_sqlite": best["postgresql"] / best["sqlite"],
        "premiere_sqlite_s": lite["runs"][0]["seconds"],
        "premiere_postgresql_s": pg["runs"][0]["seconds"],
    }
    return results


def report(numbers: dict[str, Any]) -> str:
    lines = [f"Postes simultanés ({numbers['patients_par_client']} patients par poste, circuit "
             f"complet ; {numbers['cpus']} processeurs) :"]  # fmt: skip
    for engine, rows in numbers["clients"].items():
        for row in rows:
            lines.append(
                f"  {engine:<10} {row['clients']} poste(s) : {row['actions']:>5} actions en "
                f"{row['secondes']:6.1f} s, {row['actions_par_s']:6.1f} actions/s, "
                f"p50 {row['p50_ms']:6.1f} ms, p95 {row['p95_ms']:6.1f} ms"
            )
    r = numbers["actualisation"]
    lines += [
        f"Actualisation (jeu « {r['echelle']} », meilleur remplacement) :",
        f"  pyarrow seul             : {r['pyarrow_s']:7.2f} s",
        f"  SQLite                   : {r['sqlite_s']:7.2f} s  (× {r['sqlite_sur_pyarrow']:.1f})",
        f"  PostgreSQL (COPY)        : {r['postgresql_copy_s']:7.2f} s  "
        f"(× {r['postgresql_sur_pyarrow']:.1f} ; × {r['postgresql_sur_sqlite']:.2f} SQLite)",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "client":
        _client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), *sys.argv[5:8])
