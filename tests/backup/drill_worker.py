"""The drill's worker: a day of actions on a store, each acknowledgement logged (and flushed to
disk) right after the service returned; the drill SIGKILLs it at random moments.

``python drill_worker.py STORE ACK_FILE SEED [PAUSE]`` where PAUSE is ``txn:K`` (stop inside the
K-th action's transaction), ``hook:K`` (after the K-th commit, before its copy) or ``copy:K``
(inside the K-th incremental copy, its pages spilled into the copy file).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import date

PIN = "4826"
PROTOCOLS = ("mFOLFOX6", "R-CHOP 21", "CARBOPLATINE AUC5 - PACLITAXEL 175 J1=J21", "FOLFIRI")


def _pause_at(module, name: str, count: int, before=None) -> None:
    original = getattr(module, name)
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == count and before:
            before(*args)
        result = original(*args, **kwargs)
        if calls["n"] == count:
            print("pause", flush=True)
            time.sleep(120)
        return result

    setattr(module, name, wrapper)


def main() -> None:
    store, ack_path, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    pause = sys.argv[4] if len(sys.argv) > 4 else ""
    from oncosecours.domain.errors import OncoError
    from oncosecours.services.go_ahead import give_go_ahead
    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.notes import add_note
    from oncosecours.services.patients import create_patient, record_measurements
    from oncosecours.services.prescription import prescribe
    from oncosecours.services.users import authenticate
    from oncosecours.services.validation import validate_prescription
    from oncosecours.store import audit, replica
    from oncosecours.store.db import connect

    if pause:
        where, count = pause.split(":")
        if where == "txn":
            _pause_at(audit, "append", int(count))
        elif where == "hook":
            _pause_at(replica.sync, "replicate", int(count))
        elif where == "copy":
            spill = lambda copy: copy.execute("PRAGMA cache_size=1")  # noqa: E731
            _pause_at(replica.incremental, "_replay", int(count), before=spill)

    conn = connect(store)
    team = {i: authenticate(conn, i, PIN) for i in ("DR1", "PH1", "IDE1")}
    rng = random.Random(seed)
    ack = open(ack_path, "a", encoding="utf-8")  # noqa: SIM115 - the whole run

    def acknowledge(kind: str, key) -> None:
        seq, digest = conn.execute("SELECT last_seq, last_hash FROM audit_head").fetchone()
        ack.write(json.dumps({"kind": kind, "key": key, "seq": seq, "hash": digest}) + "\n")
        ack.flush()
        os.fsync(ack.fileno())

    print("pret", flush=True)
    today = date.today()
    for i in range(10_000):
        ipp = f"9{seed:02d}{i:05d}"
        try:
            create_patient(
                conn,
                team["IDE1"],
                ipp=ipp,
                birth_name="EXERCICE " + chr(65 + i % 26) + chr(65 + (i // 26) % 26),
                first_name=rng.choice(("Anne", "Louis", "Marie", "Paul")),
                birth_date=f"19{40 + i % 50}-0{1 + i % 9}-1{i % 10}",
                sex="MF"[i % 2],
                weight_kg=55 + rng.randrange(40),
                height_cm=155 + rng.randrange(35),
                creatinine_umol_l=60 + rng.randrange(40),
                confirm_homonym=True,
            )
            acknowledge("patient", ipp)
            record_measurements(conn, team["IDE1"], ipp, weight_kg=56 + rng.randrange(40))
            acknowledge("mesure", ipp)
            inclusion = include_patient(
                conn, team["DR1"], ipp, PROTOCOLS[i % len(PROTOCOLS)], today
            )
            acknowledge("inclusion", inclusion.get("id"))
            cure = inclusion["cures"][0]["id"]
            prescription = prescribe(conn, team["DR1"], cure, les_codes={"*": "I999999"})
            acknowledge("prescription", prescription["prescription_id"])
            try:
                validate_prescription(
                    conn, team["PH1"], prescription["prescription_id"], comment="exercice"
                )
                acknowledge("validation", prescription["prescription_id"])
                give_go_ahead(conn, team["DR1"], cure, today)
                acknowledge("feu_vert", cure)
            except OncoError as refusal:
                print("refus", refusal, flush=True)
            note = add_note(conn, team["IDE1"], f"exercice {seed} n° {i}", patient=ipp)
            acknowledge("note", note["id"])
        except OncoError as refusal:
            print("refus", refusal, flush=True)


if __name__ == "__main__":
    main()
