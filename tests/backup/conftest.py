"""Fixtures of the second-copy tests: a store, a second location configured through a real
settings file (also given to subprocesses by ``ONCOSECOURS_SETTINGS``), and content comparison."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

PIN = "4826"


def write_settings(path: Path, folder: Path | str | None, keep: int = 30) -> Path:
    value = str(folder or "").replace("\\", "\\\\")
    path.write_text(
        f'[copie_secours]\ndossier = "{value}"\ninstantanes_conserves = {keep}\n', encoding="utf-8"
    )
    return path


@pytest.fixture
def second(tmp_path: Path) -> Path:
    """The second medium's folder (its parent exists; the folder itself is created on demand)."""
    medium = tmp_path / "cle-usb"
    medium.mkdir()
    return medium / "OncoSecours"


@pytest.fixture
def configure(tmp_path: Path, monkeypatch):
    """``configure(folder, keep=30)``: point the settings (this process and its children) there;
    ``configure(None)``: no second location."""
    from oncosecours.settings import load_settings
    from oncosecours.store import replica

    def apply(folder: Path | str | None, keep: int = 30):
        path = write_settings(tmp_path / "etablissement.toml", folder, keep)
        monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(path))
        settings = load_settings(path)
        replica.use_settings(settings)
        return settings

    yield apply
    replica.use_settings(None)
    replica.failures._pending_warning = None


@pytest.fixture
def settings(configure, second):
    return configure(second)


@pytest.fixture
def team(conn, admin):
    """Administrator, nurse, pharmacist and physician of a fresh store (the copy may be on)."""
    from oncosecours.services.users import create_user

    return {
        "ADM": admin,
        "IDE": create_user(conn, admin, "IDE", "Infirmière Test", "infirmier", PIN),
        "PH": create_user(conn, admin, "PH", "Pharmacien Test", "pharmacien", PIN),
        "DR": create_user(conn, admin, "DR", "Médecin Test", "prescripteur", PIN),
    }


def some_actions(conn, team, start: int = 0, count: int = 3) -> list[str]:
    """Patients, measurements and notes (several tables, inserts and updates)."""
    from oncosecours.services.notes import add_note
    from oncosecours.services.patients import create_patient, record_measurements

    ipps = []
    for i in range(start, start + count):
        ipp = f"7{i:06d}"
        create_patient(
            conn,
            team["IDE"],
            ipp=ipp,
            birth_name="PATIENT " + chr(65 + i % 26) + chr(65 + i // 26 % 26),
            first_name="Test",
            birth_date="1961-02-03",
            sex="MF"[i % 2],
            weight_kg=70,
            height_cm=170,
        )
        record_measurements(conn, team["IDE"], ipp, weight_kg=71, creatinine_umol_l=80)
        add_note(conn, team["DR"], f"note {i}", patient=ipp)
        ipps.append(ipp)
    return ipps


def content(path: Path | str) -> dict:
    """Schema (as a set) and every row of every table but the change log: two stores with the
    same content are the same store for the user."""
    from oncosecours.store.replica import sqlite_uri

    conn = sqlite3.connect(sqlite_uri(path, "ro"), uri=True)
    try:
        schema = sorted(
            conn.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE name NOT LIKE 'sqlite_autoindex%'"
            ).fetchall()
        )
        rows = {}
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            if table == "replica_log":
                continue
            rows[table] = conn.execute(f'SELECT rowid, * FROM "{table}" ORDER BY rowid').fetchall()
        return {"schema": schema, "rows": rows}
    finally:
        conn.close()


def head(path: Path | str) -> tuple[int, str]:
    from oncosecours.store.replica import sqlite_uri

    conn = sqlite3.connect(sqlite_uri(path, "ro"), uri=True)
    try:
        return tuple(conn.execute("SELECT last_seq, last_hash FROM audit_head").fetchone())
    finally:
        conn.close()
