"""SQL of the stock (migration 0010): vial leftovers, their movements, vials counted, banded
batches and their bags. Called by :mod:`oncosecours.services.stock` and the preparation
services, always inside their transaction."""

from __future__ import annotations

import sqlite3
from typing import Any

from oncosecours.store.circuit import row_dict


def _insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> int:
    cur = conn.execute(
        f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )
    return int(cur.lastrowid)


# --- leftovers ----------------------------------------------------------------------------------


def insert_leftover(conn: sqlite3.Connection, values: dict[str, Any]) -> int:
    return _insert(conn, "leftovers", values)


def insert_move(conn: sqlite3.Connection, values: dict[str, Any]) -> int:
    return _insert(conn, "leftover_moves", values)


def leftover(conn: sqlite3.Connection, leftover_id: int) -> dict[str, Any] | None:
    return row_dict(conn.execute("SELECT * FROM leftovers WHERE id = ?", (leftover_id,)).fetchone())


def leftovers(
    conn: sqlite3.Connection, *, state: str | None = "available", molecule_id: int | None = None
) -> list[dict[str, Any]]:
    """Leftovers (all states when ``state`` is None), soonest use-by first."""
    sql, args = "SELECT * FROM leftovers WHERE 1 = 1", []
    if state is not None:
        sql += " AND state = ?"
        args.append(state)
    if molecule_id is not None:
        sql += " AND molecule_id = ?"
        args.append(molecule_id)
    return [dict(r) for r in conn.execute(sql + " ORDER BY use_by, id", args)]


def use_leftover(
    conn: sqlite3.Connection, leftover_id: int, amount_left: float, state: str
) -> None:
    conn.execute(
        "UPDATE leftovers SET amount_left = ?, state = ? WHERE id = ?",
        (amount_left, state, leftover_id),
    )


def set_leftover_lot(conn: sqlite3.Connection, leftover_id: int, lot: str, expiry: str) -> None:
    conn.execute(
        "UPDATE leftovers SET lot = ?, lot_expiry = ? WHERE id = ? AND lot IS NULL",
        (lot, expiry, leftover_id),
    )


def shorten_leftover_use_by(
    conn: sqlite3.Connection, leftover_id: int, use_by: str, reason: str
) -> None:
    conn.execute(
        "UPDATE leftovers SET use_by = ?, use_by_reason = ? WHERE id = ? AND use_by > ?",
        (use_by, reason, leftover_id, use_by),
    )


def discard_leftover(
    conn: sqlite3.Connection, leftover_id: int, at: str, actor_id: int, initials: str, reason: str
) -> None:
    conn.execute(
        "UPDATE leftovers SET state = 'discarded', discarded_at = ?, discarded_by = ?, "
        "discarded_by_initials = ?, discard_reason = ? WHERE id = ?",
        (at, actor_id, initials, reason, leftover_id),
    )


def leftovers_created_by(conn: sqlite3.Connection, preparation_id: int) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM leftovers WHERE source_preparation_id = ? ORDER BY id",
            (preparation_id,),
        )
    ]


def moves_of(conn: sqlite3.Connection, leftover_id: int) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM leftover_moves WHERE leftover_id = ? ORDER BY id", (leftover_id,)
        )
    ]


# --- vials counted ------------------------------------------------------------------------------


def vial_counts(conn: sqlite3.Connection) -> dict[int, dict[str, Any]]:
    return {r["product_id"]: dict(r) for r in conn.execute("SELECT * FROM vial_stock")}


def set_vial_count(
    conn: sqlite3.Connection,
    product: dict[str, Any],
    count: int,
    at: str,
    actor_id: int,
) -> None:
    conn.execute(
        "INSERT INTO vial_stock (product_id, product_name, molecule_id, count, counted_at, "
        "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (product_id) DO UPDATE "
        "SET count = excluded.count, counted_at = excluded.counted_at, "
        "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        (product["product_id"], product["name"], product["molecule_id"], count, at, at, actor_id),
    )


def take_vials(
    conn: sqlite3.Connection, product_id: int, count: int, at: str, actor_id: int
) -> bool:
    """Decrease a counted product's stock; False when the product was never counted."""
    cur = conn.execute(
        "UPDATE vial_stock SET count = count - ?, updated_at = ?, updated_by = ? "
        "WHERE product_id = ?",
        (count, at, actor_id, product_id),
    )
    return cur.rowcount > 0


# --- reference data the stock reads -------------------------------------------------------------


def product(conn: sqlite3.Connection, ref: object) -> dict[str, Any] | None:
    """A product of the snapshot by id (``3102``) or exact name (case ignored)."""
    text = str(ref).strip()
    if text.isdigit():
        row = conn.execute("SELECT * FROM ref_products WHERE product_id = ?", (int(text),))
    else:
        row = conn.execute("SELECT * FROM ref_products WHERE name = ? COLLATE NOCASE", (text,))
    return row_dict(row.fetchone())


