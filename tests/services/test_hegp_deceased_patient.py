"""The real HEGP backup: patient 4444444444 died on 2011-03-06; bringing them in is refused
(rule PATIENT_DECEDE), a living patient of the same backup is brought in."""

from __future__ import annotations

from datetime import date

import pytest

from oncosecours.domain.errors import OncoError


def test_the_deceased_hegp_patient_is_refused_and_a_living_one_imported(conn, admin):
    from pathlib import Path

    from oncosecours.services.patients import import_patient
    from oncosecours.services.refresh import refresh_snapshot
    from oncosecours.services.users import create_user

    hegp = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "chimio-hegp"
    refresh_snapshot(conn, admin, hegp, today=date(2023, 9, 8))
    doctor = create_user(conn, admin, "DR9", "Dr Test", "prescripteur", "4826")
    with pytest.raises(OncoError) as info:
        import_patient(
            conn,
            doctor,
            "4444444444",
            birth_name="ANONYME",
            first_name="Alice",
            today=date(2023, 9, 8),
        )
    assert info.value.rule == "PATIENT_DECEDE" and "06/03/2011" in str(info.value)
    assert conn.execute("SELECT count(*) FROM patients").fetchone()[0] == 0
    alive = import_patient(
        conn,
        doctor,
        "2222222222",
        birth_name="ANONYME",
        first_name="Berthe",
        today=date(2023, 9, 8),
    )
    assert alive["ref_patient_id"] == "2222222222"
