"""Leftovers as stock through the services: created, reused within stability, refused past it,
discarded (hand-computed with oxaliplatin 130 mg: vials 50 mg/10 mL and 100 mg/20 mL, an
opened vial kept 48 h, stability after dilution 24 h)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
from production_fixtures import lots_for
from stock_fixtures import TODAY, at, dump, go, line_of, next_day, patient_on

from oncosecours.domain.errors import OncoError
from oncosecours.services.preparation import ordonnancier_rows, prepare
from oncosecours.services.preparation_plan import preview
from oncosecours.services.stock import discard_leftover, stock_view
from oncosecours.store import audit


def _prepare(conn, team, cure, moment, **options):
    line = line_of(conn, cure)
    plan = preview(conn, line["id"], now=moment, stock_options=options or None)
    lots = lots_for(plan)
    return prepare(conn, team["PR1"], line["id"], lots=lots, now=moment, **options)


def _first_patient(conn, team):
    cure = patient_on(conn, team, "oxali", 0)
    go(conn, team, cure)
    # 130 mg: 100 + 50 mg vials (least waste), 30 mg drawn from the 50 mg vial: 20 mg left
    return _prepare(conn, team, cure, at(9))


def test_leftover_created_then_reused_within_its_stability(snapshot, team):
    _reuse(snapshot, team)


def _reuse(conn, team):
    """A leftover created on day 1 and reused on day 2 (asserted); the second fiche."""
    first = _first_patient(conn, team)
    assert [(p["name"], p["count"]) for p in first["products"]] == [
        ("OXALIPLATINE 100 mg/20 mL", 1),
        ("OXALIPLATINE 50 mg/10 mL", 1),
    ]
    (r1,) = stock_view(conn, TODAY, now=at(9, 5))["reliquats"]
    assert (r1["reliquat"], r1["produit"], r1["lot"]) == ("R1", "OXALIPLATINE 50 mg/10 mL", "L3101")
    assert r1["quantite_restante"] == pytest.approx(20)
    assert r1["volume_restant_ml"] == pytest.approx(4)  # 5 mg/mL
    assert datetime.fromisoformat(r1["a_utiliser_avant"]) == at(9, 0, next_day(2))
    assert "R1 — 20 mg (4 mL)" in first["reliquat_cree"]

    # the next day, 10:00: R1 (20 mg) first, then 110 mg from new vials (100 + 50: 40 mg left)
    cure = patient_on(conn, team, "oxali", 1, on=next_day(1))
    go(conn, team, cure, 8, next_day(1))
    second = _prepare(conn, team, cure, at(10, 0, next_day(1)))
    used = second["plan"]["leftover_used"]
    assert [(u["label"], u["lot"], u["mg"], u["volume_ml"]) for u in used] == [
        ("R1", "L3101", pytest.approx(20), pytest.approx(4))
    ]
    assert second["drug_volume_ml"] == pytest.approx(4 + 20 + 2)
    assert second["final_volume_ml"] == pytest.approx(276)
    # the bag may not outlive the leftover it contains: R1 until J+2 9:00 (< 24 h after 10:00)
    assert datetime.fromisoformat(second["use_by"]) == at(9, 0, next_day(2))
    assert "reliquat R1" in second["use_by_reason"]
    view = stock_view(conn, next_day(1), now=at(10, 5, next_day(1)))
    assert [(r["reliquat"], r["quantite_restante"]) for r in view["reliquats"]] == [("R2", 40)]
    assert conn.execute("SELECT state, amount_left FROM leftovers WHERE id = 1").fetchone()[:] == (
        "used",
        0,
    )
    # the ordonnancier names the leftover used, with its lot
    (entry,) = [
        r for r in ordonnancier_rows(conn, next_day(1), next_day(1)) if r["id"] == second["id"]
    ]
    from oncosecours.documents.context.register import _leftovers_used

    assert _leftovers_used(entry) == ["reliquat R1 OXALIPLATINE 50 mg/10 mL lot L3101 (20 mg)"]
    assert audit.verify(conn).ok
    return second


def _docx_text(path) -> str:
    import docx

    document = docx.Document(path)
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_fiche_and_ordonnancier_documents_name_the_leftover(snapshot, team, tmp_path):
    from oncosecours.documents.render import render_ordonnancier, render_preparation

    second = _reuse(snapshot, team)
    (fiche,) = render_preparation(snapshot, second["id"], "fabrication", tmp_path, pdf=False)
    text = _docx_text(fiche)
    assert "Reliquat R1 — OXALIPLATINE 50 mg/10 mL, lot L3101" in text
    assert "Reliquat mis en stock : R2 — 40 mg (8 mL)" in text
    register = render_ordonnancier(snapshot, next_day(1), next_day(1), "date", tmp_path, pdf=False)
    assert "reliquat R1 OXALIPLATINE 50 mg/10 mL lot L3101 (20 mg)" in _docx_text(register.files[0])


def test_a_leftover_without_lot_is_kept_but_not_proposed_until_traced(snapshot, team):
    from oncosecours.services.preparation import record_lots

    conn = snapshot
    cure = patient_on(conn, team, "oxali", 0)
    go(conn, team, cure)
    line = line_of(conn, cure)
    plan = preview(conn, line["id"], now=at(9))
    first = prepare(conn, team["PR1"], line["id"], now=at(9))  # lots typed later
    (r1,) = stock_view(conn, TODAY, now=at(9, 5))["reliquats"]
    assert r1["lot"] is None
    other = patient_on(conn, team, "oxali", 1)
    go(conn, team, other)
    other_line = line_of(conn, other)
    proposal = preview(conn, other_line["id"], now=at(9, 30))
    assert proposal["plan"]["leftover_used"] == []
    assert any("R1" in n and "lot du flacon non tracé" in n for n in proposal["notes"])
    record_lots(conn, team["PR1"], first["ord_number"], lots_for(plan), now=at(9, 40))
    (r1,) = stock_view(conn, TODAY, now=at(9, 45))["reliquats"]
    assert r1["lot"] == "L3101"
    proposal = preview(conn, other_line["id"], now=at(9, 50))
    assert [u["label"] for u in proposal["plan"]["leftover_used"]] == ["R1"]


def test_leftover_past_its_use_by_is_not_proposed_and_refused_when_chosen(snapshot, team):
    conn = snapshot
    _first_patient(conn, team)
    cure = patient_on(conn, team, "oxali", 1, on=next_day(2))
    go(conn, team, cure, 8, next_day(2))
    moment = at(10, 0, next_day(2))  # R1 expired at 9:00
    line = line_of(conn, cure)
    plan = preview(conn, line["id"], now=moment)
    assert plan["plan"]["leftover_used"] == []
    assert any("R1" in n and "périmé depuis le 04/03/2026 à 09:00" in n for n in plan["notes"])
    before = dump(conn)
    with pytest.raises(OncoError) as error:
        prepare(conn, team["PR1"], line["id"], lots=lots_for(plan), now=moment, leftovers=["R1"])
    assert error.value.rule == "RELIQUAT_PERIME"
    assert "R1" in error.value.message and "périmé depuis le 04/03/2026 à 09:00" in str(error.value)
    assert dump(conn) == before
    # shown as expired in the stock view, then discarded with a reason (audited)
    view = stock_view(conn, next_day(2), now=moment)
    assert [r["reliquat"] for r in view["reliquats_perimes"]] == ["R1"]
    with pytest.raises(OncoError, match="motif"):
        discard_leftover(conn, team["PR1"], "R1", "  ", now=moment)
    assert dump(conn) == before
    discard_leftover(conn, team["PR1"], "R1", "périmé", now=moment)
    row = conn.execute(
        "SELECT state, discard_reason, discarded_by_initials FROM leftovers"
    ).fetchone()
    assert tuple(row) == ("discarded", "périmé", "PR1")
    event = conn.execute("SELECT action, after_json FROM audit_event ORDER BY seq DESC").fetchone()
    assert event[0] == "jeter_reliquat" and "périmé" in event[1]
    after = dump(conn)
    with pytest.raises(OncoError, match="déjà jeté"):
        discard_leftover(conn, team["PR1"], "R1", "encore", now=moment)
    assert dump(conn) == after


def test_the_store_refuses_to_raise_a_leftover_or_delete_it(snapshot, team):
    conn = snapshot
    _first_patient(conn, team)
    with pytest.raises(sqlite3.DatabaseError, match="reliquat"):
        conn.execute("UPDATE leftovers SET amount_left = 50 WHERE id = 1")
    with pytest.raises(sqlite3.DatabaseError, match="reliquat"):
        conn.execute("DELETE FROM leftovers")


def test_no_leftover_kept_when_the_settings_say_so(snapshot, team, settings_file):
    conn = snapshot
    settings = settings_file("[stock]\nreliquats_en_stock = false\n")
    cure = patient_on(conn, team, "oxali", 0)
    go(conn, team, cure)
    line = line_of(conn, cure)
    plan = preview(conn, line["id"], now=at(9), settings=settings)
    prepare(conn, team["PR1"], line["id"], lots=lots_for(plan), now=at(9), settings=settings)
    assert conn.execute("SELECT count(*) FROM leftovers").fetchone()[0] == 0
