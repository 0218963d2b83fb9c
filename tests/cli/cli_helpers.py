"""Helpers of the CLI acceptance tests (imported by name: the conftest puts this folder on
sys.path)."""

from __future__ import annotations

from datetime import date

import production_fixtures as fx


def actors(conn) -> dict:
    from oncosecours.services.core import Actor

    return {
        r["initials"]: Actor(r["id"], r["initials"], r["name"], r["role"])
        for r in conn.execute("SELECT id, initials, name, role FROM users")
    }


def planned_cure(conn, row=None) -> int:
    """A patient of ``fx.PATIENTS`` created and included today: the id of its planned cure."""
    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.patients import create_patient

    team = actors(conn)
    _key, protocol, birth, first, born, sex, ipp, weight, height, creat = row or fx.PATIENTS[0]
    today = date.today()
    person = create_patient(
        conn,
        team["DR1"],
        birth_name=birth,
        first_name=first,
        birth_date=born,
        sex=sex,
        ipp=ipp,
        ward="Hôpital de jour oncologie",
        weight_kg=weight,
        height_cm=height,
        creatinine_umol_l=creat,
        measured_on=today,
    )
    inclusion = include_patient(conn, team["DR1"], person["id"], protocol, today)
    return inclusion["cures"][0]["id"]
