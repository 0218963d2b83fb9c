"""``oncosecours status --date D``: every cure and line of a day, its state and what blocks it,
under one line on the second copy of the store (``oncosecours backup status`` for the detail)."""

from __future__ import annotations

import argparse

from oncosecours.commands._common import add_common, emit, open_store, run_query

STEP_FR = {
    "prescribed": "prescrit",
    "validated": "validé",
    "go_ahead": "feu vert",
    "prepared": "préparé",
    "controlled": "contrôlé",
    "released": "libéré",
    "dispensed": "dispensé",
    "administered": "administré",
    "cancelled": "annulé",
    "cure_cancelled": "cure annulée",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "status", help="copie de secours et état du jour : cures, lignes, blocages"
    )
    add_common(parser, user=False)
    parser.add_argument(
        "--date", metavar="AAAA-MM-JJ", help="jour (AAAA-MM-JJ ; défaut : aujourd'hui)"
    )
    parser.set_defaults(handler=_status)


def _step_label(name: str, step: dict) -> str:
    if name == "go_ahead" and step.get("withdrawn"):
        return "feu vert retiré"
    if step.get("decision") in ("withheld", "refused", "rejected"):
        return {"go_ahead": "feu vert refusé", "validated": "refusé", "released": "refusé"}.get(
            name, STEP_FR[name]
        )
    return STEP_FR[name]


def _hhmm(value: str | None) -> str:
    return value[11:16] if value and len(value) >= 16 else (value or "")


def status_text(rows: list[dict]) -> str:
    from oncosecours.domain.display import fr_dose

    if not rows:
        return "Aucune cure ce jour."
    out: list[str] = []
    current = None
    for row in rows:
        key = (row["patient_name"], row["cure_id"])
        if key != current:
            current = key
            out.append(
                f"{row['patient_name']} (né(e) le {row['birth_date']}, IPP {row['ipp'] or '—'}) "
                f"— {row['protocol']} cycle {row['cycle']} J{row['day']} — cure {row['cure_id']}"
            )
        steps = ", ".join(
            f"{_step_label(name, step)} {step['by'] or ''} {_hhmm(step['at'])}".rstrip()
            for name, step in row["steps"].items()
        )
        number = f" n° {row['number']}" if row["number"] else ""
        line = row["line_id"] if row["line_id"] is not None else "—"
        dose = f"{fr_dose(row['dose'])} {row['unit']}"
        out.append(
            f"  ligne {line:>5} {row['molecule'][:28]:<28} {dose:<14} "
            f"{row['state_fr'].upper()}{number}"
        )
        if steps:
            out.append(f"        {steps}")
        cancelled = row["steps"].get("cure_cancelled")
        if cancelled and cancelled.get("reason"):
            out.append(f"        motif de l'annulation de la cure : {cancelled['reason']}")
        if row["blocking"]:
            out.append(f"        → {row['blocking']}")
        for flag in row["flags"]:
            out.append(f"        ! {flag}")
    return "\n".join(out)


def _status(args: argparse.Namespace) -> int:
    from datetime import date

    from oncosecours.services.day_status import day_status
    from oncosecours.store.engines import engine_line
    from oncosecours.store.replica import main_path, replica_status

    rows = run_query(args, day_status, args.date or date.today())
    conn = open_store(args)
    base = engine_line(conn)
    store = main_path(conn)
    copy = replica_status(None, store)
    from oncosecours.qualification.periodic import qualification_status
    from oncosecours.settings import load_settings

    qualified = qualification_status(load_settings(), store)
    emit(
        args,
        {"base": base, "copie_secours": copy, "qualification": qualified, "lignes": rows},
        f"{copy['message']}\n{qualified['message']}\nBase : {base}\n\n{status_text(rows)}",
    )
    return 0
