"""Worker of the cancellation kill test, run as a script on one store file.

``STORE NOW``: withdraw the go-ahead of every cure that has no bag, cancel (as a pharmacist) every
cure that has bags, then stop every active inclusion; one action at a time, printing each one.
The test SIGKILLs it at random moments and checks that no action was half written.
"""

from __future__ import annotations

import sys
from datetime import datetime


def run(store: str, now: str) -> None:
    from oncosecours.services.cancellation import cancel_cure, stop_inclusion
    from oncosecours.services.go_ahead import withdraw_go_ahead
    from oncosecours.services.users import authenticate
    from oncosecours.store.db import connect

    moment = datetime.fromisoformat(now)
    conn = connect(store)
    doctor = authenticate(conn, "DR1", "4826")
    pharmacist = authenticate(conn, "PH1", "4826")
    print("ready", flush=True)
    for cure_id, state in conn.execute("SELECT id, state FROM cures ORDER BY id").fetchall():
        if state != "go_ahead":
            continue
        bags = conn.execute(
            "SELECT count(*) FROM preparations WHERE cure_id = ? AND state != 'cancelled'",
            (cure_id,),
        ).fetchone()[0]
        if bags:
            cancel_cure(conn, pharmacist, cure_id, "arrêt du traitement", now=moment)
            print(f"cancel {cure_id}", flush=True)
        else:
            withdraw_go_ahead(conn, doctor, cure_id, "patient absent", now=moment)
            print(f"withdraw {cure_id}", flush=True)
    for (inclusion_id,) in conn.execute(
        "SELECT id FROM inclusions WHERE state = 'active' ORDER BY id"
    ).fetchall():
        stop_inclusion(conn, pharmacist, inclusion_id, "fin de la prise en charge", now=moment)
        print(f"stop {inclusion_id}", flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    run(*sys.argv[1:])
