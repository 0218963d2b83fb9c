"""SQL of the crisis exit (``oncosecours sortie ...``): what happened during the crisis, read back
for re-entry, billing, reconciliation and the archive, and the few rows the exit writes.

Reads return plain dicts (one per row). Writes run inside the caller's audited transaction
(:func:`oncosecours.services.core.action`). Only crisis tables are read here, plus ``ref_products``
and ``ref_molecules`` for what the backup knows of a product (UCD, price) or a molecule (liste en
sus).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from oncosecours.store.circuit import row_dict


def _rows(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sql, params)]


def _end(date_to: str) -> str:
    """Upper bound for timestamps of the last day (ISO text compare)."""
    return date_to + "T99"


# --- what happened during the crisis ------------------------------------------------------------


def patients(conn: sqlite3.Connection, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    return _rows(
        conn,
        "SELECT p.*, u.initials AS created_by_initials FROM patients p "
        f"JOIN users u ON u.id = p.created_by WHERE p.id IN ({marks}) "
        "ORDER BY p.birth_name, p.first_name, p.id",
        tuple(ids),
    )


def inclusions(conn: sqlite3.Connection, date_from: str, date_to: str) -> list[dict[str, Any]]:
    """Inclusions made during the period, or with a cure planned in it."""
    return _rows(
        conn,
        "SELECT i.*, u.initials AS created_by_initials FROM inclusions i "
        "JOIN users u ON u.id = i.created_by "
        "WHERE (i.created_at >= ? AND i.created_at <= ?) OR i.id IN ("
        "  SELECT inclusion_id FROM cures WHERE planned_date BETWEEN ? AND ?) "
        "ORDER BY i.patient_id, i.id",
        (date_from, _end(date_to), date_from, date_to),
    )


def cures(conn: sqlite3.Connection, inclusion_ids: list[int]) -> list[dict[str, Any]]:
    if not inclusion_ids:
        return []
    marks = ", ".join("?" * len(inclusion_ids))
    return _rows(
        conn,
        f"SELECT * FROM cures WHERE inclusion_id IN ({marks}) ORDER BY inclusion_id, cycle",
        tuple(inclusion_ids),
    )


def postponements(conn: sqlite3.Connection) -> dict[int, list[dict[str, Any]]]:
    """Every postponement of a cure, from the audit trail (the cure keeps only the last one)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(
        "SELECT at, user_initials, entity_id, before_json, after_json FROM audit_event "
        "WHERE action = 'reporter_cure' AND entity = 'cure' ORDER BY seq"
    ):
        after = json.loads(row["after_json"] or "{}")
        before = json.loads(row["before_json"] or "{}")
        if not str(row["entity_id"] or "").isdigit():
            continue
        out.setdefault(int(row["entity_id"]), []).append(
            {
                "at": row["at"],
                "by": row["user_initials"],
                "from": before.get("date") if isinstance(before, dict) else None,
                "to": after.get("date") if isinstance(after, dict) else None,
                "reason": after.get("motif") if isinstance(after, dict) else None,
            }
        )
    return out


def prescriptions(conn: sqlite3.Connection, cure_ids: list[int]) -> list[dict[str, Any]]:
    if not cure_ids:
        return []
    marks = ", ".join("?" * len(cure_ids))
    return _rows(
        conn,
        "SELECT p.*, v.decision AS validation_decision, v.comment AS validation_comment, "
        "v.decided_at AS validated_at, v.justifications_json AS validation_justifications, "
        "u.initials AS validated_by, u.name AS validated_by_name FROM prescriptions p "
        "LEFT JOIN validations v ON v.id = (SELECT max(id) FROM validations "
        "                                   WHERE prescription_id = p.id) "
        "LEFT JOIN users u ON u.id = v.pharmacist_id "
        f"WHERE p.cure_id IN ({marks}) ORDER BY p.cure_id, p.id",
        tuple(cure_ids),
    )


def prescription_lines(conn: sqlite3.Connection, prescription_ids: list[int]) -> list[dict]:
    if not prescription_ids:
        return []
    marks = ", ".join("?" * len(prescription_ids))
    return _rows(
        conn,
        f"SELECT * FROM prescription_lines WHERE prescription_id IN ({marks}) "
        "ORDER BY prescription_id, admin_date, line_no",
        tuple(prescription_ids),
    )