def products_of(conn: sqlite3.Connection, molecule_id: int) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT * FROM ref_products WHERE molecule_id = ? AND inactive = 0 "
            "AND strength_mg > 0 AND coalesce(reconst_volume_ml, volume_ml) > 0 "
            "ORDER BY strength_mg DESC, product_id",
            (molecule_id,),
        )
    ]


def molecule(conn: sqlite3.Connection, molecule_id: int) -> dict[str, Any] | None:
    return row_dict(
        conn.execute("SELECT * FROM ref_molecules WHERE molecule_id = ?", (molecule_id,)).fetchone()
    )


def protocol_unit_code(conn: sqlite3.Connection, inclusion_line_id: int) -> int | None:
    """The backup's unit code of the protocol line a prescription line comes from, if known."""
    try:
        row = conn.execute(
            "SELECT r.unit_code FROM inclusion_lines i JOIN ref_protocol_lines r "
            "ON r.line_id = i.ref_line_id WHERE i.id = ?",
            (inclusion_line_id,),
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def planned_lines(conn: sqlite3.Connection, day: str) -> list[dict[str, Any]]:
    """The day's validated anticancer lines with a go-ahead not withheld and no live
    preparation yet, with the patient (what the day still has to prepare)."""
    return [
        dict(r)
        for r in conn.execute(
            "SELECT pl.id, pl.molecule_id, pl.molecule_name, pl.dose, pl.unit, pl.line_type, "
            "pl.route, p.birth_name, p.first_name, p.ipp FROM prescription_lines pl "
            "JOIN cures c ON c.prescription_id = pl.prescription_id "
            "JOIN prescriptions pr ON pr.id = pl.prescription_id "
            "JOIN patients p ON p.id = c.patient_id "
            "WHERE pl.admin_date = ? AND c.state IS NOT 'cancelled' AND pr.state = 'validated' "
            "AND pl.molecule_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM preparations x "
            "WHERE x.prescription_line_id = pl.id AND x.state NOT IN ('cancelled', 'rejected')) "
            "ORDER BY pl.molecule_name, p.birth_name, pl.id",
            (day,),
        )
    ]


# --- banded batches -----------------------------------------------------------------------------


def insert_batch(conn: sqlite3.Connection, values: dict[str, Any]) -> int:
    return _insert(conn, "banded_batches", values)


def insert_bag(conn: sqlite3.Connection, batch_id: int, bag_no: int) -> int:
    return _insert(conn, "banded_bags", {"batch_id": batch_id, "bag_no": bag_no})


def batch(conn: sqlite3.Connection, batch_id: int) -> dict[str, Any] | None:
    return row_dict(
        conn.execute("SELECT * FROM banded_batches WHERE id = ?", (batch_id,)).fetchone()
    )


def batches(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT b.*, (SELECT count(*) FROM banded_bags g WHERE g.batch_id = b.id "
            "AND g.state = 'available') AS bags_available FROM banded_batches b ORDER BY b.id"
        )
    ]


def bags_of(conn: sqlite3.Connection, batch_id: int) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(
            "SELECT g.*, p.ord_number FROM banded_bags g LEFT JOIN preparations p "
            "ON p.id = g.preparation_id WHERE g.batch_id = ? ORDER BY g.bag_no",
            (batch_id,),
        )
    ]


def assign_bag(
    conn: sqlite3.Connection, bag_id: int, preparation_id: int, actor_id: int, at: str
) -> None:
    conn.execute(
        "UPDATE banded_bags SET state = 'assigned', preparation_id = ?, assigned_by = ?, "
        "assigned_at = ? WHERE id = ? AND state = 'available'",
        (preparation_id, actor_id, at, bag_id),
    )


def banded_bag(conn: sqlite3.Connection, bag_id: int) -> dict[str, Any] | None:
    return row_dict(conn.execute("SELECT * FROM banded_bags WHERE id = ?", (bag_id,)).fetchone())


def insert_batch_lot(
    conn: sqlite3.Connection, preparation_id: int, lot: dict[str, Any], actor_id: int, at: str
) -> None:
    """A lot of the batch, recorded on the preparation of one of its bags."""
    conn.execute(
        "INSERT INTO preparation_lots (preparation_id, kind, component, product_id, lot, "
        "expiry, quantity, opened_at, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, 1, "
        "NULL, ?, ?)",
        (
            preparation_id,
            lot["kind"],
            lot["component"],
            lot.get("product_id"),
            lot["lot"],
            lot["expiry"],
            actor_id,
            at,
        ),
    )
