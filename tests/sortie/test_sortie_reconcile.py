"""Reconciliation: each break provoked on purpose through the services (or, for what the
services forbid, by an edit behind OncoSecours' back) and found, then justified."""

from __future__ import annotations

import pytest
from production_fixtures import TODAY, at, lines_of, lots_for
from sortie_fixtures import billing_day

from oncosecours.domain.errors import OncoError
from oncosecours.services.sortie import billing, reconcile


def _found(conn, rule):
    return [b["cle"] for b in reconcile.breaks(conn)["ruptures"] if b["regle"] == rule]


@pytest.fixture
def finess(tmp_path, monkeypatch):
    settings = tmp_path / "etablissement.toml"
    settings.write_text('[etablissement]\nfiness = "750000001"\n', encoding="utf-8")
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(settings))


def test_released_never_administered_and_administered_not_billed(conn, team, finess, tmp_path):
    day = billing_day(conn, team)
    leroy = day["numbers"]["leroy"]
    assert _found(conn, "LIBEREE_NON_ADMINISTREE") == leroy
    les = {n for k in ("martin", "durand") for n in day["numbers"][k]
           if conn.execute("SELECT molecule_id FROM preparations WHERE ord_number = ?",
                           (n,)).fetchone()[0] in (31, 41)}  # fmt: skip
    assert set(_found(conn, "ADMINISTREE_NON_FACTUREE")) == les
    billing.export_billing(conn, team["PH1"], tmp_path / "out")
    # the oxaliplatin is billed now; the refused paclitaxel stays « not billed »
    still = _found(conn, "ADMINISTREE_NON_FACTUREE")
    assert still and all(
        conn.execute("SELECT molecule_id FROM preparations WHERE ord_number = ?", (n,)).fetchone()[0]
        == 41 for n in still
    )  # fmt: skip


def test_billed_but_not_administered_behind_oncosecours_back(conn, team, finess):
    day = billing_day(conn, team)
    bag = day["numbers"]["leroy"][0]
    prep_id = conn.execute("SELECT id FROM preparations WHERE ord_number = ?", (bag,)).fetchone()[0]
    conn.execute(
        "INSERT INTO sortie_billing_exports (exported_at, exported_by, exported_by_initials, "
        "date_from, date_to, layout, file_name, file_sha256, lines, refused) "
        "VALUES ('2026-03-02', 1, 'ADM', '2026-03-02', '2026-03-02', 'x', 'x', 'x', 1, 0)"
    )
    conn.execute(
        "INSERT INTO sortie_billing_lines (export_id, preparation_id, ord_number, ucd, units, "
        "les_code) VALUES (1, ?, ?, '3400890000028', 1, 'I999998')",
        (prep_id, bag),
    )
    assert _found(conn, "FACTUREE_NON_ADMINISTREE") == [bag]


def test_number_with_no_fate_and_line_never_prepared(day):
    from oncosecours.services.go_ahead import give_go_ahead
    from oncosecours.services.preparation import prepare, record_lots

    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    first, *others = lines_of(conn, cures["martin"])
    draft = prepare(conn, team["PR1"], first["id"], now=at(9))
    record_lots(conn, team["PR1"], draft["ord_number"], lots_for(draft), now=at(9, 1))
    assert _found(conn, "SANS_DEVENIR") == [draft["ord_number"]]
    never = set(_found(conn, "PRESCRITE_NON_PREPAREE"))
    assert {f"ligne:{line['id']}" for line in others} <= never
    assert f"ligne:{first['id']}" not in never
    # every validated anticancer line of the day that was not prepared is listed
    due = {f"ligne:{line['id']}" for key in ("durand", "leroy")
           for line in lines_of(conn, cures[key], day=TODAY)}  # fmt: skip
    assert due <= never


def test_justify_a_break_once(conn, team, finess):
    day = billing_day(conn, team)
    bag = day["numbers"]["leroy"][0]
    ref = f"LIBEREE_NON_ADMINISTREE:{bag}"
    with pytest.raises(OncoError, match="réservée au rôle pharmacien"):
        reconcile.justify(conn, team["IDE1"], ref, "poche détruite")
    reconcile.justify(conn, team["PH1"], ref, "poche  détruite après\nfièvre du patient")
    report = reconcile.breaks(conn)
    done = next(b for b in report["ruptures"] if b["cle"] == bag)
    assert done["justification"] == "poche détruite après fièvre du patient"
    assert done["justifie_par"] == "PH1"
    with pytest.raises(OncoError, match="déjà justifiée"):
        reconcile.justify(conn, team["PH2"], ref, "encore")
    with pytest.raises(OncoError, match="Aucune rupture"):
        reconcile.justify(conn, team["PH1"], "SANS_DEVENIR:2099-000001", "x")
    with pytest.raises(OncoError, match="RÈGLE:CLÉ"):
        reconcile.justify(conn, team["PH1"], "n'importe quoi", "x")
