"""Bulk SQL for ``oncosecours bench sortie``: a long crisis written straight into a store whose
snapshot comes from the synthetic generator (``oncosecours synth``).

Every row follows the register's triggers (consecutive numbers, states moved one transition at a
time) and each step writes its audit event, so the exports read a store shaped like a real one;
only the dose engine and the per-click checks are skipped (the bench measures the exports).
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import date, datetime, timedelta

from oncosecours.store import audit


def _molecule_products(conn: sqlite3.Connection) -> list[tuple[dict, list[dict]]]:
    """Injectable molecules that have vials with a strength, liste-en-sus ones first."""
    products: dict[int, list[dict]] = {}
    for row in conn.execute(
        "SELECT * FROM ref_products WHERE strength_mg > 0 AND volume_ml > 0 AND inactive = 0"
    ):
        products.setdefault(row["molecule_id"], []).append(dict(row))
    out = []
    for row in conn.execute(
        "SELECT * FROM ref_molecules WHERE oral = 0 ORDER BY liste_en_sus DESC, molecule_id"
    ):
        if row["molecule_id"] in products:
            out.append((dict(row), products[row["molecule_id"]]))
    return out


def fill_crisis(
    conn: sqlite3.Connection, users: dict[str, int], start: date, days: int, per_day: int,
    seed: int = 7,
) -> dict[str, int]:  # fmt: skip
    """``days`` x ``per_day`` preparations, each prescribed, validated, prepared, controlled,
    released, dispensed and administered (one in 50 left dispensed, never administered)."""
    rng = random.Random(seed)
    found = _molecule_products(conn)
    drugs = [d for d in found if d[0]["liste_en_sus"]][:4] + [
        d for d in found if not d[0]["liste_en_sus"]
    ][:8]
    patients = []
    conn.execute("BEGIN IMMEDIATE")
    for index in range(per_day * 3):
        birth = date(1940 + index % 50, 1 + index % 12, 1 + index % 28).isoformat()
        pid = conn.execute(
            "INSERT INTO patients (ipp, birth_name, first_name, birth_date, sex, ward, folded_key, "
            "created_at, created_by) VALUES (?, ?, ?, ?, ?, 'HDJ', ?, ?, ?)",
            (f"B{index:07d}", f"PATIENT{index}", f"Prénom{index}", birth, "MF"[index % 2],
             f"PATIENT{index}|PRENOM{index}|{birth}", f"{start}T07:00:00+01:00", users["DR1"]),
        ).lastrowid  # fmt: skip
        inclusion = conn.execute(
            "INSERT INTO inclusions (patient_id, protocol_id, protocol_name, cycle_days, "
            "start_date, cycles, created_at, created_by) VALUES (?, 1, 'BANC', 7, ?, 8, ?, ?)",
            (pid, start.isoformat(), f"{start}T07:00:00+01:00", users["DR1"]),
        ).lastrowid
        patients.append(
            (pid, inclusion, f"B{index:07d}", f"PATIENT{index}", f"Prénom{index}", birth)
        )
    line_ids: dict[tuple[int, int], int] = {}
    cycles: dict[int, int] = {}
    seq = conn.execute("SELECT coalesce(max(ord_seq), 0) FROM preparations").fetchone()[0]
    counts = {"preparations": 0, "administrations": 0}
    for day_index in range(days):
        day = start + timedelta(days=day_index)
        for slot in range(per_day):
            pid, inclusion, ipp, name, first, birth = patients[rng.randrange(len(patients))]
            molecule, vials = drugs[slot % len(drugs)]
            if (inclusion, molecule["molecule_id"]) not in line_ids:
                line_ids[(inclusion, molecule["molecule_id"])] = conn.execute(
                    "INSERT INTO inclusion_lines (inclusion_id, line_no, molecule_id, "
                    "molecule_name, line_type, dose, unit, days_json) VALUES (?, ?, ?, ?, 1, 100, "
                    "'mg', '[1]')",
                    (inclusion, len(line_ids) + 1, molecule["molecule_id"], molecule["name"]),
                ).lastrowid
            cycles[inclusion] = cycles.get(inclusion, 0) + 1
            at = datetime(day.year, day.month, day.day, 8, 0).astimezone()

            def stamp(minutes: int, at: datetime = at) -> str:
                return (at + timedelta(minutes=minutes)).isoformat()

            cure = conn.execute(
                "INSERT INTO cures (inclusion_id, patient_id, cycle, planned_date, initial_date, "
                "state) VALUES (?, ?, ?, ?, ?, 'administered')",
                (inclusion, pid, cycles[inclusion], day.isoformat(), day.isoformat()),
            ).lastrowid
            presc = conn.execute(
                "INSERT INTO prescriptions (cure_id, patient_id, prescriber_id, prescriber_name, "
                "prescribed_at, on_date, weight_kg, height_cm, age_years, sex, state) "
                "VALUES (?, ?, ?, 'Dr Banc', ?, ?, 70, 170, 60, 'F', 'validated')",
                (cure, pid, users["DR1"], stamp(-600), day.isoformat()),
            ).lastrowid
            conn.execute("UPDATE cures SET prescription_id = ? WHERE id = ?", (presc, cure))
            vial = vials[0]
            count = 1 + rng.randrange(3)
            dose = round(vial["strength_mg"] * (count - 0.5), 3)
            les = "I999999" if molecule["liste_en_sus"] else None
            line = conn.execute(
                "INSERT INTO prescription_lines (prescription_id, cure_id, inclusion_line_id, "
                "line_no, day, admin_date, molecule_id, molecule_name, line_type, protocol_dose, "
                "protocol_unit, theoretical_dose, computed_dose, dose, unit, les_code) "
                "VALUES (?, ?, ?, 1, 1, ?, ?, ?, 1, 100, 'mg', ?, ?, ?, 'mg', ?)",
                (presc, cure, line_ids[(inclusion, molecule["molecule_id"])], day.isoformat(),
                 molecule["molecule_id"], molecule["name"], dose, dose, dose, les),
            ).lastrowid  # fmt: skip
            conn.execute(
                "INSERT INTO validations (prescription_id, pharmacist_id, decision, decided_at) "
                "VALUES (?, ?, 'validated', ?)",
                (presc, users["PH1"], stamp(-300)),
            )
            go = conn.execute(
                "INSERT INTO go_aheads (cure_id, prescription_id, admin_date, decision, "
                "decided_by, decided_by_initials, decided_by_name, decided_at) "
                "VALUES (?, ?, ?, 'given', ?, 'DR1', 'Dr Banc', ?)",
                (cure, presc, day.isoformat(), users["DR1"], stamp(0)),
            ).lastrowid
            seq += 1
            number = f"{day.year}-{seq:06d}"
            products = [{"name": vial["name"], "product_id": vial["product_id"],
                         "ucd13": vial["ucd13"], "strength_mg": vial["strength_mg"],
                         "volume_ml": vial["volume_ml"], "count": count,
                         "volume_to_draw_ml": vial["volume_ml"],
                         "concentration_mg_ml": vial["strength_mg"] / vial["volume_ml"]}]  # fmt: skip
            prep = conn.execute(
                "INSERT INTO preparations (ord_scope, ord_seq, ord_year, ord_number, "
                "prescription_line_id, prescription_id, cure_id, patient_id, go_ahead_id, "
                "patient_ipp, patient_birth_name, patient_first_name, patient_birth_date, "
                "patient_sex, prescriber_name, prescribed_at, protocol_name, cycle, day, "
                "admin_date, line_no, molecule_id, molecule_name, dose, unit, les_code, "
                "products_json, diluent, diluent_volume_ml, final_volume_ml, stability_h, "
                "stability_source, prepared_by, prepared_by_initials, prepared_by_name, "
                "prepared_at, use_by, use_by_reason) VALUES ('continu', ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, 'F', 'Dr Banc', ?, 'BANC', ?, 1, ?, 1, ?, ?, ?, 'mg', ?, ?, "
                "'NaCl 0,9 %', 250, 260, 24, 'référentiel', ?, 'PR1', 'Préparateur Banc', ?, ?, "
                "'stabilité 24 h')",
                (seq, day.year, number, line, presc, cure, pid, go, ipp, name, first,
                 birth, stamp(-600), cycles[inclusion], day.isoformat(), molecule["molecule_id"],
                 molecule["name"], dose, les, json.dumps(products), users["PR1"],
                 stamp(slot), stamp(slot + 1440)),
            ).lastrowid  # fmt: skip
            conn.execute(
                "INSERT INTO preparation_lots (preparation_id, kind, component, product_id, lot, "
                "expiry, quantity, recorded_by, recorded_at) VALUES (?, 'flacon', ?, ?, ?, "
                "'2030-12-31', ?, ?, ?)",
                (prep, vial["name"], vial["product_id"], f"L{seq % 97}", count, users["PR1"],
                 stamp(slot)),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO preparation_controls (preparation_id, measured_weight_g, "
                "target_weight_g, weight_min_g, weight_max_g, deviation_pct, in_tolerance, "
                "visual_ok, controlled_by, controlled_by_initials, controlled_at) "
                "VALUES (?, 261, 260, 247, 273, 0.4, 1, 1, ?, 'PR2', ?)",
                (prep, users["PR2"], stamp(slot + 10)),
            )
            conn.execute("UPDATE preparations SET state = 'controlled' WHERE id = ?", (prep,))
            conn.execute(
                "INSERT INTO preparation_releases (preparation_id, decision, pharmacist_id, "
                "pharmacist_initials, pharmacist_name, decided_at) VALUES (?, 'released', ?, "
                "'PH1', 'Pharmacien Banc', ?)",
                (prep, users["PH1"], stamp(slot + 20)),
            )
            conn.execute("UPDATE preparations SET state = 'released' WHERE id = ?", (prep,))
            conn.execute(
                "INSERT INTO dispensations (preparation_id, dispensed_at, ward, recipient, "
                "dispensed_by, dispensed_by_initials, recorded_at) VALUES (?, ?, 'HDJ', 'IDE', ?, "
                "'PR1', ?)",
                (prep, stamp(slot + 30), users["PR1"], stamp(slot + 30)),
            )
            conn.execute("UPDATE preparations SET state = 'dispensed' WHERE id = ?", (prep,))
            for action, entity in (
                ("préparer", "préparation"),
                ("contrôler", "préparation"),
                ("libérer", "préparation"),
                ("dispenser", "préparation"),
            ):
                audit.append(conn, user_initials="PR1", role="préparateur", action=action,
                             entity=entity, entity_id=prep, after={"n°": number},
                             at=stamp(slot))  # fmt: skip
            counts["preparations"] += 1
            if (day_index * per_day + slot) % 50 == 49:
                continue  # left dispensed: a reconciliation break
            conn.execute(
                "INSERT INTO administrations (prescription_line_id, preparation_id, cure_id, "
                "patient_id, started_at, ended_at, completed, administered_by, "
                "administered_by_initials, administered_by_name, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, ?, 'IDE1', 'Infirmière Banc', ?)",
                (line, prep, cure, pid, stamp(slot + 60), stamp(slot + 120), users["IDE1"],
                 stamp(slot + 120)),
            )  # fmt: skip
            conn.execute("UPDATE preparations SET state = 'administered' WHERE id = ?", (prep,))
            audit.append(conn, user_initials="IDE1", role="infirmier", action="administrer",
                         entity="préparation", entity_id=prep, after={"n°": number},
                         at=stamp(slot + 120))  # fmt: skip
            counts["administrations"] += 1
    conn.execute("COMMIT")
    counts["patients"] = len(patients)
    return counts
