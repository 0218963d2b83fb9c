"""Billing of the liste-en-sus drugs, on a production day made by the services: what is billed,
with which UCD and how many units (the vials opened, not the dose), what is refused and why, what
is never billed, and a preparation billed twice."""

from __future__ import annotations

import csv
import json

import pytest
from sortie_fixtures import UCD_OXALI, billing_day

from oncosecours.domain.errors import OncoError
from oncosecours.services.sortie import billing, reconcile
from oncosecours.settings import load_settings


@pytest.fixture
def bday(conn, team, tmp_path, monkeypatch):
    settings = tmp_path / "etablissement.toml"
    settings.write_text('[etablissement]\nfiness = "750000001"\n', encoding="utf-8")
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))
    return {"conn": conn, "team": team, **billing_day(conn, team)}


def _csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _prep(conn, number):
    return dict(
        conn.execute("SELECT * FROM preparations WHERE ord_number = ?", (number,)).fetchone()
    )


def test_billed_refused_and_never_billed(bday, tmp_path):
    conn, team = bday["conn"], bday["team"]
    result = billing.export_billing(conn, team["PH1"], tmp_path / "out")
    rows = _csv(result["path"])
    oxali = next(n for n in bday["numbers"]["martin"] if _prep(conn, n)["molecule_id"] == 31)
    vials = json.loads(_prep(conn, oxali)["products_json"])
    lots = conn.execute(
        "SELECT product_id, sum(quantity) FROM preparation_lots l JOIN preparations p "
        "ON p.id = l.preparation_id WHERE p.ord_number = ? AND l.kind = 'flacon' "
        "GROUP BY product_id", (oxali,),
    ).fetchall()  # fmt: skip
    # one line per vial product of the oxaliplatin bag, units = vials opened (= lots entered)
    assert [r["N° ordonnancier"] for r in rows] == [oxali] * len(vials)
    assert {r["Code UCD"] for r in rows} == {UCD_OXALI}
    assert sorted(int(float(r["Nombre d'UCD"].replace(",", "."))) for r in rows) == sorted(
        v["count"] for v in vials
    )
    assert sorted(q for _, q in lots) == sorted(v["count"] for v in vials)
    dose = _prep(conn, oxali)["dose"]
    assert all(float(r["Nombre d'UCD"].replace(",", ".")) != dose for r in rows)
    assert {r["Code indication (LES)"] for r in rows} == {"I999999"}
    assert {r["N° FINESS"] for r in rows} == {"750000001"}
    assert {r["N° administratif de séjour (à compléter par le DIM)"] for r in rows} == {""}
    assert rows[0]["Date d'administration"] == "02032026"  # JJMMAAAA
    assert rows[0]["IPP"] == "9000101"
    # DURAND's paclitaxel: no LES code and no UCD code -> refused, listed with both reasons
    refused = _csv(result["refused_path"])
    pacli = [n for n in bday["numbers"]["durand"] if _prep(conn, n)["molecule_id"] == 41]
    assert [r["N° ordonnancier"] for r in refused] == pacli
    assert "sans code d'indication (LES)" in refused[0]["Raison du refus"]
    assert "sans code UCD" in refused[0]["Raison du refus"]
    billed_numbers = {r["N° ordonnancier"] for r in rows}
    assert not billed_numbers & set(pacli)
    # LEROY's doxorubicin was never administered: never billed, never refused
    assert not billed_numbers & set(bday["numbers"]["leroy"])
    assert not {r["N° ordonnancier"] for r in refused} & set(bday["numbers"]["leroy"])
    # fluorouracil and carboplatin are not liste en sus
    assert all(_prep(conn, n)["molecule_id"] == 31 for n in billed_numbers)
    # the export is recorded (lines and audit event)
    stored = conn.execute("SELECT ord_number, ucd, units FROM sortie_billing_lines").fetchall()
    assert sorted((n, u, q) for n, u, q in stored) == sorted(
        (r["N° ordonnancier"], r["Code UCD"], int(float(r["Nombre d'UCD"].replace(",", "."))))
        for r in rows
    )
    event = conn.execute("SELECT after_json FROM audit_event WHERE action = "
                         "'exporter_facturation'").fetchone()  # fmt: skip
    assert json.loads(event[0])["refusées"] == pacli


def test_billed_twice_only_when_asked_and_then_a_break(bday, tmp_path):
    conn, team = bday["conn"], bday["team"]
    billing.export_billing(conn, team["PH1"], tmp_path / "a")
    second = billing.export_billing(conn, team["PH1"], tmp_path / "b")
    assert second["lignes"] == 0 and second["already"]
    assert not any(b["regle"] == "FACTUREE_DEUX_FOIS" for b in reconcile.breaks(conn)["ruptures"])
    billing.export_billing(conn, team["PH1"], tmp_path / "c", again=True)
    twice = [b for b in reconcile.breaks(conn)["ruptures"] if b["regle"] == "FACTUREE_DEUX_FOIS"]
    assert [b["cle"] for b in twice] == [
        n for n in bday["numbers"]["martin"] if _prep(conn, n)["molecule_id"] == 31
    ]


def test_refused_without_finess_or_by_another_role(bday, tmp_path, monkeypatch):
    conn, team = bday["conn"], bday["team"]
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    with pytest.raises(OncoError, match="FINESS"):
        billing.export_billing(conn, team["PH1"], tmp_path / "x",
                               settings=load_settings(tmp_path / "none.toml"))  # fmt: skip
    with pytest.raises(OncoError, match="réservée au rôle pharmacien"):
        billing.export_billing(conn, team["PR1"], tmp_path / "x")
    assert conn.execute("SELECT count(*) FROM sortie_billing_exports").fetchone()[0] == 0
    assert not (tmp_path / "x").exists()
