"""Cancelling a cure, stopping an inclusion, withdrawing a go-ahead: bags handled, history kept,
every refusal in French and writing nothing."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from production_fixtures import TODAY, at, lines_of, lots_for

from oncosecours.domain.errors import OncoError
from oncosecours.services.administration import administer
from oncosecours.services.cancellation import cancel_cure, stop_inclusion
from oncosecours.services.day_status import day_status
from oncosecours.services.dispensing import dispense
from oncosecours.services.go_ahead import (
    give_go_ahead,
    waiting_cures,
    withdraw_go_ahead,
    withhold_go_ahead,
)
from oncosecours.services.preparation import cancel_preparation, prepare, record_lots
from oncosecours.services.queries import pending_validations
from oncosecours.services.release import control_preparation, release_preparation
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


def _prepared(conn, team, line, when):
    sheet = prepare(conn, team["PR1"], line["id"], now=when)
    return record_lots(conn, team["PR1"], sheet["id"], lots_for(sheet), now=when)


def _controlled(conn, team, line, when):
    sheet = _prepared(conn, team, line, when)
    control_preparation(
        conn, team["PR2"], sheet["id"], sheet["target_weight_g"], visual_ok=True, now=when
    )
    return sheet


def _released(conn, team, line, when):
    sheet = _controlled(conn, team, line, when)
    release_preparation(conn, team["PH1"], sheet["id"], now=when)
    return sheet


def _dispensed(conn, team, line, when):
    sheet = _released(conn, team, line, when)
    dispense(conn, team["PR1"], sheet["id"], recipient="IDE Julie", now=when)
    return sheet


def _state(conn, table, key):
    return conn.execute(f"SELECT state FROM {table} WHERE id = ?", (key,)).fetchone()[0]


def _events(conn, action):
    return [
        dict(r)
        for r in conn.execute(
            "SELECT seq, entity, entity_id, user_initials FROM audit_event WHERE action = ? "
            "ORDER BY seq",
            (action,),
        )
    ]


def _cure_of_cycle(conn, cure_id, cycle):
    return conn.execute(
        "SELECT id FROM cures WHERE cycle = ? AND inclusion_id = "
        "(SELECT inclusion_id FROM cures WHERE id = ?)",
        (cycle, cure_id),
    ).fetchone()[0]


def _inclusion_of(conn, cure_id):
    return conn.execute("SELECT inclusion_id FROM cures WHERE id = ?", (cure_id,)).fetchone()[0]


def _administer_day(conn, team, cure_id, start_hour=9, day=TODAY):
    """Prepare, release, dispense and administer every line of a cure on ``day``."""
    for i, line in enumerate(lines_of(conn, cure_id, prepared_only=False, day=day)):
        when = at(start_hour, 5 * i, day=day)
        if line["line_type"] == 1:
            sheet = _dispensed(conn, team, line, when)
            administer(
                conn,
                team["IDE1"],
                preparation=sheet["id"],
                started_at=when,
                ended_at=when + timedelta(minutes=2),
                now=when + timedelta(minutes=3),
            )
        else:
            administer(
                conn,
                team["IDE1"],
                line_id=line["id"],
                started_at=when,
                ended_at=when + timedelta(minutes=2),
                now=when + timedelta(minutes=3),
            )


# --- cancelling a cure --------------------------------------------------------------------------


def test_cancel_cures_before_any_bag(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    planned = _cure_of_cycle(conn, cures["martin"], 2)
    assert _state(conn, "cures", planned) == "planned"
    result = cancel_cure(conn, team["PH1"], planned, "  patient  hospitalisé ", now=at(8))
    assert result["previous_state"] == "planned" and result["reason"] == "patient hospitalisé"
    row = dict(conn.execute("SELECT * FROM cures WHERE id = ?", (planned,)).fetchone())
    assert row["state"] == "cancelled" and row["cancel_reason"] == "patient hospitalisé"
    assert row["cancelled_by_initials"] == "PH1" and row["cancelled_at"].startswith("2026-03-02")
    on = TODAY + timedelta(days=14)
    shown = [r for r in day_status(conn, on, now=at(8, day=on)) if r["cure_id"] == planned]
    assert shown and {r["state"] for r in shown} == {"cancelled"}
    assert shown[0]["steps"]["cure_cancelled"]["reason"] == "patient hospitalisé"

    validated = cures["durand"]
    cancel_cure(conn, team["DR1"], validated, "décès", now=at(8, 1))
    assert _state(conn, "cures", validated) == "cancelled"
    assert validated not in [w["cure_id"] for w in waiting_cures(conn, TODAY)]
    rows = [r for r in day_status(conn, TODAY, now=at(9)) if r["cure_id"] == validated]
    assert rows and {r["state"] for r in rows} == {"cancelled"}
    assert all(r["blocking"] is None for r in rows)
    step = rows[0]["steps"]["cure_cancelled"]
    assert (step["by"], step["reason"]) == ("DR1", "décès")
    assert [e["entity"] for e in _events(conn, "annuler_cure")] == ["cure", "cure"]
    assert audit.verify(conn).ok


def test_cancelled_prescribed_cure_leaves_the_validation_list(conn, team):
    import production_fixtures as fx

    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.patients import create_patient
    from oncosecours.services.prescription import prescribe
    from oncosecours.services.validation import validate_prescription

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
    draft = prescribe(conn, team["DR1"], cure, today=TODAY)
    assert [p["id"] for p in pending_validations(conn)] == [draft["prescription_id"]]
    cancel_cure(conn, team["DR1"], cure, "erreur de protocole", now=at(8))
    assert pending_validations(conn) == []
    refused(
        conn,
        "TRANSITION",
        validate_prescription,
        team["PH1"],
        draft["prescription_id"],
        today=TODAY,
        match="annulée",
    )
    refused(conn, "TRANSITION", prescribe, team["DR1"], cure, today=TODAY, match="annulée")


def test_pharmacist_cancels_a_cure_with_bags_in_every_state(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    oxali, fluo = lines_of(conn, cures["martin"])
    dispensed = _dispensed(conn, team, oxali, at(9))
    released = _released(conn, team, fluo, at(9, 10))
    seq_before = conn.execute("SELECT max(seq) FROM audit_event").fetchone()[0]

    result = cancel_cure(conn, team["PH1"], cures["martin"], "aggravation clinique", now=at(10))
    assert [b["number"] for b in result["cancelled_bags"]] == [released["ord_number"]]
    assert [b["number"] for b in result["bags_to_return"]] == [dispensed["ord_number"]]
    assert result["released_bags_left"] == []
    assert _state(conn, "preparations", released["id"]) == "cancelled"
    assert _state(conn, "preparations", dispensed["id"]) == "dispensed"  # the register keeps it
    reason = conn.execute(
        "SELECT cancel_reason, cancelled_by_initials FROM preparations WHERE id = ?",
        (released["id"],),
    ).fetchone()
    assert tuple(reason) == ("cure annulée : aggravation clinique", "PH1")

    # one transaction, one event per entity changed: the cancelled bag, then the cure
    events = _events(conn, "annuler_cure")
    assert [(e["entity"], e["entity_id"]) for e in events] == [
        ("préparation", str(released["id"])),
        ("cure", str(cures["martin"])),
    ]
    assert [e["seq"] for e in events] == [seq_before + 1, seq_before + 2]
    after = conn.execute(
        "SELECT after_json FROM audit_event WHERE action = 'annuler_cure' AND entity = 'cure'"
    ).fetchone()[0]
    assert dispensed["ord_number"] in after and "à_retourner" in after

    # the dispensed bag: not to be administered, back to the pharmacy
    row = next(r for r in day_status(conn, TODAY, now=at(10, 5)) if r["line_id"] == oxali["id"])
    assert row["state"] == "cancelled" and "retour à la pharmacie" in row["blocking"]
    refused(
        conn,
        "CURE_ANNULEE",
        administer,
        team["IDE1"],
        preparation=dispensed["id"],
        started_at=at(10, 10),
        ended_at=at(10, 30),
        now=at(10, 40),
    )
    refused(conn, "TRANSITION", cancel_cure, team["PH1"], cures["martin"], "x", match="déjà")
    assert check_sequence(conn).ok and audit.verify(conn).ok


def test_prescriber_leaves_a_released_bag_to_a_pharmacist(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["durand"], now=at(8))
    pacli, carbo = lines_of(conn, cures["durand"])
    released = _released(conn, team, pacli, at(9))
    prepared = _prepared(conn, team, carbo, at(9, 30))

    result = cancel_cure(conn, team["DR1"], cures["durand"], "refus du patient", now=at(10))
    assert [b["number"] for b in result["cancelled_bags"]] == [prepared["ord_number"]]
    assert [b["number"] for b in result["released_bags_left"]] == [released["ord_number"]]
    assert _state(conn, "preparations", released["id"]) == "released"
    assert _state(conn, "preparations", prepared["id"]) == "cancelled"
    row = next(r for r in day_status(conn, TODAY, now=at(10)) if r["line_id"] == pacli["id"])
    assert row["state"] == "cancelled" and released["ord_number"] in row["blocking"]
    # the released bag goes no further, and only a pharmacist cancels it
    refused(conn, "CURE_ANNULEE", dispense, team["PR1"], released["id"], recipient="IDE")
    refused(conn, "ROLE", cancel_preparation, team["PR1"], released["id"], "cure annulée")
    cancel_preparation(conn, team["PH1"], released["id"], "cure annulée", now=at(10, 5))
    row = next(r for r in day_status(conn, TODAY, now=at(10, 6)) if r["line_id"] == pacli["id"])
    assert row["blocking"] is None
    # the line of a cancelled cure cannot be prepared again
    refused(conn, "", prepare, team["PR1"], carbo["id"], now=at(10, 10))
    assert check_sequence(conn).ok and audit.verify(conn).ok


def test_cancel_refusals_write_nothing(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    cure = cures["leroy"]
    refused(conn, "ROLE", cancel_cure, team["PR1"], cure, "x")
    refused(conn, "ROLE", cancel_cure, team["IDE1"], cure, "x")
    refused(conn, "", cancel_cure, team["DR1"], cure, "   ", match="motif")
    refused(conn, "CURE_INCONNUE", cancel_cure, team["DR1"], 999, "x")
    cancel_cure(conn, team["DR1"], cure, "décision de RCP", now=at(8))
    refused(conn, "TRANSITION", cancel_cure, team["DR1"], cure, "x", match="double clic")
    # nothing moves a cancelled cure back, not even behind the application's back
    with pytest.raises(sqlite3.IntegrityError, match="annulation non modifiable"):
        conn.execute("UPDATE cures SET state = 'validated' WHERE id = ?", (cure,))


def test_fully_administered_cure_is_not_cancelled(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    _administer_day(conn, team, cures["martin"])
    text = refused(conn, "CURE_ADMINISTREE", cancel_cure, team["PH1"], cures["martin"], "x")
    assert "entièrement administrée" in text


def test_what_was_given_still_counts_after_the_cure_is_cancelled(day):
    """LEROY: doxorubicin J1 given, the cure cancelled before J8: the J1 dose stays in the
    cumulative history and the cure stays the previous one for the interval check."""
    from oncosecours.services.validation import build_facts
    from oncosecours.store.circuit import cure_by_id, inclusion_by_id, patient_by_id

    conn, team, cures = day["conn"], day["team"], day["cures"]
    leroy = cures["leroy"]
    give_go_ahead(conn, team["DR1"], leroy, now=at(8))
    _administer_day(conn, team, leroy)
    result = cancel_cure(conn, team["DR1"], leroy, "cardiotoxicité", now=at(16))
    assert (result["lines"], result["administered_lines"]) == (2, 1)  # J1 given, J8 not

    rows = [r for r in day_status(conn, TODAY, now=at(16)) if r["cure_id"] == leroy]
    assert [r["state"] for r in rows] == ["administered"]
    j8 = TODAY + timedelta(days=7)
    rows = [r for r in day_status(conn, j8, now=at(8, day=j8)) if r["cure_id"] == leroy]
    assert [r["state"] for r in rows] == ["cancelled"]

    second = cure_by_id(conn, _cure_of_cycle(conn, leroy, 2))
    facts = build_facts(
        conn,
        patient=patient_by_id(conn, second["patient_id"]),
        inclusion=inclusion_by_id(conn, second["inclusion_id"]),
        cure=second,
        head={"on_date": second["planned_date"]},
        lines=[],
    )
    assert facts.previous_cure_date == TODAY.isoformat()
    doses = [(d.molecule, d.given_on) for d in facts.cumulative_history if d.source == "crise"]
    assert doses == [("DOXORUBICINE", TODAY.isoformat())]  # J1 only: J8 was never given

    # a cancelled cure that was never given counts for nothing
    other = cures["durand"]
    cancel_cure(conn, team["DR1"], other, "refus", now=at(16, 1))
    second = cure_by_id(conn, _cure_of_cycle(conn, other, 2))
    facts = build_facts(
        conn,
        patient=patient_by_id(conn, second["patient_id"]),
        inclusion=inclusion_by_id(conn, second["inclusion_id"]),
        cure=second,
        head={"on_date": second["planned_date"]},
        lines=[],
    )
    assert facts.previous_cure_date is None and not facts.cumulative_history


# --- stopping an inclusion ----------------------------------------------------------------------


def test_stop_inclusion_cancels_the_remaining_cures(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["martin"], now=at(8))
    _administer_day(conn, team, cures["martin"])  # cycle 1 entirely given
    inclusion = _inclusion_of(conn, cures["martin"])
    total = conn.execute(
        "SELECT count(*) FROM cures WHERE inclusion_id = ?", (inclusion,)
    ).fetchone()[0]

    result = stop_inclusion(conn, team["DR1"], inclusion, "progression", now=at(16))
    assert [c["cure_id"] for c in result["kept_cures"]] == [cures["martin"]]
    assert len(result["cancelled_cures"]) == total - 1
    states = dict(
        conn.execute("SELECT cycle, state FROM cures WHERE inclusion_id = ?", (inclusion,))
    )
    assert states[1] == "go_ahead" and {states[c] for c in states if c > 1} == {"cancelled"}
    reasons = {
        r[0]
        for r in conn.execute(
            "SELECT cancel_reason FROM cures WHERE inclusion_id = ? AND cycle > 1", (inclusion,)
        )
    }
    assert reasons == {"arrêt du protocole : progression"}
    row = dict(conn.execute("SELECT * FROM inclusions WHERE id = ?", (inclusion,)).fetchone())
    assert (row["state"], row["stop_reason"], row["stopped_by_initials"]) == (
        "stopped",
        "progression",
        "DR1",
    )
    events = _events(conn, "arrêter_inclusion")
    assert [e["entity"] for e in events] == ["cure"] * (total - 1) + ["inclusion"]
    refused(conn, "TRANSITION", stop_inclusion, team["DR1"], inclusion, "x", match="déjà")
    assert audit.verify(conn).ok


def test_stop_inclusion_with_bags_and_refusals(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    give_go_ahead(conn, team["DR1"], cures["durand"], now=at(8))
    pacli, _carbo = lines_of(conn, cures["durand"])
    prepared = _prepared(conn, team, pacli, at(9))
    inclusion = _inclusion_of(conn, cures["durand"])
    refused(conn, "ROLE", stop_inclusion, team["IDE1"], inclusion, "x")
    refused(conn, "", stop_inclusion, team["DR1"], inclusion, "", match="motif")
    refused(conn, "", stop_inclusion, team["DR1"], 999, "x", match="Inclusion inconnue")

    result = stop_inclusion(conn, team["PH1"], inclusion, "toxicité", now=at(10))
    first = result["cancelled_cures"][0]
    assert first["cure_id"] == cures["durand"]
    assert [b["number"] for b in first["cancelled_bags"]] == [prepared["ord_number"]]
    events = _events(conn, "arrêter_inclusion")
    assert events[0]["entity"] == "préparation" and events[-1]["entity"] == "inclusion"
    assert audit.verify(conn).ok and check_sequence(conn).ok


# --- withdrawing a go-ahead ---------------------------------------------------------------------


def test_withdraw_a_go_ahead_then_give_it_again(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    cure = cures["durand"]
    give_go_ahead(conn, team["DR1"], cure, now=at(8))
    # a go-ahead is not "withheld" after the fact: it is withdrawn
    text = refused(conn, "TRANSITION", withhold_go_ahead, team["DR1"], cure, "fièvre", now=at(8, 5))
    assert "se retire" in text
    result = withdraw_go_ahead(conn, team["DR1"], cure, "  fièvre  38,9 °C ", now=at(8, 10))
    assert result["reason"] == "fièvre 38,9 °C" and result["cure_state"] == "withheld"
    assert _state(conn, "cures", cure) == "withheld"
    row = conn.execute("SELECT * FROM go_aheads WHERE id = ?", (result["id"],)).fetchone()
    assert row["decision"] == "withheld" and row["withdraws_id"] == result["withdraws_id"]

    rows = [r for r in day_status(conn, TODAY, now=at(8, 15)) if r["cure_id"] == cure]
    assert {r["state"] for r in rows} == {"withheld"}
    assert rows[0]["blocking"].startswith("feu vert retiré par DR1 : fièvre 38,9 °C")
    assert rows[0]["steps"]["go_ahead"]["withdrawn"] is True
    waiting = next(w for w in waiting_cures(conn, TODAY) if w["cure_id"] == cure)
    assert waiting["withdrawn"] and waiting["state"] == "withheld"
    pacli, _carbo = lines_of(conn, cure)
    refused(conn, "FEU_VERT_ABSENT", prepare, team["PR1"], pacli["id"], now=at(9), match="fièvre")
    refused(conn, "TRANSITION", withdraw_go_ahead, team["DR1"], cure, "x", now=at(9))

    give_go_ahead(conn, team["DR1"], cure, now=at(11))
    assert _state(conn, "cures", cure) == "go_ahead"
    prepare(conn, team["PR1"], pacli["id"], now=at(11, 5))
    entry = conn.execute(
        "SELECT before_json, after_json FROM audit_event WHERE action = 'retirer_feu_vert'"
    ).fetchone()
    assert '"go_ahead"' in entry[0] and "fièvre" in entry[1]
    assert audit.verify(conn).ok


def test_withdraw_refused_while_a_bag_of_the_day_exists(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    cure = cures["martin"]
    give_go_ahead(conn, team["DR1"], cure, now=at(8))
    oxali, fluo = lines_of(conn, cure)
    first = _controlled(conn, team, oxali, at(9))
    rejected = _controlled(conn, team, fluo, at(9, 5))
    from oncosecours.services.release import reject_preparation

    reject_preparation(conn, team["PH1"], rejected["id"], "fuite", now=at(9, 10))
    text = refused(conn, "FEU_VERT_POCHES", withdraw_go_ahead, team["DR1"], cure, "x", now=at(10))
    assert first["ord_number"] in text and "contrôlée" in text
    assert "Annuler d'abord les préparations" in text
    assert rejected["ord_number"] not in text  # a bag rejected at release is dead
    cancel_preparation(conn, team["PH1"], first["id"], "feu vert à retirer", now=at(10, 1))
    withdraw_go_ahead(conn, team["DR1"], cure, "bilan hépatique perturbé", now=at(10, 2))
    assert _state(conn, "cures", cure) == "withheld"


def test_withdraw_refused_once_a_line_of_the_day_is_administered(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    cure = cures["martin"]
    give_go_ahead(conn, team["DR1"], cure, now=at(8))
    support = next(r for r in lines_of(conn, cure, prepared_only=False) if r["line_type"] != 1)
    administer(
        conn, team["IDE1"], line_id=support["id"], started_at="08:30", ended_at="08:45", now=at(9)
    )
    text = refused(conn, "FEU_VERT_POCHES", withdraw_go_ahead, team["DR1"], cure, "x", now=at(9))
    assert "administrée" in text


def test_withdraw_refusals_write_nothing(day):
    conn, team, cures = day["conn"], day["team"], day["cures"]
    cure = cures["leroy"]
    refused(conn, "TRANSITION", withdraw_go_ahead, team["DR1"], cure, "x", now=at(8))
    give_go_ahead(conn, team["DR1"], cure, now=at(8))
    refused(conn, "ROLE", withdraw_go_ahead, team["PH1"], cure, "x", now=at(8, 1))
    refused(conn, "FEU_VERT_MOTIF", withdraw_go_ahead, team["DR1"], cure, " ", now=at(8, 1))
    refused(conn, "CURE_INCONNUE", withdraw_go_ahead, team["DR1"], 999, "x", now=at(8, 1))
    other = cures["durand"]
    withhold_go_ahead(conn, team["DR1"], other, "PNN bas", now=at(8))
    refused(
        conn, "TRANSITION", withdraw_go_ahead, team["DR1"], other, "x", now=at(9), match="refusé"
    )
    text = refused(
        conn, "FEU_VERT_JOUR", withdraw_go_ahead, team["DR1"], cure, "x", TODAY.replace(day=3)
    )
    assert "aucune ligne ce jour" in text and "02/03/2026" in text
    cancel_cure(conn, team["DR1"], cure, "annulée", now=at(8, 2))
    refused(conn, "TRANSITION", withdraw_go_ahead, team["DR1"], cure, "x", now=at(8, 3))
    # the register of decisions guards itself: a withdrawal must follow the go-ahead in force
    with pytest.raises(sqlite3.IntegrityError, match="retrait"):
        conn.execute(
            "INSERT INTO go_aheads (cure_id, prescription_id, admin_date, decision, reason, "
            "decided_by, decided_by_initials, decided_by_name, decided_at, withdraws_id) "
            "SELECT cure_id, prescription_id, admin_date, 'withheld', 'x', decided_by, "
            "decided_by_initials, decided_by_name, decided_at, id FROM go_aheads "
            "WHERE cure_id = ?",
            (other,),
        )


def test_withdraw_one_day_of_a_cure_keeps_the_other_day(day):
    """LEROY's cure has J1 and J8: withdrawing J8's go-ahead leaves the cure 'feu vert' (J1)."""
    conn, team, cures = day["conn"], day["team"], day["cures"]
    cure = cures["leroy"]
    j8 = TODAY + timedelta(days=7)
    give_go_ahead(conn, team["DR1"], cure, now=at(8))
    give_go_ahead(conn, team["DR1"], cure, now=at(8, day=j8))
    result = withdraw_go_ahead(conn, team["DR1"], cure, "mucite", now=at(9, day=j8))
    assert result["date"] == j8.isoformat() and result["cure_state"] == "go_ahead"
    assert _state(conn, "cures", cure) == "go_ahead"
    [j8_row] = [r for r in day_status(conn, j8, now=at(9, day=j8)) if r["cure_id"] == cure]
    assert j8_row["state"] == "withheld" and "mucite" in j8_row["blocking"]
    [j1_row] = [r for r in day_status(conn, TODAY, now=at(9)) if r["cure_id"] == cure]
    assert j1_row["state"] == "go_ahead"
    # J1 withdrawn too (from J8, a later day): nothing left in force, the cure is withheld
    withdraw_go_ahead(conn, team["DR1"], cure, "report", TODAY, now=at(9, 5, day=j8))
    assert _state(conn, "cures", cure) == "withheld"
