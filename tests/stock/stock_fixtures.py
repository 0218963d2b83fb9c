"""Helpers of the stock tests (imported by name)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import production_fixtures as fx

TODAY = fx.TODAY
at = fx.at

# molecule_id, name, stab diluted h, stab reconst h, conc min, conc max, diluents, containers,
# leftover reuse
EXTRA_MOLECULES = [
    (70, "BLEOMYCINE", 24, 24, None, None, ["NaCl 0,9 %"], ["Poche polyoléfine"], 0),
    (80, "DACTINOMYCINE", 24, 8, None, None, ["NaCl 0,9 %"], ["Poche polyoléfine"], 0),
]
# product_id, name, molecule, strength, volume, unit (UNITEPDT decoded)
EXTRA_PRODUCTS = [
    (7001, "BLEOMYCINE 15000 UI/5 mL", 70, 15000, 5, "UI"),
    (8001, "DACTINOMYCINE 0,5 mg", 80, 0.5, 1, "mg"),
]
# protocol id, name, line id, molecule, dose, unit, comment
FIXED = {
    "oxali": (11, "OXALI FIXE", 1101, 31, 130, "mg", "Dans 250 mL de G5%"),
    "bleo": (12, "BLEO FIXE", 1201, 70, 25000, "UI", "Dans 250 mL NaCl 0,9 %"),
    "dacti": (13, "DACTI FIXE", 1301, 80, 1200, "µg", "Dans 50 mL NaCl 0,9 %"),
    "pacli": (14, "PACLI FIXE", 1401, 41, 360, "mg", "Dans NaCl 0,9 %"),
    "oxali150": (15, "OXALI 150", 1501, 31, 150, "mg", "Dans 250 mL de G5%"),
}


def load_stock_snapshot(conn) -> None:
    fx.load_snapshot(conn)
    conn.execute("BEGIN IMMEDIATE")
    for mid, name, stab, rec, cmin, cmax, dil, cont, left in EXTRA_MOLECULES:
        conn.execute(
            "INSERT INTO ref_molecules (molecule_id, name, stability_diluted_h, "
            "stability_reconst_h, conc_min_mg_ml, conc_max_mg_ml, storage, diluents_json, "
            "containers_json, leftover_reuse, dose_tolerance_pct) "
            "VALUES (?, ?, ?, ?, ?, ?, '2-8 °C', ?, ?, ?, 5)",
            (mid, name, stab, rec, cmin, cmax, json.dumps(dil), json.dumps(cont), left),
        )
    for pid, name, mol, strength, volume, unit in EXTRA_PRODUCTS:
        conn.execute(
            "INSERT INTO ref_products (product_id, name, molecule_id, strength_mg, volume_ml, "
            "unit) VALUES (?, ?, ?, ?, ?, ?)",
            (pid, name, mol, strength, volume, unit),
        )
    for pid, name, lid, mol, dose, unit, comment in FIXED.values():
        conn.execute(
            "INSERT INTO ref_protocols (protocol_id, name, cycle_days, default_cycles, "
            "max_cycles) VALUES (?, ?, 21, 6, 6)",
            (pid, name),
        )
        conn.execute(
            "INSERT INTO ref_protocol_lines (line_id, protocol_id, molecule_id, product_id, "
            "line_type, dose, unit_code, unit, route, duration_min, comment, day_mask, "
            "days_json, time_offset_min) VALUES (?, ?, ?, NULL, 1, ?, 0, ?, 'IV', 60, ?, 'O', "
            "'[1]', 0)",
            (lid, pid, mol, dose, unit, comment),
        )
    conn.execute("COMMIT")


PEOPLE = [
    ("DUPONT", "Marie", "1960-01-15", "F", "9100001"),
    ("BERNARD", "Paul", "1955-05-20", "M", "9100002"),
    ("THOMAS", "Lucie", "1970-09-09", "F", "9100003"),
    ("PETIT", "Henri", "1948-12-01", "M", "9100004"),
]


def patient_on(conn, team, protocol_key: str, person: int, on: date = TODAY) -> int:
    """Prescribe and validate a fixed-dose protocol for one person, J1 = ``on``; the cure id."""
    birth, first, born, sex, ipp = PEOPLE[person]
    row = (f"p{person}", FIXED[protocol_key][0], birth, first, born, sex, ipp, 70.0, 170.0, 80.0)
    return fx.prescribe_and_validate(conn, team, row, on=on)


def line_of(conn, cure_id: int) -> dict:
    lines = fx.lines_of(conn, cure_id, day=_day_of(conn, cure_id))
    assert len(lines) == 1
    return lines[0]


def _day_of(conn, cure_id: int) -> date:
    return date.fromisoformat(
        conn.execute("SELECT planned_date FROM cures WHERE id = ?", (cure_id,)).fetchone()[0]
    )


def go(conn, team, cure_id: int, hour: int = 8, day: date = TODAY) -> None:
    from oncosecours.services.go_ahead import give_go_ahead

    give_go_ahead(conn, team["DR1"], cure_id, now=fx.at(hour, 0, day))


def dump(conn) -> str:
    return "\n".join(conn.iterdump())


def next_day(days: int) -> date:
    return TODAY + timedelta(days=days)
