"""One workstation of the concurrency test, run as a script (a real process, its own
connection): ``STORE NOW READY GO OUT LINE_IDS_JSON``. Opens the register (SQLite file or, by
its settings, the unit's server), authenticates, signals ready, waits for the go file, then
prepares each line and writes the numbers drawn, in order, as JSON."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path


def main(store, now, ready, go, out, line_ids) -> None:
    from oncosecours.domain.errors import OncoError
    from oncosecours.services.preparation import prepare
    from oncosecours.services.users import authenticate
    from oncosecours.store.db import connect

    conn = connect(store)
    actor = authenticate(conn, "PR1", "4826")
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.001)
    moment = datetime.fromisoformat(now)
    numbers, refused = [], []
    for line_id in json.loads(line_ids):
        try:
            numbers.append(prepare(conn, actor, int(line_id), now=moment)["ord_number"])
        except OncoError as error:
            refused.append(str(error))
    conn.close()
    Path(out).write_text(json.dumps({"numbers": numbers, "refused": refused}), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
