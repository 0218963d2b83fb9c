"""Fuzzing the readers on mangled copies of the real extracts: every outcome is a load or a
French refusal (OncoError), never another exception."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncosecours.domain.errors import OncoError
from oncosecours.refresh.engine import load_backup, run_query
from oncosecours.refresh.query import load_queries
from oncosecours.resources import shipped

HEGP = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "chimio-hegp"
FILES = {
    "CHIMIO_DCI_FILTER.csv": "molecules.toml",
    "CHIMIO_PRODUIT_FILTER.csv": "products.toml",
    "LIGNEPROTOCOL_FILTER.csv": "protocols.toml",
    "2023-09-07_5_patients_list.csv": "patients.toml",
    "cures/2222222222.csv": "history.toml",
}
NOISE = [b"|", b";", b'"', b"\n", b"\r\n", b",", b".", b"-1", b"0", b"None", b"NA", b" ", b"O",
         b"N", b"\xe9", b"\xc3", b"\xef\xbb\xbf", b"9" * 25, b"1e999", b"nan", b"2023-02-30",
         b"DEM|SEX:X", b"CHIMIO:D|", b"99:99", b"%", b"\x00"]  # fmt: skip


@pytest.fixture(scope="module")
def base():
    queries = {q.name: q for q in load_queries(shipped("queries"))}
    return queries, load_backup(HEGP).tables


def _mangle(data: bytes, ops: list) -> bytes:
    for kind, where, size, noise in ops:
        at = where % (len(data) + 1)
        if kind == "delete":
            data = data[:at] + data[at + size :]
        elif kind == "insert":
            data = data[:at] + noise + data[at:]
        elif kind == "replace":
            data = data[:at] + noise + data[at + len(noise) :]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "duplicate_line":
            lines = data.split(b"\n")
            index = where % len(lines)
            lines.insert(index, lines[index])
            data = b"\n".join(lines)
        elif kind == "swap_separator":
            data = data.replace(b"|", b";") if b"|" in data else data.replace(b";", b",")
    return data


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["delete", "insert", "replace", "truncate", "duplicate_line", "swap_separator"]
        ),  # fmt: skip
        st.integers(min_value=0, max_value=40_000),
        st.integers(min_value=1, max_value=400),
        st.one_of(st.sampled_from(NOISE), st.binary(min_size=1, max_size=12)),
    ),
    min_size=1,
    max_size=4,
)


@pytest.mark.slow
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(FILES)), ops=OPS)
def test_a_mangled_extract_loads_or_is_refused_in_french(base, name, ops):
    queries, tables = base
    query = queries[FILES[name]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sauvegarde"
        shutil.copytree(HEGP, folder, ignore=shutil.ignore_patterns("README.md", "LICENSE"))
        target = folder / name
        target.chmod(0o644)
        target.write_bytes(_mangle(target.read_bytes(), ops))
        try:
            outputs, ctx = run_query(query, folder, tables, None)
        except OncoError as error:
            assert error.message and error.step, str(error)
            assert str(error).isprintable(), str(error)  # shown as is in a message box
        else:
            assert query.table in outputs
            assert all(w.isprintable() for w in ctx.warnings)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(FILES)), ops=OPS)
def test_a_mangled_backup_through_the_whole_refresh(name, ops):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sauvegarde"
        shutil.copytree(HEGP, folder, ignore=shutil.ignore_patterns("README.md", "LICENSE"))
        target = folder / name
        target.chmod(0o644)
        target.write_bytes(_mangle(target.read_bytes(), ops))
        try:
            snapshot = load_backup(folder)
        except OncoError:
            return
        assert snapshot.counts["molecules"] >= 1