_PREPARATION_SQL = (
    "SELECT p.*, c.measured_weight_g, c.in_tolerance, c.visual_ok, "
    "c.controlled_by_initials, c.controlled_at, c.double_checker_initials, "
    "r.decision AS release_decision, r.justification AS release_justification, "
    "r.comment AS release_comment, r.pharmacist_initials AS released_by, "
    "r.decided_at AS released_at, d.dispensed_at, d.ward AS dispensed_ward, d.recipient, "
    "d.dispensed_by_initials, a.id AS administration_id, a.started_at, a.ended_at, "
    "a.completed, a.incidents_json, a.administered_by_initials, a.access "
    "FROM preparations p "
    "LEFT JOIN preparation_controls c ON c.preparation_id = p.id "
    "LEFT JOIN preparation_releases r ON r.preparation_id = p.id "
    "LEFT JOIN dispensations d ON d.preparation_id = p.id "
    "LEFT JOIN administrations a ON a.preparation_id = p.id "
)


def preparations_of_lines(conn: sqlite3.Connection, line_ids: list[int]) -> list[dict]:
    if not line_ids:
        return []
    out = []
    for start in range(0, len(line_ids), 500):
        chunk = line_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        out += _rows(
            conn,
            _PREPARATION_SQL + f"WHERE p.prescription_line_id IN ({marks}) ORDER BY p.id",
            tuple(chunk),
        )
    return out


def preparations_between(conn: sqlite3.Connection, date_from: str, date_to: str) -> list[dict]:
    """Every preparation made during the period (the ordonnancier), with its fate."""
    return _rows(
        conn,
        _PREPARATION_SQL + "WHERE p.prepared_at >= ? AND p.prepared_at <= ? ORDER BY p.id",
        (date_from, _end(date_to)),
    )


def lots(conn: sqlite3.Connection, preparation_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for start in range(0, len(preparation_ids), 500):
        chunk = preparation_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in conn.execute(
            "SELECT preparation_id, kind, component, product_id, lot, expiry, quantity "
            f"FROM preparation_lots WHERE preparation_id IN ({marks}) ORDER BY id",
            tuple(chunk),
        ):
            out.setdefault(row["preparation_id"], []).append(dict(row))
    return out


def administrations_of_lines(conn: sqlite3.Connection, line_ids: list[int]) -> list[dict]:
    if not line_ids:
        return []
    out = []
    for start in range(0, len(line_ids), 500):
        chunk = line_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        out += _rows(
            conn,
            f"SELECT * FROM administrations WHERE prescription_line_id IN ({marks}) ORDER BY id",
            tuple(chunk),
        )
    return out


def crisis_span(conn: sqlite3.Connection) -> tuple[str | None, str | None]:
    """First and last day something happened: the audit trail, the preparations, the cures
    prescribed and the administrations (their times may be entered after the fact)."""
    row = conn.execute(
        "SELECT min(d), max(d) FROM ("
        " SELECT substr(min(at), 1, 10) AS d FROM audit_event"
        " UNION ALL SELECT substr(max(at), 1, 10) FROM audit_event"
        " UNION ALL SELECT substr(min(prepared_at), 1, 10) FROM preparations"
        " UNION ALL SELECT substr(max(prepared_at), 1, 10) FROM preparations"
        " UNION ALL SELECT substr(max(started_at), 1, 10) FROM administrations"
        " UNION ALL SELECT min(planned_date) FROM cures WHERE prescription_id IS NOT NULL) AS days"
    ).fetchone()
    return row[0], row[1]


# --- the backup's knowledge of products and molecules ------------------------------------------


def products(conn: sqlite3.Connection) -> dict[int, dict[str, Any]]:
    return {r["product_id"]: dict(r) for r in conn.execute("SELECT * FROM ref_products")}


def liste_en_sus_molecules(conn: sqlite3.Connection) -> set[int]:
    return {
        r[0] for r in conn.execute("SELECT molecule_id FROM ref_molecules WHERE liste_en_sus = 1")
    }


# --- re-entry checklist ---------------------------------------------------------------------------


def ticks(conn: sqlite3.Connection) -> dict[tuple[str, int], dict[str, Any]]:
    return {
        (r["item_kind"], r["item_id"]): dict(r)
        for r in conn.execute("SELECT * FROM sortie_reentry ORDER BY id")
    }


def insert_tick(
    conn: sqlite3.Connection, kind: str, item_id: int, user_id: int, initials: str, at: str,
    comment: str | None,
) -> int:  # fmt: skip
    return conn.execute(
        "INSERT INTO sortie_reentry (item_kind, item_id, ticked_by, ticked_by_initials, "
        "ticked_at, comment) VALUES (?, ?, ?, ?, ?, ?)",
        (kind, item_id, user_id, initials, at, comment),
    ).lastrowid


def item_exists(conn: sqlite3.Connection, kind: str, item_id: int) -> bool:
    table = {"patient": "patients", "inclusion": "inclusions", "cure": "cures"}[kind]
    return bool(conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (item_id,)).fetchone())


# --- billing --------------------------------------------------------------------------------------


