"""Every forbidden step of the second half of the circuit is refused in French and writes nothing."""

from __future__ import annotations

import pytest
from production_fixtures import TODAY, at, lines_of, lots_for

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num
from oncosecours.services.administration import administer
from oncosecours.services.dispensing import dispense
from oncosecours.services.go_ahead import give_go_ahead, withhold_go_ahead
from oncosecours.services.preparation import cancel_preparation, prepare, record_lots
from oncosecours.services.preparation_queries import ordonnancier_rows
from oncosecours.services.release import (
    control_preparation,
    reject_preparation,
    release_preparation,
)
from oncosecours.store import audit
from oncosecours.store.ordonnancier import check_sequence


def refused(conn, rule, call, *args, match=None, **kwargs):
    """Assert that ``call`` is refused with ``rule`` (and ``match``) and wrote nothing."""
    before = list(conn.iterdump())
    with pytest.raises(OncoError) as info:
        call(conn, *args, **kwargs)
    assert rule in (info.value.rule or ""), str(info.value)
    if match:
        assert match in str(info.value), str(info.value)
    assert list(conn.iterdump()) == before
    return str(info.value)


@pytest.fixture
def ready(day):
    """MARTIN has the go-ahead; returns (conn, team, cures, oxaliplatin line, 5-FU line)."""
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    oxali, fluo = lines_of(conn, cures["martin"])
    return conn, team, cures, oxali, fluo


def _prepared(conn, team, line, minute=0):
    sheet = prepare(conn, team["PR1"], line["id"], now=at(9, minute))
    return record_lots(conn, team["PR1"], sheet["id"], lots_for(sheet), now=at(9, minute + 1))


def _released(conn, team, line, minute=0):
    sheet = _prepared(conn, team, line, minute)
    control_preparation(
        conn, team["PR2"], sheet["id"], sheet["target_weight_g"], visual_ok=True, now=at(10)
    )
    release_preparation(conn, team["PH1"], sheet["id"], now=at(10, 5))
    return sheet


# --- go-ahead -----------------------------------------------------------------------------------


