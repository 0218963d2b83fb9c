"""Fixtures of the circuit tests: a real store file, a team of users, a small synthetic snapshot.

The snapshot rows are inserted directly into the ref_* tables (the refresh helper owns how they are
loaded from Chimio backups; these tests only need their contract, migrations/0002_snapshot.sql).
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

TODAY = date(2026, 3, 2)  # a Monday; every service call of the tests passes today=TODAY

MOLECULES = [
    # id, name, max_dose(mg), max_protocol, tolerance, les, creat, anthra, diluents, containers
    (
        6,
        "FLUOROURACILE",
        None,
        None,
        5.0,
        0,
        0,
        None,
        ["Glucose 5 %", "NaCl 0,9 %"],
        ["Diffuseur", "Poche polyoléfine"],
    ),
    (31, "OXALIPLATINE", None, None, 5.0, 0, 0, None, ["Glucose 5 %"], ["Poche polyoléfine"]),
    (
        40,
        "CARBOPLATINE",
        None,
        None,
        5.0,
        0,
        1,
        None,
        ["Glucose 5 %", "NaCl 0,9 %"],
        ["Poche polyoléfine"],
    ),
    (
        41,
        "PACLITAXEL",
        None,
        None,
        5.0,
        0,
        0,
        None,
        ["NaCl 0,9 %", "Glucose 5 %"],
        ["Poche polyoléfine"],
    ),
    (
        50,
        "DOXORUBICINE",
        None,
        None,
        5.0,
        0,
        0,
        1.0,
        ["NaCl 0,9 %", "Glucose 5 %"],
        ["Poche polyoléfine"],
    ),
    (51, "VINCRISTINE", 2.0, None, 5.0, 0, 0, None, ["NaCl 0,9 %"], ["Poche polyoléfine"]),
    (
        52,
        "CYCLOPHOSPHAMIDE",
        None,
        None,
        5.0,
        0,
        0,
        None,
        ["NaCl 0,9 %", "Glucose 5 %"],
        ["Poche polyoléfine"],
    ),
    (
        34,
        "RITUXIMAB",
        None,
        None,
        5.0,
        1,
        0,
        None,
        ["NaCl 0,9 %", "Glucose 5 %"],
        ["Poche polyoléfine"],
    ),
    (60, "BLEOMYCINE", None, 300.0, 5.0, 0, 0, None, ["NaCl 0,9 %"], ["Poche polyoléfine"]),
]

PROTOCOLS = [
    # id, name, cycle_days, default_cycles, max_cycles
    (944, "FOLFOX 4 Simplifié", 14, 6, 12),
    (700, "CARBOPLATINE AUC5 - PACLITAXEL 175", 21, 6, 6),
    (800, "R-CHOP 21", 21, 6, 8),
    (900, "BLEOMYCINE 30 mg J1 J8 J15", 21, 4, 4),
]

LINES = [
    # line_id, protocol, molecule, product, type, dose, unit, days, offset, max_dose, comment
    (1, 944, None, 204843, 2, 8, "mg", [1], -30, None, "Ondansétron dans 50 mL NaCl 0,9 %"),
    (2, 944, 31, None, 1, 85, "mg/m2", [1], 0, None, "Dans 250 mL de G5%"),
    (3, 944, None, 71253, 2, 200, "mg/m2", [1, 2], 0, None, "Acide folinique"),
    (4, 944, 6, None, 1, 400, "mg/m2", [1, 2], 120, None, "Bolus"),
    (5, 944, 6, None, 1, 600, "mg/m2", [1, 2], 130, None, "Diffuseur 22 h"),
    (10, 700, 41, None, 1, 175, "mg/m2", [1], 0, None, None),
    (11, 700, 40, None, 1, 5, "AUC", [1], 180, None, None),
    (20, 800, 34, None, 1, 375, "mg/m2", [1], 0, None, None),
    (21, 800, 52, None, 1, 750, "mg/m2", [1], 240, None, None),
    (22, 800, 50, None, 1, 50, "mg/m2", [1], 300, None, None),
    (23, 800, 51, None, 1, 1.4, "mg/m2", [1], 330, 2.0, None),
    (30, 900, 60, None, 1, 30, "mg", [1, 8, 15], 0, None, None),
]

PRODUCTS = [(204843, "ONDANSETRON 8 mg/4 mL", None), (71253, "ACIDE FOLINIQUE 50 mg", None)]

BACKUP_PATIENTS = [
    # patient_id, ipp, birth_name, usual_name, first_name, birth_date, sex
    ("1111111111", "8000111", "MARTIN", None, "Jeanne", "1958-04-12", "F"),
    ("2222222222", "8000222", "LEFÈVRE", "DURAND", "Hélène", "1962-09-30", "F"),
    ("3333333333", "8000333", None, None, None, "1949-01-05", "M"),
]


def _history_rows():
    """Backup history: Jeanne MARTIN had R-CHOP with doxorubicin (cumulative anthracyclines)."""
    rows = []
    start = TODAY - timedelta(days=21 * 13)
    for cycle in range(1, 12):
        when = (start + timedelta(days=21 * (cycle - 1))).isoformat()
        rows.append(
            (
                len(rows) + 1,
                "1111111111",
                when,
                "CHIMIO:D|50",
                50,
                None,
                85.0,
                "R-CHOP 21",
                800,
                cycle,
                1,
                85.0,
                85.0,
                64.0,
                165.0,
                70.0,
                None,
                None,
                1.70,
            )
        )
    rows.append(
        (
            len(rows) + 1,
            "2222222222",
            (TODAY - timedelta(days=9)).isoformat(),
            "CHIMIO:D|31",
            31,
            None,
            150.0,
            "FOLFOX 4 Simplifié",
            944,
            3,
            1,
            150.0,
            150.0,
            80.0,
            170.0,
            80.0,
            None,
            None,
            1.92,
        )
    )
    return rows


def load_snapshot(conn, backup_date: date | None = None) -> None:
    """Insert the synthetic snapshot (one transaction, like a refresh)."""
    from oncosecours.store import history_write

    backup = (backup_date or TODAY - timedelta(days=1)).isoformat()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO snapshot_meta (id, backup_date, loaded_at, source_dir, counts_json, "
        "warnings_json) VALUES (1, ?, ?, 'tests', '{}', '[]')",
        (backup, backup + "T08:00:00+01:00"),
    )
    for mid, name, mx, mxp, tol, les, creat, anth, dil, cont in MOLECULES:
        conn.execute(
            "INSERT INTO ref_molecules (molecule_id, name, max_dose, max_dose_unit, "
            "max_dose_protocol, dose_tolerance_pct, liste_en_sus, creatinine_required, "
            "anthracycline_factor, diluents_json, containers_json) "
            "VALUES (?, ?, ?, 'mg', ?, ?, ?, ?, ?, ?, ?)",
            (mid, name, mx, mxp, tol, les, creat, anth, json.dumps(dil), json.dumps(cont)),
        )
    for pid, name, strength in PRODUCTS:
        conn.execute(
            "INSERT INTO ref_products (product_id, name, strength_mg) VALUES (?, ?, ?)",
            (pid, name, strength),
        )
    for pid, name, cycle, default, mx in PROTOCOLS:
        conn.execute(
            "INSERT INTO ref_protocols (protocol_id, name, cycle_days, default_cycles, max_cycles) "
            "VALUES (?, ?, ?, ?, ?)",
            (pid, name, cycle, default, mx),
        )
    for lid, prot, mol, prod, typ, dose, unit, days, offset, mx, comment in LINES:
        mask = "".join("O" if d in days else "N" for d in range(1, max(days) + 1))
        conn.execute(
            "INSERT INTO ref_protocol_lines (line_id, protocol_id, molecule_id, product_id, "
            "line_type, dose, unit_code, unit, route, duration_min, comment, day_mask, "
            "days_json, time_offset_min, max_dose) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 'IV', 60, "
            "?, ?, ?, ?, ?)",
            (lid, prot, mol, prod, typ, dose, unit, comment, mask, json.dumps(days), offset, mx),
        )
    for row in BACKUP_PATIENTS:
        conn.execute(
            "INSERT INTO ref_patients (patient_id, ipp, birth_name, usual_name, first_name, "
            "birth_date, sex) VALUES (?, ?, ?, ?, ?, ?, ?)",
            row,
        )
    names = ("row_id", "patient_id", "start_date", "concept", "molecule_id", "product_id",
             "value", "protocol_name", "protocol_id", "cycle", "day", "dose_prescribed",
             "dose_calculated", "weight_kg", "height_cm", "creatinine_umol_l", "reduction_pct",
             "reduction_reason", "bsa_dubois")  # fmt: skip
    history_write.replace(conn, [dict(zip(names, row, strict=True)) for row in _history_rows()])
    conn.execute("COMMIT")


def _team(conn, admin):
    """Users of every role; PIN 4826 for all. Returns {initials: Actor}."""
    from oncosecours.services.users import create_user

    people = {
        "DR1": ("Dr Claire Prescriptrice", "prescripteur"),
        "DR2": ("Dr Paul Second", "prescripteur"),
        "PH1": ("Anne Pharmacienne", "pharmacien"),
        "PH2": ("Marc Pharmacien", "pharmacien"),
        "IDE1": ("Julie Infirmière", "infirmier"),
        "PR1": ("Luc Préparateur", "préparateur"),
    }
    actors = {"ADM": admin}
    for initials, (name, role) in people.items():
        actors[initials] = create_user(conn, admin, initials, name, role, "4826")
    return actors


@pytest.fixture
def team(conn, admin):
    """Users of every role (PIN 4826) in the ``conn`` store: {initials: Actor}."""
    return _team(conn, admin)


@pytest.fixture
def snapshot(conn):
    load_snapshot(conn)
    return conn


@pytest.fixture(scope="session")
def circuit_template(tmp_path_factory) -> Path:
    """A store with the team and the snapshot, built once (scrypt PINs are slow on purpose)."""
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    path = tmp_path_factory.mktemp("circuit") / "template.sqlite"
    conn = connect(path)
    admin = bootstrap_admin(conn, "ADM", "Administrateur Test", "7391")
    _team(conn, admin)
    load_snapshot(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def store_path(tmp_path: Path, engine: str) -> Path:
    """Every circuit test runs on both engines (``engine``, tests/conftest.py)."""
    return tmp_path / "oncosecours.sqlite"


def _circuit_database(request, pg_server) -> str:
    """On PostgreSQL: a database copied from a session template holding the team and the
    snapshot (built once, as the SQLite template file is)."""
    import os

    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    if "circuit" not in pg_server.templates:
        name = pg_server.database()
        settings = Path(os.environ["ONCOSECOURS_SETTINGS"])
        own = settings.read_text(encoding="utf-8")
        settings.write_text(pg_server.settings_text(name), encoding="utf-8")
        try:
            conn = connect()
            admin = bootstrap_admin(conn, "ADM", "Administrateur Test", "7391")
            _team(conn, admin)
            load_snapshot(conn)
            conn.close()
        finally:
            settings.write_text(own, encoding="utf-8")
        pg_server.templates["circuit"] = name
    return pg_server.templates["circuit"]


@pytest.fixture
def circuit(request, engine, store_path, circuit_template, tmp_path, monkeypatch):
    """A copy of the template store: returns (conn, {initials: Actor})."""
    from oncosecours.services.core import Actor
    from oncosecours.store.db import connect

    if engine == "postgresql":
        server = request.getfixturevalue("pg_server")
        name = server.database(_circuit_database(request, server))
        settings = tmp_path / "etablissement-postgresql.toml"
        settings.write_text(server.settings_text(name), encoding="utf-8")
        request.addfinalizer(lambda: server.drop(name))
    else:
        shutil.copyfile(circuit_template, store_path)
    conn = connect(store_path)
    actors = {
        r["initials"]: Actor(r["id"], r["initials"], r["name"], r["role"])
        for r in conn.execute("SELECT id, initials, name, role FROM users")
    }
    yield conn, actors
    conn.close()
