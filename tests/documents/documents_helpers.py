"""Helpers of the document tests (imported by name: this folder is put on sys.path by its
conftest). A real crisis day built through the services (snapshot, patients with awkward names, circuit
up to preparation, lots, control, release, a cancellation), shared by the document tests.

The snapshot and the team come from the production tests' helpers (tests/production).
"""

from __future__ import annotations

import sys
from pathlib import Path

PRODUCTION = Path(__file__).resolve().parents[1] / "production"
if str(PRODUCTION) not in sys.path:
    sys.path.insert(0, str(PRODUCTION))

import production_fixtures as fx  # noqa: E402

LONG_BIRTH = (
    "DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL D'ARTAGNAN DU PLESSIS-BELLIÈRE "
    "DE SAINT-EXUPÉRY-VILLENEUVE"
)
PATIENTS = [
    # key, protocol, birth_name, usual_name, first_name, birth_date, sex, ipp, ward, w, h, creat
    (
        "obrien",
        1,
        "O'BRIEN",
        None,
        "Seán",
        "1958-09-03",
        "M",
        "9100001",
        'Oncologie <médicale> & "thoracique"',
        78.0,
        180.0,
        85.0,
    ),
    (
        "ndiaye",
        2,
        "N'DIAYE",
        "DIOP",
        "Aïssatou",
        "1961-02-14",
        "F",
        "9100002",
        "Hôpital de jour d'oncologie",
        64.0,
        165.0,
        70.0,
    ),
    (
        "long",
        3,
        LONG_BIRTH,
        "CASTELNAU-MAGNOAC-LABARTHE-DE-NESTE",
        "Marie-Hélène Françoise Éléonore",
        "1949-12-31",
        "F",
        None,
        None,
        58.0,
        160.0,
        60.0,
    ),
]
MONITORING = "NFS, plaquettes avant chaque cure\nNeuropathie : grade & évolution <à noter>"
HOSPITAL = "Hôpital Saint-Éloi & Lariboisière <test>"


def _prescribe_and_validate(conn, team, row):
    from oncosecours.domain.checks import blocking_rules
    from oncosecours.services.inclusion import include_patient
    from oncosecours.services.patients import create_patient
    from oncosecours.services.prescription import prescribe
    from oncosecours.services.validation import findings_for, validate_prescription

    key, protocol, birth, usual, first, born, sex, ipp, ward, weight, height, creat = row
    person = create_patient(
        conn,
        team["DR1"],
        birth_name=birth,
        usual_name=usual,
        first_name=first,
        birth_date=born,
        sex=sex,
        ipp=ipp,
        ward=ward,
        weight_kg=weight,
        height_cm=height,
        creatinine_umol_l=creat,
        measured_on=fx.TODAY,
        today=fx.TODAY,
    )
    inclusion = include_patient(conn, team["DR1"], person["id"], protocol, fx.TODAY, today=fx.TODAY)
    cure_id = inclusion["cures"][0]["id"]
    draft = prescribe(conn, team["DR1"], cure_id, today=fx.TODAY)
    findings = findings_for(conn, draft["prescription_id"], today=fx.TODAY)
    validate_prescription(
        conn,
        team["PH1"],
        draft["prescription_id"],
        justifications={rule: "justifié pour le test" for rule in blocking_rules(findings)},
        today=fx.TODAY,
    )
    return cure_id


def build_day(path: Path) -> dict:
    """The store file of the scenario; returns what the tests need to know about it."""
    from oncosecours.services.go_ahead import give_go_ahead
    from oncosecours.services.preparation import cancel_preparation, prepare, record_lots
    from oncosecours.services.release import control_preparation, release_preparation
    from oncosecours.services.users import bootstrap_admin
    from oncosecours.store.db import connect

    conn = connect(path)
    admin = bootstrap_admin(conn, "ADM", "Administrateur Test", "7391")
    fx.load_snapshot(conn)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "UPDATE ref_protocols SET monitoring = ?, remarks = ? WHERE protocol_id = 1",
        (MONITORING, "Éviter le froid (neurotoxicité)"),
    )
    conn.execute("COMMIT")
    team = fx.make_team(conn, admin)
    cures = {row[0]: _prescribe_and_validate(conn, team, row) for row in PATIENTS}
    for index, cure_id in enumerate(cures.values()):
        give_go_ahead(conn, team["DR1"], cure_id, now=fx.at(8, index))
    sheets = {}
    minute = 0
    for key, cure_id in cures.items():
        for line in fx.lines_of(conn, cure_id):
            minute += 3
            draft = prepare(conn, team["PR1"], line["id"], now=fx.at(9, minute))
            sheets.setdefault(key, []).append(
                record_lots(
                    conn,
                    team["PR1"],
                    draft["ord_number"],
                    fx.lots_for(draft),
                    now=fx.at(9, minute + 1),
                )
            )
    first = sheets["obrien"][0]
    control_preparation(
        conn,
        team["PR2"],
        first["ord_number"],
        first["target_weight_g"],
        visual_ok=True,
        now=fx.at(10),
    )
    release_preparation(conn, team["PH2"], first["ord_number"], now=fx.at(10, 10))
    cancelled = sheets["obrien"][1]
    cancel_preparation(
        conn, team["PH1"], cancelled["ord_number"], "Poche percée", now=fx.at(10, 20)
    )
    conn.close()
    return {
        "path": path,
        "cures": cures,
        "numbers": {k: [s["ord_number"] for s in v] for k, v in sheets.items()},
        "released": first["ord_number"],
        "cancelled": cancelled["ord_number"],
    }


def docx_text(path: Path) -> str:
    from docx2python import docx2python

    with docx2python(str(path)) as document:
        return document.text


def has_soffice() -> bool:
    from oncosecours.documents.pdf import soffice

    return soffice() is not None