def test_go_ahead_refusals(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    cure = cures["durand"]
    refused(conn, "ROLE", give_go_ahead, team["PH1"], cure, now=at(8))
    refused(conn, "ROLE", give_go_ahead, team["IDE1"], cure, now=at(8))
    refused(conn, "CURE_INCONNUE", give_go_ahead, team["DR1"], 999, now=at(8))
    text = refused(
        conn, "FEU_VERT_JOUR", give_go_ahead, team["DR1"], cure, now=at(8, day=TODAY.replace(day=3))
    )
    assert "aucune ligne le 03/03/2026" in text
    refused(
        conn,
        "FEU_VERT_JOUR",
        give_go_ahead,
        team["DR1"],
        cure,
        TODAY,
        now=at(8, day=TODAY.replace(day=1)),
    )
    refused(conn, "FEU_VERT_MOTIF", withhold_go_ahead, team["DR1"], cure, "  ", now=at(8))
    give_go_ahead(conn, team["DR1"], cure, now=at(8))
    refused(conn, "TRANSITION", give_go_ahead, team["DR1"], cure, now=at(8, 1), match="déjà")
    refused(conn, "TRANSITION", withhold_go_ahead, team["DR1"], cure, "fièvre", now=at(9))


def test_go_ahead_needs_a_validated_cure(conn, team):
    import production_fixtures as fx

    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.patients import create_patient
    from oncosecours.services.prescription import prescribe

    fx.load_snapshot(conn)
    person = create_patient(
        conn,
        team["DR1"],
        birth_name="PETIT",
        first_name="Marc",
        birth_date="1970-02-02",
        sex="M",
        weight_kg=80.0,
        height_cm=180.0,
        creatinine_umol_l=80.0,
        measured_on=TODAY,
        today=TODAY,
    )
    cure = include_patient(conn, team["DR1"], person["id"], 1, TODAY, today=TODAY)["cures"][0]["id"]
    refused(conn, "FEU_VERT_CURE_NON_VALIDEE", give_go_ahead, team["DR1"], cure, now=at(8))
    prescribe(conn, team["DR1"], cure, today=TODAY)
    text = refused(conn, "FEU_VERT_CURE_NON_VALIDEE", give_go_ahead, team["DR1"], cure, now=at(8))
    assert "prescrite" in text


# --- preparation --------------------------------------------------------------------------------


def test_no_preparation_without_go_ahead(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    line = lines_of(conn, cures["durand"])[0]
    refused(
        conn, "FEU_VERT_ABSENT", prepare, team["PR1"], line["id"], now=at(9), match="aucun feu vert"
    )
    withhold_go_ahead(conn, team["DR1"], cures["durand"], "créatinine à recontrôler", now=at(8))
    refused(
        conn, "FEU_VERT_ABSENT", prepare, team["PR1"], line["id"], now=at(9), match="créatinine"
    )
    martin = lines_of(conn, cures["martin"], prepared_only=False)
    support = next(r for r in martin if r["line_type"] != 1)
    refused(
        conn,
        "FEU_VERT_ABSENT",
        administer,
        team["IDE1"],
        line_id=support["id"],
        started_at="08:00",
        ended_at="08:10",
        now=at(9),
    )


def test_preparation_refusals(ready):
    conn, team, cures, oxali, fluo = ready
    support = [
        r for r in lines_of(conn, cures["martin"], prepared_only=False) if r["line_type"] != 1
    ][0]
    refused(conn, "ROLE", prepare, team["IDE1"], oxali["id"], now=at(9))
    refused(conn, "ROLE", prepare, team["DR1"], oxali["id"], now=at(9))
    refused(conn, "LIGNE_INCONNUE", prepare, team["PR1"], 9999, now=at(9))
    refused(conn, "LIGNE_NON_PREPAREE", prepare, team["PR1"], support["id"], now=at(9))
    refused(
        conn,
        "PREPARATION_JOUR",
        prepare,
        team["PR1"],
        oxali["id"],
        now=at(9, day=TODAY.replace(day=3)),
    )
    refused(conn, "STABILITE", prepare, team["PR1"], oxali["id"], stability_h=12, now=at(9))
    # an out-of-range concentration is refused (oxaliplatin 0.2-0.7 mg/mL, forced into 50 mL)
    refused(
        conn,
        "CONCENTRATION_HORS_PLAGE",
        prepare,
        team["PR1"],
        oxali["id"],
        bag_volume_ml=50,
        now=at(9),
    )
    first = prepare(conn, team["PR1"], oxali["id"], now=at(9))
    text = refused(conn, "PREPARATION_DOUBLE", prepare, team["PR2"], oxali["id"], now=at(9, 5))
    assert first["ord_number"] in text


def test_bad_lots_are_refused_and_consume_no_number(ready):
    from oncosecours.services.preparation_plan import preview

    conn, team, cures, oxali, fluo = ready
    probe = prepare(conn, team["PR1"], fluo["id"], now=at(9))
    plan = preview(conn, oxali["id"], now=at(9, 10))
    good = lots_for(plan)  # oxaliplatin: use-by 24 h after preparation, 03/03/2026 09:10
    cases = [
        ("LOT_PERIME", lambda lots: lots[0].update(expiry="2026-03-01")),
        ("LOT_PEREMPTION_AVANT_POCHE", lambda lots: lots[0].update(expiry="2026-03-02")),
        ("LOT_PERIME", lambda lots: lots[-1].update(expiry="02/2026")),  # diluent
        ("LOTS_MANQUANTS", lambda lots: lots.pop()),
        ("LOT_INCONNU", lambda lots: lots.append(dict(lots[0], component="CISPLATINE 50 mg"))),
    ]
    for rule, spoil in cases:
        lots = [dict(lot) for lot in good]
        spoil(lots)
        refused(conn, rule, prepare, team["PR1"], oxali["id"], lots=lots, now=at(9, 10))
    fluo_lots = lots_for(probe)
    refused(
        conn,
        "LOT_PERIME",
        record_lots,
        team["PR1"],
        probe["id"],
        [dict(fluo_lots[0], expiry="01/2026")] + fluo_lots[1:],
        now=at(9, 5),
    )
    sheet = prepare(conn, team["PR1"], oxali["id"], lots=good, now=at(9, 10))
    assert sheet["ord_number"] == "2026-000002"  # the refused attempts took no number
    assert check_sequence(conn).ok


def test_lots_frozen_after_control_and_cancel_rules(ready):
    conn, team, cures, oxali, fluo = ready
    sheet = _prepared(conn, team, oxali)
    control_preparation(
        conn, team["PR2"], sheet["id"], sheet["target_weight_g"], visual_ok=True, now=at(10)
    )
    refused(
        conn,
        "ORDONNANCIER_VALIDE",
        record_lots,
        team["PR1"],
        sheet["id"],
        lots_for(sheet),
        now=at(10, 1),
    )
    release_preparation(conn, team["PH1"], sheet["id"], now=at(10, 5))
    refused(conn, "ROLE", cancel_preparation, team["PR1"], sheet["id"], "chute", now=at(10, 6))
    refused(conn, "ROLE", cancel_preparation, team["IDE1"], sheet["id"], "chute", now=at(10, 6))
    cancel_preparation(conn, team["PH1"], sheet["id"], "poche tombée", now=at(10, 7))
    refused(
        conn, "TRANSITION", cancel_preparation, team["PH1"], sheet["id"], "encore", now=at(10, 8)
    )
    refused(conn, "TRANSITION", dispense, team["PR1"], sheet["id"], recipient="X", now=at(10, 9))
    refused(
        conn,
        "PREPARATION_INCONNUE",
        cancel_preparation,
        team["PH1"],
        "2026-999999",
        "x",
        now=at(10, 9),
    )


# --- control and release --------------------------------------------------------------------------


def test_control_refusals(ready):
    conn, team, cures, oxali, fluo = ready
    draft = prepare(conn, team["PR1"], oxali["id"], now=at(9))
    refused(
        conn,
        "LOTS_MANQUANTS",
        control_preparation,
        team["PR2"],
        draft["id"],
        280.0,
        visual_ok=True,
        now=at(10),
    )
    sheet = record_lots(conn, team["PR1"], draft["id"], lots_for(draft), now=at(9, 1))
    refused(
        conn,
        "ROLE",
        control_preparation,
        team["IDE1"],
        sheet["id"],
        280.0,
        visual_ok=True,
        now=at(10),
    )
    for bad in (-3, 0, "lourd"):
        refused(
            conn, "", control_preparation, team["PR2"], sheet["id"], bad, visual_ok=True, now=at(10)
        )
    refused(
        conn,
        "DOUBLE_CONTROLE",
        control_preparation,
        team["PR2"],
        sheet["id"],
        280.0,
        visual_ok=True,
        double_checker="PR1",
        now=at(10),
    )
    refused(
        conn,
        "DOUBLE_CONTROLE",
        control_preparation,
        team["PR2"],
        sheet["id"],
        280.0,
        visual_ok=True,
        double_checker="IDE1",
        now=at(10),
    )
    refused(
        conn,
        "",
        control_preparation,
        team["PR2"],
        sheet["id"],
        280.0,
        visual_ok=False,
        now=at(10),
        match="décrit",
    )
    refused(conn, "TRANSITION", release_preparation, team["PH1"], sheet["id"], now=at(10))
    control_preparation(
        conn, team["PR2"], sheet["id"], sheet["target_weight_g"], visual_ok=True, now=at(10)
    )
    refused(
        conn,
        "TRANSITION",
        control_preparation,
        team["PR2"],
        sheet["id"],
        280.0,
        visual_ok=True,
        now=at(10, 1),
        match="déjà",
    )


def test_release_refusals(ready):
    conn, team, cures, oxali, fluo = ready
    # prepared by a pharmacist: that pharmacist cannot release it
    draft = prepare(conn, team["PH2"], oxali["id"], now=at(9))
    sheet = record_lots(conn, team["PH2"], draft["id"], lots_for(draft), now=at(9, 1))
    low = sheet["weight_min_g"] - 5
    control_preparation(conn, team["PR2"], sheet["id"], low, visual_ok=True, now=at(10))
    refused(conn, "ROLE", release_preparation, team["PR1"], sheet["id"], now=at(10, 5))
    refused(
        conn,
        "LIBERATION_PREPARATEUR",
        release_preparation,
        team["PH2"],
        sheet["id"],
        justification="x",
        now=at(10, 5),
    )
    text = refused(
        conn,
        "GRAVIMETRIE_HORS_TOLERANCE",
        release_preparation,
        team["PH1"],
        sheet["id"],
        now=at(10, 5),
    )
    assert f"{fr_num(low)} g" in text
    refused(
        conn,
        "POCHE_PERIMEE",
        release_preparation,
        team["PH1"],
        sheet["id"],
        justification="ok",
        now=at(10, day=TODAY.replace(day=4)),
    )
    refused(conn, "", reject_preparation, team["PH1"], sheet["id"], " ", now=at(10, 5))
    release_preparation(
        conn, team["PH1"], sheet["id"], justification="pesée refaite : 271 g", now=at(10, 6)
    )
    refused(
        conn,
        "TRANSITION",
        release_preparation,
        team["PH1"],
        sheet["id"],
        justification="x",
        now=at(10, 7),
        match="déjà",
    )
    refused(conn, "TRANSITION", reject_preparation, team["PH1"], sheet["id"], "non", now=at(10, 7))
    # a failed visual check cannot be released
    other = _prepared(conn, team, fluo, minute=20)
    control_preparation(
        conn,
        team["PR2"],
        other["id"],
        other["target_weight_g"],
        visual_ok=False,
        comment="particules visibles",
        now=at(10, 30),
    )
    refused(conn, "CONTROLE_VISUEL", release_preparation, team["PH1"], other["id"], now=at(10, 35))
    reject_preparation(conn, team["PH1"], other["id"], "particules", now=at(10, 36))


# --- dispensing and administration ---------------------------------------------------------------


def test_dispensing_refusals(ready):
    conn, team, cures, oxali, fluo = ready
    sheet = _prepared(conn, team, oxali)
    refused(conn, "TRANSITION", dispense, team["PR1"], sheet["id"], recipient="IDE", now=at(10))
    control_preparation(
        conn, team["PR2"], sheet["id"], sheet["target_weight_g"], visual_ok=True, now=at(10)
    )
    refused(conn, "TRANSITION", dispense, team["PR1"], sheet["id"], recipient="IDE", now=at(10, 1))
    release_preparation(conn, team["PH1"], sheet["id"], now=at(10, 5))
    refused(conn, "ROLE", dispense, team["IDE1"], sheet["id"], recipient="IDE", now=at(11))
    refused(conn, "", dispense, team["PR1"], sheet["id"], recipient="  ", now=at(11))
    refused(
        conn,
        "DISPENSATION_HORAIRE",
        dispense,
        team["PR1"],
        sheet["id"],
        recipient="IDE",
        at="10:00",
        now=at(11),
    )
    refused(
        conn,
        "DISPENSATION_HORAIRE",
        dispense,
        team["PR1"],
        sheet["id"],
        recipient="IDE",
        at="12:00",
        now=at(11),
    )
    refused(
        conn,
        "POCHE_PERIMEE",
        dispense,
        team["PR1"],
        sheet["id"],
        recipient="IDE",
        now=at(10, day=TODAY.replace(day=4)),
    )
    dispense(conn, team["PR1"], sheet["id"], recipient="IDE Julie", at="10:30", now=at(11))
    refused(conn, "TRANSITION", dispense, team["PR1"], sheet["id"], recipient="IDE", now=at(11, 1))


def test_administration_refusals(ready):
    conn, team, cures, oxali, fluo = ready
    support = [
        r for r in lines_of(conn, cures["martin"], prepared_only=False) if r["line_type"] != 1
    ][0]
    refused(
        conn,
        "ADMINISTRATION_SANS_POCHE",
        administer,
        team["IDE1"],
        line_id=oxali["id"],
        started_at="10:00",
        ended_at="11:00",
        now=at(12),
    )
    sheet = _released(conn, team, oxali)
    kw = {"started_at": "10:30", "ended_at": "11:00", "now": at(12)}
    refused(conn, "ROLE", administer, team["PR1"], preparation=sheet["ord_number"], **kw)
    refused(
        conn,
        "ADMINISTRATION_AVANT_DISPENSATION",
        administer,
        team["IDE1"],
        preparation=sheet["ord_number"],
        **kw,
    )
    dispense(conn, team["PR1"], sheet["id"], recipient="IDE Julie", at="10:40", now=at(11))
    refused(
        conn,
        "ADMINISTRATION_AVANT_DISPENSATION",
        administer,
        team["IDE1"],
        preparation=sheet["ord_number"],
        **kw,
    )
    refused(
        conn,
        "ADMINISTRATION_HORAIRE",
        administer,
        team["IDE1"],
        preparation=sheet["ord_number"],
        started_at="11:00",
        ended_at="10:50",
        now=at(12),
    )
    refused(
        conn,
        "ADMINISTRATION_HORAIRE",
        administer,
        team["IDE1"],
        preparation=sheet["ord_number"],
        started_at="11:00",
        ended_at="12:30",
        now=at(12),
    )
    refused(
        conn,
        "INCIDENT_COMMENTAIRE",
        administer,
        team["IDE1"],
        preparation=sheet["ord_number"],
        started_at="11:00",
        ended_at="11:30",
        incidents=["extravasation:"],
        now=at(12),
    )
    late = {
        "started_at": "2026-03-03 10:00",
        "ended_at": "2026-03-03 11:00",
        "now": at(12, day=TODAY.replace(day=3)),
    }
    text = refused(
        conn, "POCHE_PERIMEE", administer, team["IDE1"], preparation=sheet["ord_number"], **late
    )
    assert "justification" in text
    result = administer(
        conn,
        team["IDE1"],
        preparation=sheet["ord_number"],
        justification="avis du pharmacien de garde : stabilité 48 h à 2-8 °C",
        **late,
    )
    assert result["late"]
    refused(conn, "TRANSITION", administer, team["IDE1"], line_id=oxali["id"], **kw, match="déjà")
    refused(conn, "", administer, team["IDE1"], started_at="10:00", ended_at="11:00", now=at(12))
    incident = administer(
        conn,
        team["IDE1"],
        line_id=support["id"],
        started_at="09:00",
        ended_at="09:05",
        incidents=["arret:malaise vagal"],
        now=at(12),
    )
    assert not incident["completed"]
    assert audit.verify(conn).ok
    assert [r["state"] for r in ordonnancier_rows(conn, TODAY, TODAY)] == ["administered"]


def test_bag_of_a_cancelled_cure_goes_no_further(ready):
    from oncosecours.services.day_status import day_status

    conn, team, cures, oxali, fluo = ready
    sheet = _released(conn, team, oxali)
    # the cure is cancelled (circuit-1 has no cancel service yet: the state is set directly)
    conn.execute("UPDATE cures SET state = 'cancelled' WHERE id = ?", (cures["martin"],))
    refused(conn, "CURE_ANNULEE", dispense, team["PR1"], sheet["id"], recipient="IDE", now=at(11))
    row = next(r for r in day_status(conn, TODAY, now=at(11)) if r["line_id"] == oxali["id"])
    assert row["state"] == "cancelled" and sheet["ord_number"] in row["blocking"]
    cancel_preparation(conn, team["PH1"], sheet["id"], "cure annulée", now=at(11, 1))
    row = next(r for r in day_status(conn, TODAY, now=at(11)) if r["line_id"] == oxali["id"])
    assert row["blocking"] is None