def administered_preparations(conn: sqlite3.Connection, date_from: str, date_to: str) -> list:
    """Preparations administered (an administration row exists) in the period."""
    return _rows(
        conn,
        "SELECT p.*, a.started_at, a.ended_at, a.completed, pt.ward AS current_ward "
        "FROM preparations p JOIN administrations a ON a.preparation_id = p.id "
        "JOIN patients pt ON pt.id = p.patient_id "
        "WHERE p.state = 'administered' AND a.started_at >= ? AND a.started_at <= ? "
        "ORDER BY a.started_at, p.id",
        (date_from, _end(date_to)),
    )


def billed(conn: sqlite3.Connection) -> dict[int, list[dict[str, Any]]]:
    """Billing lines already exported, by preparation."""
    out: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(
        "SELECT l.*, e.exported_at, e.file_name FROM sortie_billing_lines l "
        "JOIN sortie_billing_exports e ON e.id = l.export_id ORDER BY l.id"
    ):
        out.setdefault(row["preparation_id"], []).append(dict(row))
    return out


def insert_billing_export(conn: sqlite3.Connection, values: dict[str, Any]) -> int:
    names = list(values)
    return conn.execute(
        f"INSERT INTO sortie_billing_exports ({', '.join(names)}) "
        f"VALUES ({', '.join('?' * len(names))})",
        [values[n] for n in names],
    ).lastrowid


def insert_billing_line(conn: sqlite3.Connection, export_id: int, line: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO sortie_billing_lines (export_id, preparation_id, ord_number, ucd, units, "
        "les_code) VALUES (?, ?, ?, ?, ?, ?)",
        (
            export_id,
            line["preparation_id"],
            line["ord_number"],
            line["ucd"],
            line["units"],
            line["les_code"],
        ),
    )


# --- reconciliation -------------------------------------------------------------------------------


def validated_lines_without_preparation(conn: sqlite3.Connection, date_to: str) -> list[dict]:
    """Validated anticancer lines due by ``date_to`` with no live nor administered preparation,
    of a cure still standing (not cancelled), not administered without a bag either."""
    return _rows(
        conn,
        "SELECT l.*, pt.ipp, pt.birth_name, pt.first_name FROM prescription_lines l "
        "JOIN prescriptions p ON p.id = l.prescription_id "
        "JOIN cures c ON c.id = l.cure_id JOIN patients pt ON pt.id = p.patient_id "
        "WHERE p.state = 'validated' AND c.prescription_id = p.id AND c.state != 'cancelled' "
        "AND l.line_type = 1 AND l.admin_date <= ? "
        "AND NOT EXISTS (SELECT 1 FROM preparations x WHERE x.prescription_line_id = l.id "
        "                AND x.state NOT IN ('cancelled', 'rejected')) "
        "AND NOT EXISTS (SELECT 1 FROM administrations a WHERE a.prescription_line_id = l.id) "
        "ORDER BY l.admin_date, l.id",
        (date_to,),
    )


def justifications(conn: sqlite3.Connection) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (r["break_kind"], r["break_key"]): dict(r)
        for r in conn.execute("SELECT * FROM sortie_justifications ORDER BY id")
    }


def insert_justification(
    conn: sqlite3.Connection, kind: str, key: str, text: str, user_id: int, initials: str, at: str
) -> int:
    return conn.execute(
        "INSERT INTO sortie_justifications (break_kind, break_key, text, justified_by, "
        "justified_by_initials, justified_at) VALUES (?, ?, ?, ?, ?, ?)",
        (kind, key, text, user_id, initials, at),
    ).lastrowid


# --- closing and archive --------------------------------------------------------------------------


def closure(conn: sqlite3.Connection) -> dict[str, Any] | None:
    return row_dict(conn.execute("SELECT * FROM crisis_closure WHERE id = 1").fetchone())


def insert_closure(conn: sqlite3.Connection, values: dict[str, Any]) -> None:
    names = list(values)
    conn.execute(
        f"INSERT INTO crisis_closure (id, {', '.join(names)}) "
        f"VALUES (1, {', '.join('?' * len(names))})",
        [values[n] for n in names],
    )


def audit_rows(conn: sqlite3.Connection):
    """Every audit event in chain order (an iterator: the trail may be long)."""
    from oncosecours.store.audit import FIELDS

    return conn.execute(f"SELECT {', '.join(FIELDS)}, hash FROM audit_event ORDER BY seq")


def copy_store(conn: sqlite3.Connection, target: str) -> None:
    """A consistent copy of the whole store (SQLite's online backup API), then closed."""
    copy = sqlite3.connect(target)
    try:
        conn.backup(copy)
    finally:
        copy.close()
