"""``oncosecours bench audit``: how long ``audit verify`` takes (chain, every row, anchors).

Measured on a store given with ``--store`` (e.g. the demo's) and on a synthetic crisis of
``--weeks`` weeks built with the application's own services on a synthetic Chimio backup: every
day new patients are created and included, the cures falling that day are prescribed and
validated, then each of their lines goes through the whole circuit (go-ahead, preparation, lots,
control, release, dispensing, administration). Each verify is repeated and the best time kept.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

PIN = "4826"
TEAM = {
    "DR1": ("Dr Banc Prescriptrice", "prescripteur"),
    "PH1": ("Banc Pharmacienne", "pharmacien"),
    "PR1": ("Banc Préparateur", "préparateur"),
    "PR2": ("Banc Préparatrice", "préparateur"),
    "IDE1": ("Banc Infirmière", "infirmier"),
}


def measure(path: Path, repeat: int = 3) -> dict[str, Any]:
    """Best of ``repeat`` verifications of the store at ``path`` (opened afresh each time)."""
    from oncosecours.store.db import connect
    from oncosecours.store.integrity import verify_store
    from oncosecours.store.ledger import ledger_size

    runs = []
    report = None
    for _ in range(repeat):
        conn = connect(path, create=False)
        try:
            report = verify_store(conn)
        finally:
            conn.close()
        runs.append(report.seconds)
    assert report is not None
    conn = connect(path, create=False)
    try:
        rows, ledger_bytes = ledger_size(conn)
    finally:
        conn.close()
    return {
        "base": str(path),
        "octets": path.stat().st_size,
        "ok": report.ok,
        "evenements": report.chain.events,
        "lignes_comparees": report.rows.rows,
        "ecritures": rows,
        "octets_journal_lignes": ledger_bytes,
        "secondes": min(runs),
        "essais": runs,
        "durees": report.timings,
    }


def _name(number: int) -> str:
    """A distinct fictitious birth name per patient (names have no digits)."""
    letters = ""
    number += 26 * 26
    while number:
        number, rest = divmod(number, 26)
        letters = chr(65 + rest) + letters
    return "BANC" + letters


def _circuit(conn, team: dict, moment: datetime, counts: dict[str, int]) -> None:
    """Every line of the day one step at a time until nothing is left to do."""
    from oncosecours.domain.errors import OncoError
    from oncosecours.services.administration import administer
    from oncosecours.services.day_status import day_status
    from oncosecours.services.dispensing import dispense
    from oncosecours.services.go_ahead import give_go_ahead
    from oncosecours.services.preparation import preparation_sheet, prepare, record_lots
    from oncosecours.services.release import control_preparation, release_preparation

    stuck: set[int] = set()
    for _ in range(12):
        rows = [
            r
            for r in day_status(conn, moment.date(), now=moment)
            if r["blocking"] and r["line_id"] not in stuck
        ]
        if not rows:
            return
        given: set[int] = set()
        for row in rows:
            state, prep = row["state"], row["preparation_id"]
            try:
                if state == "validated" and row["cure_id"] not in given:
                    give_go_ahead(conn, team["DR1"], row["cure_id"], moment.date(), now=moment)
                    given.add(row["cure_id"])
                elif state == "go_ahead" and row["needs_preparation"]:
                    prepare(conn, team["PR1"], row["line_id"], now=moment)
                elif state in ("go_ahead", "dispensed"):
                    where = {"line_id": row["line_id"]} if state == "go_ahead" else {}
                    administer(conn, team["IDE1"], **where, preparation=prep if prep else None,
                               started_at=moment, ended_at=moment, now=moment)  # fmt: skip
                elif state == "prepared":
                    sheet = preparation_sheet(conn, prep)
                    if not sheet["lots_complete"]:
                        lots = [
                            {"kind": "flacon", "component": p["name"], "lot": "K1",
                             "expiry": "12/2030", "quantity": p["count"]}
                            for p in sheet["products"]
                        ]  # fmt: skip
                        if sheet.get("diluent"):
                            lots.append({"kind": "diluant", "component": sheet["diluent"],
                                         "lot": "K2", "expiry": "12/2030"})  # fmt: skip
                        record_lots(conn, team["PR1"], prep, lots, now=moment)
                    else:
                        control_preparation(conn, team["PR2"], prep, sheet["target_weight_g"],
                                            visual_ok=True, now=moment)  # fmt: skip
                elif state == "controlled":
                    release_preparation(conn, team["PH1"], prep, now=moment)
                elif state == "released":
                    dispense(conn, team["PR1"], prep, recipient="IDE", ward="HDJ", at=moment,
                             now=moment)  # fmt: skip
                else:
                    continue
                counts["etapes"] += 1
            except OncoError:
                counts["refus"] += 1
                stuck.add(row["line_id"])


def build_crisis(
    path: Path, weeks: int, per_day: int, seed: int, say: Callable[[str], None] = lambda _m: None
) -> dict[str, int]:
    """A crisis of ``weeks`` weeks in a new store at ``path`` (see the module docstring)."""
    from oncosecours import clock
    from oncosecours.domain.checks import blocking_rules
    from oncosecours.domain.errors import OncoError
    from oncosecours.refresh import synth
    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.notes import add_note
    from oncosecours.services.patients import create_patient
    from oncosecours.services.prescription import prescribe
    from oncosecours.services.refresh import refresh_snapshot
    from oncosecours.services.users import bootstrap_admin, create_user
    from oncosecours.services.validation import findings_for, validate_prescription
    from oncosecours.store import prescriptions, reference
    from oncosecours.store.db import connect

    rng = random.Random(seed)
    start = date.today() - timedelta(days=7 * weeks)
    counts = {"patients": 0, "prescriptions": 0, "etapes": 0, "refus": 0}
    conn = connect(path)
    backup = Path(tempfile.mkdtemp(prefix="oncosecours-bench-audit-"))
    try:
        with clock.use(lambda: datetime.combine(start, datetime.min.time()).astimezone()):
            admin = bootstrap_admin(conn, "ADM", "Administrateur Banc", "7391")
            team = {i: create_user(conn, admin, i, n, r, PIN) for i, (n, r) in TEAM.items()}
            synth.generate(backup / "sauvegarde", "small", seed, start - timedelta(days=1))
            refresh_snapshot(conn, team["PH1"], backup / "sauvegarde", today=start)
        protocols = reference.protocols_with_chemotherapy(conn)
        for offset in range(7 * weeks):
            day = start + timedelta(days=offset)
            moment = datetime.combine(day, datetime.min.time()).astimezone() + timedelta(hours=8)
            with clock.use(lambda m=moment: m):
                for n in range(per_day):
                    try:
                        person = create_patient(
                            conn, team["DR1"], birth_name=_name(offset * per_day + n),
                            first_name="Patient", birth_date=f"19{40 + rng.randrange(50)}-0{1 + rng.randrange(9)}-1{rng.randrange(9)}",
                            sex=rng.choice("MF"), ipp=f"95{offset:03d}{n:03d}",
                            weight_kg=rng.uniform(50, 95), height_cm=rng.uniform(150, 190),
                            creatinine_umol_l=rng.uniform(50, 110), measured_on=day, today=day,
                        )  # fmt: skip
                        include_patient(conn, team["DR1"], person["id"], rng.choice(protocols),
                                        day, today=day)  # fmt: skip
                        counts["patients"] += 1
                    except OncoError:
                        counts["refus"] += 1
                for cure_id in prescriptions.planned_cures_on(conn, day.isoformat()):
                    try:
                        draft = prescribe(conn, team["DR1"], cure_id, today=day,
                                          les_codes={"*": "I999999"})  # fmt: skip
                        findings = findings_for(conn, draft["prescription_id"], today=day)
                        validate_prescription(
                            conn, team["PH1"], draft["prescription_id"], today=day,
                            justifications={r: "banc" for r in blocking_rules(findings)},
                        )  # fmt: skip
                        add_note(conn, team["IDE1"], "cure du jour",
                                 prescription_id=draft["prescription_id"])  # fmt: skip
                        counts["prescriptions"] += 1
                    except OncoError:
                        counts["refus"] += 1
                _circuit(conn, team, moment, counts)
            if offset % 7 == 6:
                say(f"semaine {offset // 7 + 1} : {counts}")
    finally:
        conn.close()
        shutil.rmtree(backup, ignore_errors=True)
    return counts


def run(
    store: str | None, weeks: int, per_day: int, seed: int, say: Callable[[str], None]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if store:
        say(f"Vérification de {store}…")
        results["base_donnee"] = measure(Path(store))
    folder = Path(tempfile.mkdtemp(prefix="oncosecours-bench-crise-"))
    try:
        path = folder / "crise.sqlite"
        started = time.perf_counter()
        say(f"Crise synthétique de {weeks} semaines ({per_day} nouveaux patients par jour)…")
        counts = build_crisis(path, weeks, per_day, seed, say)
        results["crise"] = {
            "semaines": weeks,
            "generation_s": time.perf_counter() - started,
            **counts,
            **measure(path),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return results


def report(results: dict[str, Any]) -> str:
    lines = []
    for key, label in (("base_donnee", "Base fournie"), ("crise", "Crise synthétique")):
        r = results.get(key)
        if not r:
            continue
        extra = f" ({r['semaines']} semaines, {r['prescriptions']} prescriptions, " \
                f"{r['etapes']} étapes du circuit)" if key == "crise" else ""  # fmt: skip
        lines.append(
            f"{label}{extra} : audit verify {r['secondes']:.2f} s (meilleur de "
            f"{len(r['essais'])}) — {r['evenements']} événements, {r['lignes_comparees']} lignes "
            f"comparées, {r['ecritures']} écritures ({r['octets_journal_lignes'] / 1e6:.1f} Mo), "
            f"base {r['octets'] / 1e6:.1f} Mo ; "
            + ", ".join(f"{k} {v:.2f} s" for k, v in r["durees"].items())
            + ("" if r["ok"] else " — ÉCHEC DE LA VÉRIFICATION")
        )
    return "\n".join(lines)
