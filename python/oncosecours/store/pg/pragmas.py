"""SQLite's ``PRAGMA`` statements that the store runs, answered on PostgreSQL.

``user_version`` (the schema version the migrations keep) lives in a one-row table;
``table_info`` reads the catalogue; ``integrity_check`` is the server's business (its own
checksums and WAL): always ``ok``. The tuning pragmas (cache, journal, checkpoint...) mean
nothing on a server and answer a neutral value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

VERSION_TABLE = "oncosecours_schema_version"
_PRAGMA = re.compile(
    r"^\s*PRAGMA\s+(?:\w+\.)?(\w+)\s*(?:=\s*([\w-]+)|\(\s*\"?(\w+)\"?\s*\))?", re.I
)


class ListCursor:
    """A cursor over rows computed here."""

    def __init__(self, rows: list[tuple[Any, ...]], names: tuple[str, ...] = ("value",)) -> None:
        from oncosecours.store.pg.connection import PgRow

        self._rows = [PgRow(r, names) for r in rows]
        self.description = tuple((n, None, None, None, None, None, None) for n in names)
        self.rowcount = len(rows)
        self.lastrowid = None

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self) -> Iterator[Any]:
        yield from self.fetchall()

    def close(self) -> None:
        self._rows = []


def ensure_version_table(conn: Any) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "version INTEGER NOT NULL)"
    )
    conn.execute(f"INSERT OR IGNORE INTO {VERSION_TABLE} (id, version) VALUES (1, 0)")


def pragma(conn: Any, sql: str) -> ListCursor:
    match = _PRAGMA.match(sql)
    if match is None:
        raise ValueError(f"PRAGMA non reconnu : {sql}")
    name, value, argument = match[1].lower(), match[2], match[3]
    if name == "user_version":
        if value is not None:
            conn.execute(f"UPDATE {VERSION_TABLE} SET version = ? WHERE id = 1", (int(value),))
            return ListCursor([])
        row = conn.execute(f"SELECT version FROM {VERSION_TABLE} WHERE id = 1").fetchone()
        return ListCursor([(int(row[0]) if row else 0,)], ("user_version",))
    if name in ("table_info", "table_xinfo"):
        rows = conn.execute(
            "SELECT ordinal_position - 1, column_name, data_type, is_nullable = 'NO', "
            "column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
            (argument,),
        ).fetchall()
        key = conn.keys.get(argument or "")
        return ListCursor(
            [(r[0], r[1], r[2], int(bool(r[3])), r[4], int(r[1] == key)) for r in rows],
            ("cid", "name", "type", "notnull", "dflt_value", "pk"),
        )
    if name == "database_list":
        return ListCursor([(0, "main", str(conn.path or ""))], ("seq", "name", "file"))
    if name == "page_count":
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return ListCursor([(int(row[0]),)], (name,))
    if name == "page_size":
        return ListCursor([(1,)], (name,))
    if name == "foreign_key_check":  # the server enforces every foreign key at each write
        return ListCursor([], ("table", "rowid", "parent", "fkid"))
    if name in ("integrity_check", "quick_check"):
        return ListCursor([("ok",)], (name,))
    if name == "journal_mode":
        return ListCursor([("wal",)], (name,))
    return ListCursor([(0,)], (name,))
