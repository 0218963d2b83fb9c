"""Benchmark: the cold start of a ribbon click's Python process against ``import xlwings``.

RunPython starts ``python -c "import xlwings.utils; ...; <command>"`` for every click, so the
interpreter start-up and ``import xlwings`` (which imports pandas when it is installed) are paid
anyway; what the project controls is what a click adds on top. Each probe is a fresh process,
timed from the outside, in the same run, interleaved (round robin) so that drift hits all alike.

The click processes run the real entry point (``oncosecours.excel.ribbon.run``) on a real store,
against a :class:`~oncosecours.excel.memorybook.MemoryBook` (loaded from JSON) in place of Excel.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError

CLICK = (
    "import xlwings.utils;xlwings.utils.prepare_sys_path('false;;;;;;');"
    "import xlwings as xw;from oncosecours.excel.memorybook import MemoryBook;"
    "b=MemoryBook.from_json(open({book!r},encoding='utf-8').read());"
    "xw.Book.caller=classmethod(lambda c:b);{before}"
    "import oncosecours.excel.ribbon as r;r.run({tag!r});"
    "import json;print(json.dumps([a['prompt'] for a in b.app.alerts]))"
)
IMPORTS_ONLY = (
    "import xlwings.utils;import xlwings;import oncosecours.excel.ribbon;"
    "import oncosecours.excel.context;import oncosecours.excel.actions.validation;"
    "import oncosecours.services.validation;import oncosecours.excel.views"
)
LOAD_ONLY = (
    "import xlwings.utils;import xlwings;from oncosecours.excel.memorybook import MemoryBook;"
    "MemoryBook.from_json(open({book!r},encoding='utf-8').read())"
)
BASELINE = "python -c 'import xlwings'"
USER, PIN, IPP = "BANC", "3917", "9999001"


def _prepare(folder: Path) -> Path:
    """A store with one user and one patient, the workbook built on it, the user logged in."""
    from oncosecours.excel.builder import build_workbook
    from oncosecours.excel.layout import load_layout
    from oncosecours.excel.memorybook import MemoryBook
    from oncosecours.services.patients import create_patient
    from oncosecours.services.users import bootstrap_admin, create_user
    from oncosecours.store.db import connect

    store = folder / "oncosecours.sqlite"
    conn = connect(store)
    admin = bootstrap_admin(conn, "ADM", "Administrateur du banc", "7391")
    nurse = create_user(conn, admin, USER, "Infirmière du banc", "infirmier", PIN)
    create_patient(
        conn,
        nurse,
        birth_name="BANC",
        first_name="Essai",
        birth_date="1970-01-01",
        sex="F",
        ipp=IPP,
    )
    conn.close()
    path = build_workbook(folder / "OncoSecours.xlsm", store=store)
    book = MemoryBook.from_xlsm(path)
    layout = load_layout()
    book.type("Accueil", layout.sheet("Accueil").field("utilisateur").cell, USER)
    notes = layout.sheet("Notes")
    book.type("Notes", notes.field("patient").cell, IPP)
    book.type("Notes", notes.field("texte").cell, "note du banc d'essai")
    target = folder / "book.json"
    target.write_text(book.to_json(), encoding="utf-8")
    return target


def _time(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise OncoError(f"processus du banc en échec : {done.stderr.strip()[-400:]}")
    return elapsed, done.stdout


def run(runs: int = 7, actions: tuple[str, ...] = ("journal", "note")) -> dict[str, Any]:
    import compileall

    import oncosecours

    # an installed kit has its bytecode compiled by pip; RunPython's ``-B`` only stops writing it
    compileall.compile_dir(Path(oncosecours.__file__).parent, quiet=1)
    folder = Path(tempfile.mkdtemp(prefix="oncosecours-bench-click-"))
    try:
        book = _prepare(folder)
        env = dict(os.environ, ONCOSECOURS_PIN=PIN, ONCOSECOURS_USER=USER)
        env.pop("ONCOSECOURS_STORE", None)
        python = sys.executable
        probes: dict[str, list[str]] = {
            "python -c pass": [python, "-B", "-c", "pass"],
            BASELINE: [python, "-B", "-c", "import xlwings"],
            "imports d'un clic « valider »": [python, "-B", "-c", IMPORTS_ONLY],
            "classeur factice (chargement seul)": [
                python,
                "-B",
                "-c",
                LOAD_ONLY.format(book=str(book)),
            ],
        }
        from oncosecours.excel.layout import load_layout

        text_cell = load_layout().sheet("Notes").field("texte").cell
        before = {  # the notes service refuses the same note twice (double click): vary it
            "note": f"b.type('Notes',{text_cell!r},'note du banc '+str(__import__('time').time_ns()));"
        }
        for tag in actions:
            probes[f"clic « {tag} »"] = [
                python,
                "-B",
                "-c",
                CLICK.format(book=str(book), tag=tag, before=before.get(tag, "")),
            ]
        timings: dict[str, list[float]] = {name: [] for name in probes}
        for round_ in range(runs + 1):  # round 0 warms the disk cache, not counted
            for name, command in probes.items():
                elapsed, out = _time(command, env)
                if name.startswith("clic ") and out.strip() and json.loads(out) != []:
                    raise OncoError(f"{name} refusé : {' '.join(json.loads(out))}")
                if round_:
                    timings[name].append(elapsed)
        medians = {name: statistics.median(values) for name, values in timings.items()}
        minima = {name: min(values) for name, values in timings.items()}
        base, base_min = medians[BASELINE], minima[BASELINE]
        return {
            "runs": runs,
            "python": sys.version.split()[0],
            "medians_s": medians,
            "min_s": minima,
            "ratios_vs_import_xlwings": {name: value / base for name, value in medians.items()},
            "min_ratios_vs_import_xlwings": {
                name: value / base_min for name, value in minima.items()
            },
            "target_ratio": 1.3,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def text(result: dict[str, Any]) -> str:
    lines = [
        f"Démarrage à froid d'un clic du ruban ({result['runs']} processus par mesure, "
        f"Python {result['python']}) :",
        f"  {'mesure':<34} {'médiane':>9} {'ratio':>7}   {'minimum':>9} {'ratio':>7}",
    ]
    for name, value in result["medians_s"].items():
        ratio = result["ratios_vs_import_xlwings"][name]
        low = result["min_s"][name]
        low_ratio = result["min_ratios_vs_import_xlwings"][name]
        lines.append(
            f"  {name:<34} {value * 1000:7.0f} ms  × {ratio:.2f}   {low * 1000:7.0f} ms  "
            f"× {low_ratio:.2f}"
        )
    worst = max(v for k, v in result["ratios_vs_import_xlwings"].items() if k.startswith("clic "))
    verdict = "atteint" if worst <= result["target_ratio"] else "NON atteint"
    lines.append(
        f"Objectif : un clic ≤ {result['target_ratio']:g} × « import xlwings » (médianes ; le "
        f"pire : × {worst:.2f}) : {verdict}. Les clics comprennent le chargement du classeur "
        "factice (ligne « classeur factice »), qu'Excel remplace par ses appels COM."
    )
    return "\n".join(lines)
