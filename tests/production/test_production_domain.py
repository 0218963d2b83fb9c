"""Pure production rules: numbers, use-by, lots, gravimetry, administration timing."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.domain.production import (
    Lot,
    check_administration,
    check_lots,
    check_ordonnancier_format,
    compute_use_by,
    format_ordonnancier,
    gravimetric_check,
    leftover_limits,
    needs_preparation,
    ordonnancier_scope,
    parse_datetime,
    parse_expiry,
    parse_incident,
    parse_lot_text,
    weight_window,
)

TZ = timezone(timedelta(hours=1))
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


def test_number_format_and_scope():
    assert format_ordonnancier("{annee}-{numero:06d}", 2026, 123) == "2026-000123"
    assert format_ordonnancier("URC{numero:05d}", 2026, 7) == "URC00007"
    assert ordonnancier_scope(2026, True) == "2026"
    assert ordonnancier_scope(2026, False) == "continu"


@pytest.mark.parametrize(
    "fmt,yearly,expected",
    [
        ("{annee}-{mois}-{numero}", True, "inutilisable"),
        ("{annee}", False, "sans {numero}"),
        ("N{numero:06d}", True, "se répéteraient"),
    ],
)
def test_bad_formats_are_refused(fmt, yearly, expected):
    with pytest.raises(OncoError, match=expected) as info:
        check_ordonnancier_format(fmt, yearly)
    assert info.value.rule == "ORDONNANCIER_FORMAT"


def test_zero_number_is_refused():
    with pytest.raises(OncoError, match="impossible"):
        format_ordonnancier("{numero}", 2026, 0)


def test_use_by_from_stability_and_earliest_component():
    plain = compute_use_by(T0, 24, molecule="oxaliplatine")
    assert plain.at == T0 + timedelta(hours=24) and "24 h" in plain.reason
    leftover = T0 + timedelta(hours=6)
    earliest = compute_use_by(T0, 24, [("reliquat A", leftover), ("autre", T0 + timedelta(days=3))])
    assert earliest.at == leftover and "reliquat A" in earliest.reason


@pytest.mark.parametrize("stability", [None, 0, -3])
def test_unknown_stability_is_refused_not_guessed(stability):
    with pytest.raises(OncoError) as info:
        compute_use_by(T0, stability, molecule="X")
    assert info.value.rule == "STABILITE"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2027-06-15", date(2027, 6, 15)),
        ("15/06/2027", date(2027, 6, 15)),
        ("06/2027", date(2027, 6, 30)),
        ("2028-02", date(2028, 2, 29)),
    ],
)
def test_expiry_forms(text, expected):
    assert parse_expiry(text) == expected


@pytest.mark.parametrize("text", ["", "13/2027", "2027-02-30", "demain"])
def test_bad_expiry_refused(text):
    with pytest.raises(OncoError, match="péremption invalide"):
        parse_expiry(text)


def _lot(kind="flacon", component="Oxaliplatine 100 mg", expiry=date(2027, 1, 1), **kw):
    return Lot(kind=kind, component=component, lot="AB12", expiry=expiry, **kw)


REQUIRED = [("flacon", "Oxaliplatine 100 mg"), ("diluant", "Glucose 5 %")]


def test_complete_lots_pass():
    check_lots(
        [_lot(), _lot(kind="diluant", component="glucose 5%")],
        REQUIRED,
        T0,
        T0 + timedelta(hours=24),
    )


def test_expired_lot_refused():
    with pytest.raises(OncoError, match="périmé le 01/03/2026") as info:
        check_lots(
            [_lot(expiry=date(2026, 3, 1)), _lot(kind="diluant", component="Glucose 5 %")],
            REQUIRED,
            T0,
            T0 + timedelta(hours=24),
        )
    assert info.value.rule == "LOT_PERIME"


def test_lot_good_on_its_expiry_day_but_not_past_bag_use_by():
    # expires today: good for the preparation, but the bag is good until tomorrow 10:00
    with pytest.raises(OncoError, match="avant la date limite") as info:
        check_lots(
            [_lot(expiry=date(2026, 3, 2)), _lot(kind="diluant", component="Glucose 5 %")],
            REQUIRED,
            T0,
            T0 + timedelta(hours=24),
        )
    assert info.value.rule == "LOT_PEREMPTION_AVANT_POCHE"
    check_lots(
        [_lot(expiry=date(2026, 3, 2)), _lot(kind="diluant", component="Glucose 5 %")],
        REQUIRED,
        T0,
        T0 + timedelta(hours=8),
    )


def test_missing_and_unknown_lots_listed_together():
    with pytest.raises(OncoError) as info:
        check_lots([_lot(component="Cisplatine 50 mg")], REQUIRED, T0, T0 + timedelta(hours=1))
    text = str(info.value)
    assert "Cisplatine 50 mg" in text and "lot manquant" in text and "Glucose 5 %" in text
    with pytest.raises(OncoError) as info:
        check_lots([], REQUIRED, T0, T0)
    assert info.value.rule == "LOTS_MANQUANTS"


def test_lot_text_form_and_errors():
    lot = parse_lot_text("flacon:Oxaliplatine 100 mg:AB-12/3:06/2027:2")
    assert (lot.kind, lot.lot, lot.expiry, lot.quantity) == (
        "flacon",
        "AB-12/3",
        date(2027, 6, 30),
        2,
    )
    with pytest.raises(OncoError, match="illisible"):
        parse_lot_text("flacon:AB12")
    with pytest.raises(OncoError, match="Nature de lot"):
        parse_lot_text("ampoule:X:AB12:06/2027")
    with pytest.raises(OncoError, match="Quantité"):
        parse_lot_text("flacon:X:AB12:06/2027:0")


def test_leftover_limits_need_reconstitution_stability():
    opened = _lot(opened_at=T0 - timedelta(hours=20))
    ((label, limit),) = leftover_limits([opened, _lot()], 24, "X")
    assert limit == T0 + timedelta(hours=4) and "ouvert" in label
    with pytest.raises(OncoError, match="reconstitution"):
        leftover_limits([opened], None, "X")


def test_gravimetry_window_and_flag():
    low, high = weight_window(260.0, 5)
    assert (low, high) == pytest.approx((247.0, 273.0))
    ok = gravimetric_check(255, 260.0, low, high)
    assert ok.within and ok.deviation_pct == pytest.approx(-1.923, abs=1e-3)
    bad = gravimetric_check(240, 260.0, low, high)
    assert not bad.within and "HORS TOLÉRANCE" in bad.message()
    assert gravimetric_check(273.0, 260.0, low, high).within  # bounds included
    for value in (-1, 0, "lourd", float("nan"), True):
        with pytest.raises(OncoError, match="Poids mesuré"):
            gravimetric_check(value, 260.0, low, high)


def test_needs_preparation():
    assert needs_preparation(1, "IV", 12)
    assert not needs_preparation(1, "PO", 12)
    assert not needs_preparation(2, "IV", None)
    assert not needs_preparation(3, "IV", 12)


def test_parse_datetime_forms():
    day = date(2026, 3, 2)
    assert parse_datetime("14h05", "début", day=day).hour == 14
    assert parse_datetime("02/03/2026 14:05", "début").minute == 5
    assert parse_datetime("2026-03-02T14:05:00+01:00", "début") == datetime(
        2026, 3, 2, 14, 5, tzinfo=TZ
    )
    with pytest.raises(OncoError, match="invalides"):
        parse_datetime("25:99", "début", day=day)


def test_administration_rules():
    dispensed = T0
    use_by = T0 + timedelta(hours=6)
    now = T0 + timedelta(hours=10)
    check_administration(
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=3),
        now,
        dispensed_at=dispensed,
        use_by=use_by,
        justification=None,
    )
    cases = [
        (T0 - timedelta(minutes=1), T0 + timedelta(hours=1), "ADMINISTRATION_AVANT_DISPENSATION"),
        (T0 + timedelta(hours=2), T0 + timedelta(hours=1), "ADMINISTRATION_HORAIRE"),
        (T0 + timedelta(hours=9), T0 + timedelta(hours=11), "ADMINISTRATION_HORAIRE"),
        (T0 + timedelta(hours=7), T0 + timedelta(hours=8), "POCHE_PERIMEE"),
    ]
    for start, end, rule in cases:
        with pytest.raises(OncoError) as info:
            check_administration(
                start, end, now, dispensed_at=dispensed, use_by=use_by, justification=" "
            )
        assert info.value.rule == rule
    late = check_administration(
        T0 + timedelta(hours=7),
        T0 + timedelta(hours=8),
        now,
        dispensed_at=dispensed,
        use_by=use_by,
        justification="poche conservée à 4 °C, avis pharmacien",
    )
    assert late.late and "justification" in late.notes[0]


def test_incidents():
    assert parse_incident("extravasation:au pli du coude").kind == "extravasation"
    assert parse_incident({"kind": "arrêt", "comment": "malaise"}).kind == "arret"
    with pytest.raises(OncoError, match="commentaire"):
        parse_incident("reaction:")
    with pytest.raises(OncoError, match="inconnu"):
        parse_incident("chute:x")


def test_times_typed_to_the_minute_are_compared_to_the_minute():
    dispensed = T0 + timedelta(seconds=37)
    check_administration(
        T0, T0, T0 + timedelta(minutes=1), dispensed_at=dispensed, use_by=None, justification=None
    )
    with pytest.raises(OncoError):
        check_administration(
            T0 - timedelta(minutes=1),
            T0,
            T0 + timedelta(minutes=1),
            dispensed_at=dispensed,
            use_by=None,
            justification=None,
        )
