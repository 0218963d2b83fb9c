"""A death the backup brings after the preparation (a refresh during the day) stops what is still
to come: the go-ahead, the dispensing of a released bag and the administration of a dispensed
one are refused (rule PATIENT_DECEDE, with the date); withholding the go-ahead stays possible."""

from __future__ import annotations

import pytest
from production_fixtures import PATIENTS, TODAY, at, lines_of, lots_for

from oncosecours.domain.errors import OncoError
from oncosecours.services.administration import administer
from oncosecours.services.dispensing import dispense
from oncosecours.services.go_ahead import give_go_ahead, withhold_go_ahead
from oncosecours.services.preparation import prepare, record_lots
from oncosecours.services.release import control_preparation, release_preparation
from oncosecours.store import audit

IPP = {row[0]: row[6] for row in PATIENTS}


def _released_bag(conn, team, line, minute: int) -> dict:
    draft = prepare(conn, team["PR1"], line["id"], now=at(9, minute))
    sheet = record_lots(conn, team["PR1"], draft["ord_number"], lots_for(draft), now=at(9, minute))
    control_preparation(
        conn, team["PR2"], sheet["id"], round(sheet["target_weight_g"], 1), visual_ok=True,
        now=at(10, minute),
    )  # fmt: skip
    release_preparation(conn, team["PH1"], sheet["id"], now=at(11, minute))
    return sheet


def _dies(conn, key: str, death_date: str = "2026-03-01") -> None:
    """A refresh brings a backup patient with this IPP and a death date."""
    conn.execute(
        "INSERT INTO ref_patients (patient_id, ipp, birth_name, first_name, birth_date, sex, "
        "death_date) VALUES (?, ?, 'X', 'Y', '1950-01-01', 'F', ?)",
        (f"R{IPP[key]}", IPP[key], death_date),
    )


def _written(conn) -> tuple:
    return tuple(
        conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("go_aheads", "dispensations", "administrations", "audit_event")
    )


def test_go_ahead_dispensing_and_administration_are_refused_once_the_patient_is_deceased(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    first, second = lines_of(conn, cures["martin"])[:2]
    dispensed = _released_bag(conn, team, first, 0)
    released = _released_bag(conn, team, second, 10)
    dispense(conn, team["PR1"], dispensed["ord_number"], recipient="IDE Julie", now=at(11, 30))

    _dies(conn, "martin")
    _dies(conn, "durand")
    before = _written(conn)
    support = next(
        r for r in lines_of(conn, cures["martin"], prepared_only=False) if r["line_type"] != 1
    )
    attempts = [  # (what, the action the message names, the attempt)
        ("feu vert", "feu vert",
         lambda: give_go_ahead(conn, team["DR1"], cures["durand"], now=at(12))),
        ("dispensation de la poche libérée", "dispensation",
         lambda: dispense(conn, team["PR1"], released["ord_number"], recipient="IDE Julie",
                          now=at(12))),
        ("administration de la poche dispensée", "administration",
         lambda: administer(conn, team["IDE1"], preparation=dispensed["ord_number"],
                            started_at=at(12), ended_at=at(13), now=at(13, 30))),
        ("administration de la ligne de support", "administration",
         lambda: administer(conn, team["IDE1"], line_id=support["id"], started_at="12:00",
                            ended_at="12:15", now=at(13, 30))),
    ]  # fmt: skip
    for what, doing, attempt in attempts:
        with pytest.raises(OncoError) as info:
            attempt()
        assert info.value.rule == "PATIENT_DECEDE", what
        assert "décédé(e) le 01/03/2026" in str(info.value), what
        assert f": {doing} refusé(e)" in str(info.value), what
    assert _written(conn) == before  # nothing recorded, not even an audit event

    # withholding blocks: it stays possible, and the reason says why
    withheld = withhold_go_ahead(
        conn, team["DR1"], cures["durand"], "décès signalé par la sauvegarde", now=at(12, 5)
    )
    assert withheld["decision"] == "withheld"
    assert audit.verify(conn).ok


def test_an_alive_patient_still_goes_through(day):
    """The check needs a death: the same steps for a patient without one are recorded."""
    conn, team, cures = day["conn"], day["team"], day["cures"]
    _dies(conn, "durand")  # another patient
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    sheet = _released_bag(conn, team, lines_of(conn, cures["martin"])[0], 0)
    dispense(conn, team["PR1"], sheet["ord_number"], recipient="IDE Julie", now=at(11, 30))
    done = administer(
        conn, team["IDE1"], preparation=sheet["ord_number"], started_at=at(12), ended_at=at(13),
        now=at(13, 30),
    )  # fmt: skip
    assert done["preparation_id"] == sheet["id"]
    assert TODAY.isoformat() in conn.execute("SELECT started_at FROM administrations").fetchone()[0]
