"""Reads of the Chimio reference tables of the loaded snapshot (``ref_*``): protocols and
their lines, LES codes. Written only by a refresh (:mod:`oncosecours.services.refresh`)."""

from __future__ import annotations

import sqlite3

from oncosecours.store.circuit import columns, table_exists
from oncosecours.store.rows import all_rows, first_row


def has_protocols(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM ref_protocols LIMIT 1").fetchone() is not None


def protocol_by_id(conn: sqlite3.Connection, protocol_id: int) -> dict | None:
    return first_row(conn, "SELECT * FROM ref_protocols WHERE protocol_id = ?", (protocol_id,))


def all_protocols(conn: sqlite3.Connection) -> list[dict]:
    return all_rows(conn, "SELECT * FROM ref_protocols ORDER BY name")


def protocol_lines(conn: sqlite3.Connection, protocol_id: int) -> list[dict]:
    """A protocol's lines in protocol order (time offset, then line number)."""
    return all_rows(
        conn,
        "SELECT * FROM ref_protocol_lines WHERE protocol_id = ? "
        "ORDER BY coalesce(time_offset_min, 0), line_id",
        (protocol_id,),
    )


def les_codes(conn: sqlite3.Connection) -> set[str]:
    """The LES codes of the snapshot (tables ``ref_les_codes`` / ``ref_indications``, column
    ``code`` or ``les_code``, whichever exist), upper case."""
    codes: set[str] = set()
    for table in ("ref_les_codes", "ref_indications"):
        if table_exists(conn, table):
            cols = columns(conn, table)
            column = "code" if "code" in cols else ("les_code" if "les_code" in cols else None)
            if column:
                codes |= {str(r[0]).upper() for r in conn.execute(f"SELECT {column} FROM {table}")}
    return codes


def protocols_with_line_counts(conn: sqlite3.Connection) -> list[dict]:
    """Every protocol by name, with its number of lines (``lines``)."""
    return all_rows(
        conn,
        "SELECT p.*, (SELECT count(*) FROM ref_protocol_lines l WHERE l.protocol_id = "
        "p.protocol_id) AS lines FROM ref_protocols p ORDER BY p.name",
    )


def protocols_outside_keys(conn: sqlite3.Connection, first: int, last: int) -> list[dict]:
    """Protocols whose key is outside ``first..last`` (the real ones beside a synthetic backup),
    by name, with their number of lines (``lines``)."""
    return all_rows(
        conn,
        "SELECT p.name, count(l.line_id) AS lines FROM ref_protocols p LEFT JOIN "
        "ref_protocol_lines l ON l.protocol_id = p.protocol_id WHERE p.protocol_id NOT "
        "BETWEEN ? AND ? GROUP BY p.protocol_id ORDER BY p.name",
        (first, last),
    )


def protocols_with_chemotherapy(conn: sqlite3.Connection) -> list[int]:
    """Keys of the protocols that have at least one chemotherapy line (``line_type`` 1)."""
    return [
        r["protocol_id"]
        for r in all_rows(
            conn,
            "SELECT p.protocol_id FROM ref_protocols p WHERE EXISTS (SELECT 1 FROM "
            "ref_protocol_lines l WHERE l.protocol_id = p.protocol_id AND l.line_type = 1)",
        )
    ]
