"""The people of the demo: a synthetic team and synthetic patients (no real person).

Every name, birth date and IPP here is invented. The PIN is the same for the whole team and is
printed in the summary: it is a demonstration PIN, never to be used in a real unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from oncosecours.domain import pins

DEMO_PIN = pins.DEMO_PIN  # trivial on purpose: accepted in the demo only
WARD = "Hôpital de jour d'oncologie"


@dataclass(frozen=True)
class Member:
    initials: str
    name: str
    role: str


ADMIN = Member("ADM", "Administrateur de la démonstration", "administrateur")

TEAM: tuple[Member, ...] = (
    Member("DR1", "Dr Claire Morel", "prescripteur"),
    Member("DR2", "Dr Karim Benali", "prescripteur"),
    Member("PH1", "Anne Lefèvre", "pharmacien"),
    Member("PH2", "Marc Dubreuil", "pharmacien"),
    Member("PR1", "Luc Perrin", "préparateur"),
    Member("PR2", "Léa Moulin", "préparateur"),
    Member("IDE1", "Julie Caron", "infirmier"),
)


@dataclass(frozen=True)
class DemoPatient:
    """A synthetic patient of the crisis day and what happens to them."""

    key: str
    birth_name: str
    first_name: str
    birth_date: str
    sex: str
    ipp: str
    weight_kg: float
    height_cm: float
    creatinine_umol_l: float
    protocol: str  # protocol name in the synthetic backup (DEMO_PROTOCOLS of the generator)
    prescriber: str
    t0: str  # "HH:MM": start of the day's plan de soins
    usual_name: str | None = None
    creatinine_days_ago: int = 0  # an old creatinine (justified at validation)


# Thomas GARNIER: carboplatin by AUC (Calvert); a young, heavy man whose GFR is capped at
# 125 mL/min; his creatinine is 12 days old (blocking rule, passed with a justification).
# Lucien FAURE: R-CHOP, vincristine 1.4 mg/m² capped at 2 mg; go-ahead withheld then given.
# Nadia ROCHE: mFOLFOX6; oxaliplatin first prescribed in NaCl 0.9 % (refused), then in G5 %.
# The fourth patient is the homonym of a backup patient (name and birth date taken from the
# synthetic backup at run time): refused, then confirmed as a different person.
PATIENTS: tuple[DemoPatient, ...] = (
    DemoPatient(
        key="garnier",
        birth_name="GARNIER",
        first_name="Thomas",
        birth_date="1981-03-14",
        sex="M",
        ipp="D0000101",
        weight_kg=92.0,
        height_cm=182.0,
        creatinine_umol_l=62.0,
        protocol="CARBOPLATINE AUC5 - PACLITAXEL 175 J1=J21",
        prescriber="DR1",
        t0="10:30",
        creatinine_days_ago=12,
    ),
    DemoPatient(
        key="faure",
        birth_name="FAURE",
        first_name="Lucien",
        birth_date="1950-06-02",
        sex="M",
        ipp="D0000102",
        weight_kg=80.0,
        height_cm=175.0,
        creatinine_umol_l=88.0,
        protocol="R-CHOP 21",
        prescriber="DR1",
        t0="11:00",
    ),
    DemoPatient(
        key="roche",
        birth_name="ROCHE",
        first_name="Nadia",
        birth_date="1968-11-23",
        sex="F",
        ipp="D0000103",
        weight_kg=63.0,
        height_cm=164.0,
        creatinine_umol_l=71.0,
        protocol="mFOLFOX6",
        prescriber="DR2",
        t0="11:30",
        usual_name="BERTIN",
    ),
)

# What the homonym patient gets once confirmed as a different person.
HOMONYM = {
    "key": "homonyme",
    "ipp": "D0000104",
    "weight_kg": 66.0,
    "height_cm": 160.0,
    "creatinine_umol_l": 64.0,
    "protocol": "PACLITAXEL 80 HEBDOMADAIRE J1 J8 J15 =J21",
    "prescriber": "DR1",
    "t0": "12:00",
}
# If the backup holds no usable patient (names and birth date), a crisis patient is created
# first under this identity, and the homonym is caught against them.
FALLBACK_HOMONYM = {
    "birth_name": "DUFOUR",
    "first_name": "Hélène",
    "birth_date": "1959-12-13",
    "sex": "F",
    "ipp": "D0000199",
}

# A synthetic patient prescribed (preview only, on a scratch copy of the store: nothing saved)
# on the REAL HEGP thesaurus, loaded with the synthetic backup into the day's store.
HEGP_PATIENT = {
    "birth_name": "MERCIER",
    "first_name": "Paul",
    "birth_date": "1960-05-05",
    "sex": "M",
    "ipp": "D0000201",
    "weight_kg": 70.0,
    "height_cm": 172.0,
    "creatinine_umol_l": 80.0,
}
HEGP_PROTOCOL = "FOLFOX 4 Simplifié"

LES_DEMO_CODE = "I000157"
"""A fictitious LES indication code for rituximab, added by the demo's settings file."""
