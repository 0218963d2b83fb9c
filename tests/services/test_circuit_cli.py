"""The circuit through the command line (the fallback when Excel macros are blocked)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from oncosecours.cli import main
from oncosecours.services.users import bootstrap_admin, create_user
from oncosecours.store.db import connect

from .conftest import load_snapshot


@pytest.fixture
def cli_store(store_path, engine, monkeypatch):
    conn = connect(store_path)
    admin = bootstrap_admin(conn, "ADM", "Admin", "4826")
    for initials, role in (
        ("DR1", "prescripteur"),
        ("PH1", "pharmacien"),
        ("IDE1", "infirmier"),
    ):
        create_user(conn, admin, initials, f"Utilisateur {initials}", role, "4826")
    load_snapshot(conn, date.today())
    conn.close()
    monkeypatch.setenv("ONCOSECOURS_PIN", "4826")
    if engine == "sqlite":  # on PostgreSQL, the settings name the test's database
        monkeypatch.delenv("ONCOSECOURS_SETTINGS", raising=False)
    return str(store_path)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def dump(path):
    conn = connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_cli_first_half_of_the_circuit(cli_store, capsys):
    s = ("--store", cli_store)
    code, out, _ = run(
        capsys,
        "patient",
        "add",
        *s,
        "--user",
        "DR1",
        "--ipp",
        "9100001",
        "--birth-name",
        "Robert",
        "--first-name",
        "Alain",
        "--birth-date",
        "03/02/1955",
        "--sex",
        "M",
        "--weight",
        "80",
        "--height",
        "178",
    )
    assert code == 0 and "include add --patient 9100001" in out

    before = dump(cli_store)
    code, _, err = run(
        capsys,
        "patient",
        "add",
        *s,
        "--user",
        "IDE1",
        "--ipp",
        "9100002",
        "--birth-name",
        "ROBERT",
        "--first-name",
        "alain",
        "--birth-date",
        "1955-02-03",
        "--sex",
        "M",
    )
    assert code == 2 and err.startswith("Refusé : [HOMONYME]") and "--other-person" in err
    code, _, err = run(
        capsys,
        "patient",
        "measure",
        *s,
        "--user",
        "IDE1",
        "--patient",
        "9100001",
        "--weight",
        "800",
    )
    assert code == 2 and "Poids impossible" in err
    code, _, err = run(capsys, "patient", "show", *s, "--patient", "0000")
    assert code == 2 and "Patient inconnu" in err
    code, _, err = run(
        capsys,
        "include",
        "add",
        *s,
        "--user",
        "DR1",
        "--patient",
        "9100001",
        "--protocol",
        "XELOX",
        "--start",
        date.today().isoformat(),
    )
    assert code == 2 and "Protocole inconnu" in err
    assert dump(cli_store) == before

    code, out, _ = run(
        capsys,
        "include",
        "add",
        *s,
        "--user",
        "DR1",
        "--patient",
        "9100001",
        "--protocol",
        "r-chop",
        "--start",
        date.today().isoformat(),
        "--json",
    )
    cure = json.loads(out)["cures"][0]["id"]
    before = dump(cli_store)

    code, out, _ = run(
        capsys,
        "prescribe",
        "preview",
        *s,
        "--cure",
        str(cure),
        "--les",
        "RITUXIMAB=I999999",
        "--reduction",
        "DOXO=25:FEVG 45 %",
    )
    assert code == 0 and "APERÇU" in out and "74,25 mg" in out and "PLAFOND_DOSE" in out
    code, _, err = run(
        capsys,
        "prescribe",
        "save",
        *s,
        "--user",
        "DR1",
        "--cure",
        str(cure),
        "--les",
        "RITUXIMAB=I999999",
    )
    assert code == 2 and "--confirm-measures" in err
    code, _, err = run(
        capsys,
        "prescribe",
        "save",
        *s,
        "--user",
        "PH1",
        "--cure",
        str(cure),
        "--confirm-measures",
        "--les",
        "RITUXIMAB=I999999",
    )
    assert code == 2 and "[ROLE]" in err
    assert dump(cli_store) == before

    code, out, _ = run(
        capsys,
        "prescribe",
        "save",
        *s,
        "--user",
        "DR1",
        "--cure",
        str(cure),
        "--confirm-measures",
        "--les",
        "RITUXIMAB=I999999",
        "--dose",
        "4=2.5",
        "--json",
    )
    assert code == 0
    prescription = json.loads(out)["prescription_id"]
    code, out, _ = run(capsys, "validate", "show", *s, "--prescription", str(prescription))
    assert "BLOQUANT [ECART_DOSE]" in out and '--justify "ECART_DOSE=..."' in out

    before = dump(cli_store)
    code, _, err = run(
        capsys, "validate", "accept", *s, "--user", "PH1", "--prescription", str(prescription)
    )
    assert code == 2 and "[JUSTIFICATION]" in err and "ECART_DOSE" in err
    assert dump(cli_store) == before
    code, out, _ = run(
        capsys,
        "validate",
        "accept",
        *s,
        "--user",
        "PH1",
        "--prescription",
        str(prescription),
        "--justify",
        "ECART_DOSE=vu avec le prescripteur",
        "--justify",
        "DOSE_MAX_ADMINISTRATION=avis RCP",
    )
    assert code == 0 and "validée" in out and f"goahead give --cure {cure}" in out
    before = dump(cli_store)
    code, out, _ = run(
        capsys,
        "validate",
        "refuse",
        *s,
        "--user",
        "PH1",
        "--prescription",
        str(prescription),
        "--comment",
        "non",
        "--json",
    )
    assert code == 2 and json.loads(out)["regle"] == "TRANSITION"
    assert dump(cli_store) == before

    code, out, _ = run(
        capsys,
        "note",
        "add",
        *s,
        "--user",
        "IDE1",
        "--patient",
        "9100001",
        "--text",
        "Voie veineuse difficile",
    )
    assert code == 0 and "Note n° 1" in out
    code, out, _ = run(capsys, "patient", "show", *s, "--patient", "9100001")
    assert "validée, prescription n°" in out and "Voie veineuse difficile" in out
    code, out, _ = run(capsys, "audit", "verify", *s)
    assert code == 0 and "intègre" in out
