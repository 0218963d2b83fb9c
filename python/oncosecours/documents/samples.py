"""Synthetic sample data for every template (no real patient): checker, demo, bench, tests.

The samples are *store records* (rows shaped like the tables of migrations 0003/0004) that go
through the same mapping as the real data (:mod:`oncosecours.documents.context`). They are
chosen to break templates: apostrophes (O'Brien, N'Diaye), ``&``, ``<``, ``>``, quotes,
accents and non-Latin letters, very long names, empty optional fields, a cancelled bag,
control characters in free text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from oncosecours.documents import context as C

NOW = dt.datetime(2026, 3, 7, 7, 42)
DAY = "2026-03-07"
BACKUP = "2026-03-05"


def _prep(**values: Any) -> dict[str, Any]:
    base = {
        "id": 1,
        "ord_scope": "2026",
        "ord_seq": 123,
        "ord_year": 2026,
        "ord_number": "2026-000123",
        "prescription_line_id": 1,
        "patient_ipp": "80012345",
        "patient_birth_name": "N'Diaye",
        "patient_usual_name": None,
        "patient_first_name": "Aïssatou",
        "patient_birth_date": "1961-02-14",
        "patient_sex": "F",
        "patient_ward": "Hôpital de jour d'oncologie",
        "patient_weight_kg": 64.0,
        "patient_height_cm": 165.0,
        "patient_bsa_m2": 1.71,
        "prescriber_name": "Dr Élise Martin",
        "prescribed_at": "2026-03-06T15:02:00+01:00",
        "protocol_name": "FOLFOX 4",
        "cycle": 3,
        "day": 1,
        "admin_date": DAY,
        "line_no": 3,
        "molecule_id": 4,
        "molecule_name": "Oxaliplatine",
        "dose": 145.0,
        "unit": "mg",
        "route": "IV",
        "duration_min": 120,
        "les_code": None,
        "products_json": json.dumps(
            [
                {
                    "product_id": 9001,
                    "name": "OXALIPLATINE 100 mg/20 mL sol. inj.",
                    "strength_mg": 100,
                    "volume_ml": 20,
                    "count": 2,
                    "volume_to_draw_ml": 29.0,
                }
            ]
        ),
        "drug_volume_ml": 29.0,
        "diluent": "Glucose 5 %",
        "diluent_volume_ml": 250.0,
        "container": "Poche 250 mL sans PVC",
        "final_volume_ml": 279.0,
        "final_conc_mg_ml": 145 / 279,
        "light_protect": 0,
        "filter_um": None,
        "storage": "Température ambiante (15-25 °C)",
        "density": 1.0,
        "stability_h": 6.0,
        "stability_source": "référentiel",
        "target_weight_g": 292.4,
        "weight_min_g": 277.8,
        "weight_max_g": 307.0,
        "tolerance_pct": 5.0,
        "findings_json": json.dumps(["Dilution exclusivement dans le glucose 5 %"]),
        "snapshot_backup_date": BACKUP,
        "prepared_by_initials": "JB",
        "prepared_by_name": "Julie Bernard",
        "prepared_at": "2026-03-07T08:15:00+01:00",
        "use_by": "2026-03-07T14:15:00+01:00",
        "use_by_reason": "stabilité de Oxaliplatine après dilution : 6 h",
        "state": "prepared",
    }
    base.update(values)
    return base


def _line(**values: Any) -> dict[str, Any]:
    base = {
        "id": 1,
        "line_no": 3,
        "day": 1,
        "admin_date": DAY,
        "molecule_name": "Oxaliplatine",
        "line_type": 1,
        "protocol_dose": 85.0,
        "protocol_unit": "mg/m2",
        "theoretical_dose": 145.35,
        "computed_dose": 145.0,
        "dose": 145.0,
        "unit": "mg",
        "dose_overridden": 0,
        "basis": "SC 1,71 m² (DuBois)",
        "basis_value": 1.71,
        "adjustments_json": json.dumps(
            [
                {
                    "rule": "ARRONDI",
                    "message": "Arrondi au mg : 145,35 → 145 mg",
                    "before": 145.35,
                    "after": 145.0,
                    "unit": "mg",
                }
            ]
        ),
        "reduction_pct": 0,
        "reduction_reason": None,
        "reduction_source": None,
        "diluent": "Glucose 5 %",
        "diluent_volume_ml": 250.0,
        "route": "IV",
        "duration_min": 120,
        "time_offset_min": 0,
        "comment": None,
    }
    base.update(values)
    return base


_PRESCRIPTION = {
    "on_date": "2026-03-06",
    "prescriber_name": "Dr Élise Martin",
    "weight_kg": 64.0,
    "height_cm": 165.0,
    "bsa_m2": 1.71,
    "bsa_formula": "dubois",
    "creatinine_umol_l": 72.0,
    "creatinine_date": "2026-03-05",
    "gfr_ml_min": 89.4,
    "renal_formula": "cockcroft_gault",
}


def preparation_records() -> list[dict[str, Any]]:
    """Five bags: released with lots, prepared with a reduction, long names, empty fields, AUC."""
    standard = {
        "preparation": _prep(state="released"),
        "line": _line(),
        "prescription": dict(_PRESCRIPTION),
        "validation": {
            "pharmacist_name": "Dr Paul Lefèvre",
            "decided_at": "2026-03-06T16:20:00+01:00",
        },
        "lots": [
            {
                "component": "OXALIPLATINE 100 mg/20 mL sol. inj.",
                "lot": "A123-45",
                "expiry": "2027-01-31",
                "quantity": 2,
            },
            {
                "component": "Glucose 5 % 250 mL",
                "lot": "G77",
                "expiry": "2026-11-30",
                "quantity": 1,
            },
        ],
        "control": {
            "measured_weight_g": 295.1,
            "deviation_pct": 0.92,
            "in_tolerance": 1,
            "visual_ok": 1,
            "controlled_by_initials": "MD",
            "controller_name": "Marc Dupont",
            "double_checker_initials": "JB",
        },
        "release": {
            "decision": "released",
            "pharmacist_name": "Dr Paul Lefèvre",
            "decided_at": "2026-03-07T09:02:00+01:00",
            "justification": None,
        },
        "molecule": {"vesicant": 0},
    }
    reduced = {
        "preparation": _prep(
            id=2,
            ord_seq=124,
            ord_number="2026-000124",
            prescription_line_id=2,
            patient_ipp="80054321",
            patient_birth_name="O'Brien",
            patient_first_name="Seán",
            patient_birth_date="1958-09-03",
            patient_sex="M",
            patient_weight_kg=78.0,
            patient_height_cm=180.0,
            patient_bsa_m2=1.97,
            prescriber_name='Dr Jean "Jeannot" L\'Hôte',
            protocol_name="PACLITAXEL hebdo <80 mg/m²> & trastuzumab",
            cycle=2,
            day=8,
            molecule_name="Paclitaxel",
            dose=126.1,
            duration_min=60,
            products_json=json.dumps(
                [
                    {
                        "name": "PACLITAXEL 6 mg/mL, flacon 16,7 mL (100 mg)",
                        "strength_mg": 100,
                        "volume_ml": 16.7,
                        "count": 2,
                        "volume_to_draw_ml": 21.02,
                    }
                ]
            ),
            drug_volume_ml=21.02,
            diluent="NaCl 0,9 %",
            container="Poche 250 mL sans PVC (polyoléfine)",
            final_volume_ml=271.02,
            final_conc_mg_ml=126.1 / 271.02,
            filter_um=0.22,
            storage="Température ambiante, < 25 °C",
            stability_h=24.0,
            findings_json="[]",
            target_weight_g=273.6,
            weight_min_g=259.9,
            weight_max_g=287.3,
            prepared_at="2026-03-07T08:31:00+01:00",
            use_by="2026-03-08T08:31:00+01:00",
            use_by_reason="stabilité de Paclitaxel après dilution : 24 h",
        ),
        "line": _line(
            id=2,
            protocol_dose=80.0,
            theoretical_dose=157.6,
            computed_dose=126.1,
            dose=126.1,
            basis="SC 1,97 m² (DuBois)",
            basis_value=1.97,
            reduction_pct=20,
            reduction_reason="neutropénie grade 3 & plaquettes < 100 G/L",
            reduction_source="prescripteur",
            adjustments_json=json.dumps(
                [
                    {
                        "rule": "REDUCTION",
                        "message": "Réduction de 20 % : 157,6 → 126,08 mg",
                        "before": 157.6,
                        "after": 126.08,
                        "unit": "mg",
                    },
                    {
                        "rule": "ARRONDI",
                        "message": "Arrondi à 0,1 mg : 126,08 → 126,1 mg",
                        "before": 126.08,
                        "after": 126.1,
                        "unit": "mg",
                    },
                ]
            ),
            comment="Prémédication « dexaméthasone + anti-H1 » > 30 min avant",
        ),
        "prescription": {**_PRESCRIPTION, "gfr_ml_min": None, "creatinine_umol_l": None},
        "validation": None,
        "lots": [],
        "control": None,
        "release": None,
        "molecule": {"vesicant": 0},
    }
    long_names = {
        "preparation": _prep(
            id=3,
            ord_seq=125,
            ord_number="2026-000125",
            prescription_line_id=3,
            patient_ipp="80099999",
            patient_birth_name=(
                "de La Rochefoucauld-Montmorency-Laval d'Artagnan du Plessis-Bellière "
                "de Saint-Exupéry-Villeneuve"
            ),
            patient_usual_name="Castelnau-Magnoac-Labarthe-de-Neste-Lannemezan épouse Dubois-Crancé",
            patient_first_name="Marie-Hélène Françoise Éléonore Geneviève",
            patient_birth_date="1949-12-31",
            patient_ward=(
                "Service d'hématologie clinique et de thérapie cellulaire — "
                "secteur protégé, 4e étage, aile Nord (bâtiment Jean-Bernard)"
            ),
            protocol_name="R-CHOP 21 (rituximab, cyclophosphamide, doxorubicine, vincristine, prednisone)",
            cycle=6,
            molecule_name="Doxorubicine",
            dose=85.5,
            duration_min=15,
            products_json=json.dumps(
                [
                    {
                        "name": "DOXORUBICINE 2 mg/mL, flacon 25 mL (50 mg)",
                        "strength_mg": 50,
                        "volume_ml": 25,
                        "count": 1,
                        "volume_to_draw_ml": 25.0,
                    },
                    {
                        "name": "DOXORUBICINE 2 mg/mL, flacon 10 mL (20 mg)",
                        "strength_mg": 20,
                        "volume_ml": 10,
                        "count": 2,
                        "volume_to_draw_ml": 17.75,
                    },
                ]
            ),
            drug_volume_ml=42.75,
            diluent="NaCl 0,9 %",
            diluent_volume_ml=100.0,
            container="Poche 100 mL opaque",
            final_volume_ml=142.75,
            final_conc_mg_ml=85.5 / 142.75,
            light_protect=1,
            plan_json=json.dumps(
                {
                    "leftover_used": [
                        {
                            "label": "ouvert le 07/03 à 07:10",
                            "product": "DOXORUBICINE 2 mg/mL, flacon 10 mL (20 mg)",
                            "mg": 4.5,
                            "volume_ml": 2.25,
                            "expires_at": "2026-03-08T07:10:00+01:00",
                        }
                    ]
                }
            ),
            storage="Entre 2 et 8 °C, à l'abri de la lumière",
            stability_h=48.0,
            findings_json=json.dumps(
                [{"message": "Dose cumulée d'anthracyclines : 427,5 mg/m² (> 400 mg/m²)"}]
            ),
            target_weight_g=144.9,
            weight_min_g=137.7,
            weight_max_g=152.1,
            prepared_at="2026-03-07T08:47:00+01:00",
            use_by="2026-03-09T08:47:00+01:00",
            use_by_reason="stabilité de Doxorubicine après dilution : 48 h",
        ),
        "line": _line(
            id=3,
            protocol_dose=50.0,
            theoretical_dose=85.5,
            computed_dose=85.5,
            dose=85.5,
            basis_value=1.71,
            adjustments_json="[]",
            comment="Vérifier le reflux veineux\tavant & après\n(rinçage 50 mL)",
        ),
        "prescription": dict(_PRESCRIPTION),
        "validation": {
            "pharmacist_name": "Dr Anne-Sophie d'Ornano-Leclerc",
            "decided_at": "2026-03-06T17:45:00+01:00",
        },
        "lots": [],
        "control": None,
        "release": None,
        "molecule": {"vesicant": 1},
    }
    empty = {
        "preparation": _prep(
            id=4,
            ord_seq=126,
            ord_number="2026-000126",
            prescription_line_id=4,
            patient_ipp=None,
            patient_birth_name="Lee",
            patient_first_name="Bo",
            patient_birth_date="1990-01-01",
            patient_sex="M",
            patient_ward=None,
            patient_weight_kg=None,
            patient_height_cm=None,
            patient_bsa_m2=None,
            protocol_name="AZACITIDINE",
            cycle=1,
            day=5,
            molecule_name="Azacitidine",
            dose=100.0,
            route="SC",
            duration_min=None,
            products_json="[]",
            drug_volume_ml=None,
            diluent=None,
            diluent_volume_ml=None,
            container="Seringue",
            final_volume_ml=4.0,
            final_conc_mg_ml=25.0,
            storage=None,
            stability_h=1.0,
            findings_json="[]",
            target_weight_g=None,
            weight_min_g=None,
            weight_max_g=None,
            tolerance_pct=None,
            snapshot_backup_date=None,
            prepared_at="2026-03-07T09:05:00+01:00",
            use_by="2026-03-07T10:05:00+01:00",
            use_by_reason="",
            state="cancelled",
        ),
        "line": None,
        "prescription": None,
        "validation": None,
        "lots": [],
        "control": None,
        "release": None,
        "molecule": None,
    }
    auc = {
        "preparation": _prep(
            id=5,
            ord_seq=127,
            ord_number="2026-000127",
            prescription_line_id=5,
            patient_ipp="80077777",
            patient_birth_name="Müller-Øster",
            patient_usual_name="Łukasiewicz",
            patient_first_name="Zoë",
            patient_birth_date="1972-07-14",
            patient_ward="Oncologie thoracique",
            patient_weight_kg=58.5,
            patient_height_cm=162.0,
            patient_bsa_m2=1.62,
            protocol_name="CARBOPLATINE AUC 5 – PACLITAXEL",
            cycle=1,
            molecule_name="Carboplatine",
            dose=560.0,
            duration_min=60,
            products_json=json.dumps(
                [
                    {
                        "name": "CARBOPLATINE 10 mg/mL, flacon 45 mL (450 mg)",
                        "strength_mg": 450,
                        "volume_ml": 45,
                        "count": 1,
                        "volume_to_draw_ml": 45.0,
                    },
                    {
                        "name": "CARBOPLATINE 10 mg/mL, flacon 15 mL (150 mg)",
                        "strength_mg": 150,
                        "volume_ml": 15,
                        "count": 1,
                        "volume_to_draw_ml": 11.0,
                    },
                ]
            ),
            drug_volume_ml=56.0,
            diluent="Glucose 5 %",
            diluent_volume_ml=250.0,
            container="Poche 250 mL",
            final_volume_ml=306.0,
            final_conc_mg_ml=560 / 306,
            findings_json="[]",
            target_weight_g=313.3,
            weight_min_g=297.6,
            weight_max_g=329.0,
            prepared_at="2026-03-07T09:20:00+01:00",
            use_by="2026-03-08T09:20:00+01:00",
            use_by_reason="stabilité de Carboplatine après dilution : 24 h",
            state="controlled",
        ),
        "line": _line(
            id=5,
            protocol_dose=5.0,
            protocol_unit="AUC",
            theoretical_dose=562.0,
            computed_dose=560.0,
            dose=560.0,
            basis="DFG 87,4 mL/min (Cockcroft-Gault), Calvert AUC 5",
            basis_value=87.4,
            adjustments_json=json.dumps(
                [
                    {
                        "rule": "ARRONDI",
                        "message": "Arrondi à 10 mg : 562 → 560 mg",
                        "before": 562,
                        "after": 560,
                        "unit": "mg",
                    }
                ]
            ),
        ),
        "prescription": {
            **_PRESCRIPTION,
            "creatinine_umol_l": 61.0,
            "gfr_ml_min": 87.4,
        },
        "validation": {"pharmacist_name": "Dr Paul Lefèvre", "decided_at": "2026-03-06T18:00:00"},
        "lots": [
            {"component": "CARBOPLATINE 450 mg", "lot": "C-450/77", "expiry": "2026-12-31"},
            {"component": "CARBOPLATINE 150 mg", "lot": "C-150/12", "expiry": "2026-10-31"},
            {"component": "Glucose 5 % 250 mL", "lot": "G78", "expiry": "2026-11-30"},
        ],
        "control": {
            "measured_weight_g": 330.2,
            "deviation_pct": 5.39,
            "in_tolerance": 0,
            "visual_ok": 1,
            "controlled_by_initials": "MD",
            "controller_name": "Marc Dupont",
        },
        "release": None,
        "molecule": {"vesicant": 0},
    }
    return [standard, reduced, long_names, empty, auc]


def care_plan_records() -> list[dict[str, Any]]:
    """Three patients' days: FOLFOX 4 J1 with T0, paclitaxel (O'Brien), a minimal day."""
    folfox = [
        _line(
            id=101,
            line_no=1,
            molecule_name="Ondansétron",
            line_type=2,
            dose=8,
            unit="mg",
            diluent="NaCl 0,9 %",
            diluent_volume_ml=50,
            duration_min=15,
            time_offset_min=-30,
            comment="Antiémétique",
        ),
        _line(
            id=102,
            line_no=2,
            molecule_name="Dexaméthasone",
            line_type=2,
            dose=20,
            unit="mg",
            diluent="NaCl 0,9 %",
            diluent_volume_ml=50,
            duration_min=15,
            time_offset_min=-15,
        ),
        _line(
            id=1, line_no=3, time_offset_min=0, comment="En Y avec l'acide folinique (même durée)"
        ),
        _line(
            id=104,
            line_no=4,
            molecule_name="Acide folinique",
            line_type=1,
            dose=350,
            unit="mg",
            diluent="Glucose 5 %",
            diluent_volume_ml=250,
            duration_min=120,
            time_offset_min=0,
        ),
        _line(
            id=105,
            line_no=5,
            molecule_name="Glucose 5 % (rinçage)",
            line_type=3,
            dose=100,
            unit="mL",
            diluent=None,
            diluent_volume_ml=100,
            duration_min=15,
            time_offset_min=120,
        ),
        _line(
            id=106,
            line_no=6,
            molecule_name="Fluorouracile",
            line_type=1,
            dose=680,
            unit="mg",
            diluent=None,
            diluent_volume_ml=None,
            duration_min=10,
            time_offset_min=135,
            route="IV",
            comment="Bolus IV lent",
        ),
        _line(
            id=107,
            line_no=7,
            molecule_name="Fluorouracile",
            line_type=1,
            dose=1020,
            unit="mg",
            diluent="NaCl 0,9 %",
            diluent_volume_ml=230,
            duration_min=1320,
            time_offset_min=145,
            comment="Diffuseur portable 22 h",
        ),
    ]
    standard = preparation_records()[0]["preparation"]
    patient = {
        "ipp": "80012345",
        "birth_name": "N'Diaye",
        "usual_name": None,
        "first_name": "Aïssatou",
        "birth_date": "1961-02-14",
        "sex": "F",
        "ward": "Hôpital de jour d'oncologie",
    }
    first = {
        "patient": patient,
        "prescription": dict(_PRESCRIPTION),
        "cure": {"cycle": 3},
        "protocol_name": "FOLFOX 4",
        "lines": folfox,
        "preparations": {
            1: standard,
            104: _prep(
                id=6,
                ord_number="2026-000128",
                final_volume_ml=285.0,
                use_by="2026-03-07T20:20:00+01:00",
            ),
            106: _prep(
                id=7,
                ord_number="2026-000129",
                final_volume_ml=13.6,
                diluent=None,
                use_by="2026-03-08T08:30:00+01:00",
            ),
            107: _prep(
                id=8,
                ord_number="2026-000130",
                final_volume_ml=250.4,
                use_by="2026-03-10T08:30:00+01:00",
                state="cancelled",
            ),
        },
        "protocol": {
            "monitoring": "NFS, plaquettes avant chaque cure\r\nNeuropathie : grade à chaque cure"
            "\n\nPression artérielle < 140/90 & pouls",
            "remarks": "Neurotoxicité : éviter le froid (boissons, objets) pendant 5 jours",
        },
        "t0": "08:30",
    }
    second = {
        "patient": {
            "ipp": "80054321",
            "birth_name": "O'Brien",
            "usual_name": None,
            "first_name": "Seán",
            "birth_date": "1958-09-03",
            "sex": "M",
            "ward": 'Oncologie <médicale> & "thoracique"',
        },
        "prescription": {
            **_PRESCRIPTION,
            "prescriber_name": 'Dr Jean "Jeannot" L\'Hôte',
            "weight_kg": 78.0,
            "height_cm": 180.0,
            "bsa_m2": 1.97,
        },
        "cure": {"cycle": 2},
        "protocol_name": "PACLITAXEL hebdo <80 mg/m²> & trastuzumab",
        "lines": [
            _line(
                id=201,
                line_no=1,
                day=8,
                molecule_name="Dexaméthasone",
                line_type=2,
                dose=20,
                unit="mg",
                diluent=None,
                diluent_volume_ml=None,
                duration_min=None,
                time_offset_min=-30,
                route="IVD",
            ),
            _line(
                id=202,
                line_no=2,
                day=8,
                molecule_name="Dexchlorphéniramine",
                line_type=2,
                dose=5,
                unit="mg",
                diluent=None,
                diluent_volume_ml=None,
                duration_min=None,
                time_offset_min=-30,
                route="IVD",
            ),
            _line(
                id=203,
                line_no=3,
                day=8,
                molecule_name="NaCl 0,9 % hydratation",
                line_type=2,
                dose=500,
                unit="mL",
                diluent=None,
                diluent_volume_ml=500,
                duration_min=60,
                time_offset_min=-60,
            ),
            _line(
                id=2,
                line_no=4,
                day=8,
                molecule_name="Paclitaxel",
                dose=126.1,
                duration_min=60,
                time_offset_min=0,
                comment="Filtre 0,22 µm ; tubulure sans PVC",
            ),
            _line(
                id=205,
                line_no=5,
                day=8,
                molecule_name="NaCl 0,9 % rinçage",
                line_type=3,
                dose=50,
                unit="mL",
                diluent=None,
                diluent_volume_ml=50,
                duration_min=10,
                time_offset_min=60,
            ),
        ],
        "preparations": {2: preparation_records()[1]["preparation"]},
        "protocol": {
            "monitoring": "Réaction d'hypersensibilité : surveillance rapprochée 15 min",
            "remarks": None,
        },
        "t0": "",
    }
    minimal = {
        "patient": {
            "ipp": None,
            "birth_name": "Lee",
            "usual_name": None,
            "first_name": "Bo",
            "birth_date": "1990-01-01",
            "sex": "M",
            "ward": None,
        },
        "prescription": None,
        "cure": None,
        "protocol_name": "",
        "lines": [],
        "preparations": {},
        "protocol": None,
        "t0": "",
        "day": 5,
        "date": DAY,
    }
    return [first, second, minimal]


def register_records() -> list[dict[str, Any]]:
    """Register entries: the five sample bags plus a few more, out of order."""
    records = [
        {"preparation": rec["preparation"], "lots": rec["lots"]} for rec in preparation_records()
    ]
    extra_names = [("Bernard", "Luc"), ("Abadie", "Chloé"), ("Zidane", "Yanis"), ("O'Neil", "Ann")]
    for index, (name, first) in enumerate(extra_names):
        seq = 100 + index
        records.append(
            {
                "preparation": _prep(
                    id=50 + index,
                    ord_seq=seq,
                    ord_number=f"2026-{seq:06d}",
                    patient_birth_name=name,
                    patient_first_name=first,
                    patient_ipp=f"8000{seq}",
                    molecule_name=["Cisplatine", "Gemcitabine", "Irinotécan", "Bléomycine"][index],
                    dose=[120, 1800, 310, 15][index],
                    unit="UI" if index == 3 else "mg",
                    prepared_at=f"2026-03-0{6 - index % 2}T1{index}:00:00+01:00",
                    state=["administered", "dispensed", "rejected", "released"][index],
                ),
                "lots": [{"component": "Produit", "lot": f"L{seq}", "expiry": "2027-01-31"}],
            }
        )
    return records


def contexts(
    kind: str, settings: Mapping[str, Any] | None = None, now: dt.datetime = NOW
) -> list[dict[str, Any]]:
    """Sample contexts of one template kind (``fabrication``, ``etiquette``, ``plan_de_soins``,
    ``ordonnancier``), built with the real mapping and the given (default: loaded) settings."""
    if settings is None:
        from oncosecours.settings import load_settings

        settings = load_settings()
    if kind in ("fabrication", "etiquette"):
        return [C.preparation(r, settings, now=now, kind=kind) for r in preparation_records()]
    if kind == "plan_de_soins":
        return [C.care_plan(r, settings, backup_date=BACKUP, now=now) for r in care_plan_records()]
    if kind == "ordonnancier":
        records = register_records()
        return [
            C.ordonnancier(
                records,
                settings,
                date_from="2026-03-01",
                date_to=DAY,
                order_by=order,
                now=now,
                backup_date=BACKUP,
            )
            for order in ("date", "patient", "drug")
        ] + [C.ordonnancier([], settings, date_from=DAY, date_to=DAY, now=now, backup_date=BACKUP)]
    if kind == "dossier_patient":
        from oncosecours.documents.dossier import sample_contexts

        return sample_contexts(settings, now)
    raise ValueError(kind)


def bulk_fabrication(count: int, settings: Mapping[str, Any] | None = None) -> list[dict]:
    """``count`` distinct fiche contexts (a large unit's day) for the benchmark."""
    base = contexts("fabrication", settings)
    out = []
    for index in range(count):
        ctx = json.loads(json.dumps(base[index % len(base)]))
        ctx["ordonnancier"]["numero"] = f"2026-{1000 + index:06d}"
        ctx["patient"]["ipp"] = f"8{index:07d}"
        out.append(ctx)
    return out
