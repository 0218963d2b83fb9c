"""Worker processes of the production tests, run as scripts (real processes on one store file).

``prepare STORE LINE_ID LOTS_JSON NOW READY_FILE GO_FILE OUT_FILE``: open the store, authenticate,
signal ready, wait for the go file, prepare the line, write the result as JSON.

``circuit STORE NOW``: run the day's circuit step after step (go-ahead, prepare, lots, control,
release, dispense, administer) until nothing is left; the kill test SIGKILLs it at random moments.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path


def _actor(conn, initials: str):
    from oncosecours.services.users import authenticate

    return authenticate(conn, initials, "4826")


def prepare_one(store, line_id, lots_json, now, ready, go, out) -> None:
    from oncosecours.domain.errors import OncoError
    from oncosecours.services.preparation import prepare
    from oncosecours.store.db import connect

    conn = connect(store)
    actor = _actor(conn, "PR1")
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.001)
    try:
        sheet = prepare(
            conn, actor, int(line_id), lots=json.loads(lots_json), now=datetime.fromisoformat(now)
        )
        result = {"ok": True, "number": sheet["ord_number"], "id": sheet["id"]}
    except OncoError as error:
        result = {"ok": False, "error": str(error)}
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def run_circuit(store, now) -> None:
    """Move every line of the day one step at a time until all are administered."""
    from oncosecours.services.administration import administer
    from oncosecours.services.day_status import day_status
    from oncosecours.services.dispensing import dispense
    from oncosecours.services.go_ahead import give_go_ahead
    from oncosecours.services.preparation import prepare, record_lots
    from oncosecours.services.preparation_queries import preparation_sheet
    from oncosecours.services.release import control_preparation, release_preparation
    from oncosecours.store.db import connect

    moment = datetime.fromisoformat(now)
    conn = connect(store)
    team = {i: _actor(conn, i) for i in ("DR1", "PR1", "PR2", "PH1", "IDE1")}
    print("ready", flush=True)
    while True:
        rows = [r for r in day_status(conn, moment.date(), now=moment) if r["blocking"]]
        if not rows:
            break
        given = set()
        for row in rows:
            state, prep = row["state"], row["preparation_id"]
            if state == "validated":
                if row["cure_id"] not in given:
                    give_go_ahead(conn, team["DR1"], row["cure_id"], moment.date(), now=moment)
                    given.add(row["cure_id"])
            elif state == "go_ahead" and row["needs_preparation"]:
                prepare(conn, team["PR1"], row["line_id"], now=moment)
            elif state == "go_ahead":
                administer(
                    conn,
                    team["IDE1"],
                    line_id=row["line_id"],
                    started_at=moment,
                    ended_at=moment,
                    now=moment,
                )
            elif state == "prepared":
                sheet = preparation_sheet(conn, prep)
                if not sheet["lots_complete"]:
                    lots = [
                        {
                            "kind": "flacon",
                            "component": p["name"],
                            "lot": "K1",
                            "expiry": "12/2027",
                            "quantity": p["count"],
                        }
                        for p in sheet["products"]
                    ] + [
                        {
                            "kind": "diluant",
                            "component": sheet["diluent"],
                            "lot": "K2",
                            "expiry": "12/2027",
                        }
                    ]
                    record_lots(conn, team["PR1"], prep, lots, now=moment)
                else:
                    control_preparation(
                        conn,
                        team["PR2"],
                        prep,
                        sheet["target_weight_g"],
                        visual_ok=True,
                        now=moment,
                    )
            elif state == "controlled":
                release_preparation(conn, team["PH1"], prep, now=moment)
            elif state == "released":
                dispense(
                    conn, team["PR1"], prep, recipient="IDE", ward="HDJ", at=moment, now=moment
                )
            elif state == "dispensed":
                administer(
                    conn,
                    team["IDE1"],
                    preparation=prep,
                    started_at=moment,
                    ended_at=moment,
                    now=moment,
                )
            print(f"{state} {row['line_id']}", flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"prepare": prepare_one, "circuit": run_circuit}[command](*arguments)
