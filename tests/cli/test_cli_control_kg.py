"""A control weight typed in kilograms (0,309 for a 309 g bag) is refused with the grams to type,
instead of being recorded as 0,31 g « hors tolérance »."""

from __future__ import annotations

import json
from datetime import date

import production_fixtures as fx
import pytest
from cli_helpers import actors

from oncosecours.cli import main
from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num
from oncosecours.domain.production import gravimetric_check
from oncosecours.store.db import connect


@pytest.fixture
def prepared_bag(team_store):
    """A bag prepared today with its lots, waiting for its control: (store, number, target g)."""
    from oncosecours.services.go_ahead import give_go_ahead
    from oncosecours.services.preparation import prepare, record_lots

    conn = connect(team_store)
    team = actors(conn)
    cure = fx.prescribe_and_validate(conn, team, fx.PATIENTS[0], on=date.today())
    give_go_ahead(conn, team["DR1"], cure)
    line = fx.lines_of(conn, cure, day=date.today())[0]
    sheet = prepare(conn, team["PR1"], line["id"])
    sheet = record_lots(conn, team["PR1"], sheet["id"], fx.lots_for(sheet))
    conn.close()
    return team_store, sheet["ord_number"], sheet["target_weight_g"]


def _controls(store):
    conn = connect(store)
    try:
        return conn.execute("SELECT measured_weight_g FROM preparation_controls").fetchall()
    finally:
        conn.close()


def test_kilograms_are_refused_with_the_grams_to_type(prepared_bag, capsys):
    store, number, target = prepared_bag
    kilograms = fr_num(target / 1000, 4)  # « 0,309 », with the French decimal comma
    code = main(["control", "--store", str(store), "--user", "PR2", "--prep", number,
                 "--weight", kilograms, "--visual", "conforme"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "[GRAVIMETRIE_UNITE]" in err and "ressemble à des kilogrammes : saisir " in err
    assert f"saisir {fr_num(target, 1)} g" in err
    assert _controls(store) == []

    grams = fr_num(target, 1)
    code = main(["control", "--store", str(store), "--user", "PR2", "--prep", number,
                 "--weight", grams, "--visual", "conforme", "--json"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["gravimetry"]["within"] is True
    assert [tuple(r) for r in _controls(store)] == [(pytest.approx(target, abs=0.05),)]


def test_small_syringes_weighed_in_grams_still_pass():
    assert gravimetric_check(2.4, 2.5, 2.375, 2.625).within
    assert not gravimetric_check(1.0, 260.0, 247.0, 273.0).within  # a gross error: flagged
    with pytest.raises(OncoError, match="saisir 2,5 g"):
        gravimetric_check(0.0025, 2.5, 2.375, 2.625)  # a syringe typed in kg
