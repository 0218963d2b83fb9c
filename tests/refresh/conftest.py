"""Fixtures of the refresh tests: copies of the real HEGP extracts, a small synthetic backup,
and stores with a pharmacist."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

HEGP = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "chimio-hegp"
SYNTH_DATE = date(2026, 3, 2)


@pytest.fixture
def hegp(tmp_path: Path) -> Path:
    """A writable copy of the real HEGP extracts (README and LICENSE left out)."""
    target = tmp_path / "sauvegarde-hegp"
    shutil.copytree(HEGP, target, ignore=shutil.ignore_patterns("README.md", "LICENSE"))
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture(scope="session")
def small_synth(tmp_path_factory) -> Path:
    from oncosecours.refresh.synth import generate

    folder = tmp_path_factory.mktemp("synth") / "sauvegarde"
    generate(folder, "small", seed=7, backup_date=SYNTH_DATE)
    return folder


@pytest.fixture
def pharmacist(conn, admin):
    from oncosecours.services.users import authenticate, create_user

    create_user(conn, admin, "PH1", "Pharmacienne Une", "pharmacien", "6150")
    return authenticate(conn, "PH1", "6150")


def _on_server() -> bool:
    from oncosecours.store.engines import POSTGRESQL, engine_of, settings_in_use

    return engine_of(settings_in_use()) == POSTGRESQL


def _server_dump() -> list[str]:
    from oncosecours.store.db import connect

    conn = connect()
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _store_fingerprint(path: Path) -> tuple[str, int, list[str]]:
    """(SHA-256 of the main file after a checkpoint, WAL size, SQL dump) of a store; on
    PostgreSQL, (SHA-256 of the dump, 0, the dump) of the server's register."""
    if _on_server():
        dump = _server_dump()
        return hashlib.sha256("\n".join(dump).encode()).hexdigest(), 0, dump
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    dump = list(raw.iterdump())
    raw.close()
    wal = path.with_name(path.name + "-wal")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, wal.stat().st_size if wal.exists() else 0, dump


def _raw_fingerprint(path: Path) -> tuple[str, str]:
    """SHA-256 of the main file and of the WAL file as they are (no checkpoint); on
    PostgreSQL, of the server's register as a dump."""
    if _on_server():
        return hashlib.sha256("\n".join(_server_dump()).encode()).hexdigest(), ""
    wal = path.with_name(path.name + "-wal")
    main = hashlib.sha256(path.read_bytes()).hexdigest()
    return main, hashlib.sha256(wal.read_bytes()).hexdigest() if wal.exists() else ""


@pytest.fixture
def fingerprint():
    """``fingerprint(path)``: main file hash after a checkpoint, WAL size, and SQL dump."""
    return _store_fingerprint


@pytest.fixture
def raw_fingerprint():
    """``raw_fingerprint(path)``: hashes of the main and WAL files exactly as they are."""
    return _raw_fingerprint


@pytest.fixture
def store_path(tmp_path: Path, engine: str) -> Path:
    """The refresh runs on both engines (``engine``, tests/conftest.py)."""
    return tmp_path / "oncosecours.sqlite"
