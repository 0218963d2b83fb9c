"""The store's migrations (SQLite DDL) as PostgreSQL DDL, one statement at a time.

The migrations in ``store/migrations/`` stay the one description of the schema. Their few
SQLite forms are rewritten here:

- types: ``INTEGER`` → ``BIGINT``, ``REAL`` → ``DOUBLE PRECISION``, ``BLOB`` → ``BYTEA``;
- ``x INTEGER PRIMARY KEY`` (SQLite's rowid alias) → ``BIGINT PRIMARY KEY`` plus a BEFORE INSERT
  trigger giving a missing key ``max + 1``, exactly SQLite's rule (no sequence: writers hold the
  store's write lock, so two never draw the same key, and a rolled-back insert leaves no gap);
- ``COLLATE NOCASE`` → the ICU collation ``nocase`` (case-insensitive comparisons and unique
  constraints, as SQLite's);
- foreign keys are DEFERRABLE (still checked at each statement unless deferred);
- every trigger of the store (``[WHEN cond] BEGIN SELECT RAISE(ABORT, 'msg'); END``, the
  append-only and state rules) → a PL/pgSQL function raising the same message;
- CHECK and WHEN expressions go through :mod:`.dialect` (``IS NOT 'x'`` ...).
"""

from __future__ import annotations

import re

from oncosecours.store.pg import dialect

PRELUDE = (
    "CREATE COLLATION IF NOT EXISTS nocase "
    "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
    # SQLite's date(d, '+N days'), used to postpone a cure's lines
    "CREATE OR REPLACE FUNCTION date(d text, modifier text) RETURNS text LANGUAGE sql "
    "IMMUTABLE AS $f$ SELECT to_char(d::date + modifier::interval, 'YYYY-MM-DD') $f$",
)

_TYPES = (
    (re.compile(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?", re.I), "BIGINT PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b", re.I), "BIGINT"),
    (re.compile(r"\bREAL\b", re.I), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.I), "BYTEA"),
    (re.compile(r"\bCOLLATE\s+NOCASE\b", re.I), "COLLATE nocase"),
    (re.compile(r"\)\s*WITHOUT\s+ROWID\s*$", re.I), ")"),
    # checked at each statement as in SQLite, but deferrable: a register copied in
    # (migrate --to postgresql) holds the cures <-> prescriptions circle
    (re.compile(r"(\bREFERENCES\s+\w+\s*\(\w+\))", re.I), r"\1 DEFERRABLE"),
)
_ROWID_KEY = re.compile(r"(?:^|[(,])\s*\"?(\w+)\"?\s+INTEGER\s+PRIMARY\s+KEY\b", re.I)
_CREATE_TABLE = re.compile(r"^CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\w+)\"?", re.I)
_TRIGGER = re.compile(
    r"^CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s+(BEFORE|AFTER)\s+"
    r"(INSERT|DELETE|UPDATE(?:\s+OF\s+[\w\s,]+?)?)\s+ON\s+(\w+)\s+(?:FOR\s+EACH\s+ROW\s+)?"
    r"(?:WHEN\s+(.*?)\s+)?BEGIN\s+SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*('(?:[^']|'')*')\s*\)\s*;"
    r"\s*END\s*;?\s*$",
    re.I | re.S,
)


def _without_comments(sql: str) -> str:
    """``--`` comments dropped (they may hold apostrophes), string literals kept whole."""
    out, i, quoted = [], 0, False
    while i < len(sql):
        char = sql[i]
        if quoted:
            out.append(char)
            quoted = char != "'"
        elif char == "'":
            out.append(char)
            quoted = True
        elif sql.startswith("--", i):
            i = sql.find("\n", i)
            if i < 0:
                break
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _types(sql: str) -> str:
    parts = []
    for is_code, text in dialect._code_parts(sql):
        if is_code:
            for pattern, replacement in _TYPES:
                text = pattern.sub(replacement, text)
        parts.append(text)
    return dialect.translate("".join(parts), False)


def key_trigger(table: str, key: str) -> list[str]:
    """SQLite's rowid rule for a table's integer key: a missing key is ``max + 1``."""
    function = f"oncosecours_key_{table}"
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $f$ "
        f"BEGIN IF NEW.{key} IS NULL THEN SELECT coalesce(max({key}), 0) + 1 INTO NEW.{key} "
        f"FROM {table}; END IF; RETURN NEW; END $f$",
        f"CREATE OR REPLACE TRIGGER a__key_{table} BEFORE INSERT ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION {function}()",
    ]


def _trigger(match: re.Match[str]) -> list[str]:
    name, when, event, table, condition, message = match.groups()
    event = re.sub(r"\s+", " ", event.strip())
    returned = "OLD" if event.upper() == "DELETE" else "NEW"
    test = dialect.translate(condition, False) if condition else "TRUE"
    function = f"oncosecours_trg_{name}"
    return [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $f$ "
        f"BEGIN IF {test} THEN RAISE EXCEPTION '%', {message}; END IF; RETURN {returned}; "
        "END $f$",
        f"CREATE OR REPLACE TRIGGER {name} {when.upper()} {event} ON {table} FOR EACH ROW "
        f"EXECUTE FUNCTION {function}()",
    ]


_REFERENCE = re.compile(r"\b(\w+)(\s+INTEGER\b[^,]*?)\s+REFERENCES\s+(\w+)\s*\((\w+)\)", re.I)


def translate_ddl(
    statement: str, existing: set[str] | None = None, deferred: list | None = None
) -> list[str]:
    """One migration statement as the PostgreSQL statements that do the same. A foreign key
    to a table not created yet (SQLite accepts it; ``existing``: the tables there are) is
    left out and appended to ``deferred`` as ``(target, ALTER TABLE ...)``, to run once the
    target exists."""
    sql = _without_comments(statement).strip().rstrip(";").strip()
    trigger = _TRIGGER.match(sql + ";")
    if trigger:
        return _trigger(trigger)
    table = _CREATE_TABLE.match(sql)
    if table and existing is not None and deferred is not None:

        def defer(match: re.Match[str]) -> str:
            column, rest, target, key = match.groups()
            if target in existing or target == table[1]:
                return match[0]
            deferred.append((target, f"ALTER TABLE {table[1]} ADD FOREIGN KEY ({column}) "
                                     f"REFERENCES {target}({key}) DEFERRABLE"))  # fmt: skip
            return column + rest

        sql = _REFERENCE.sub(defer, sql)
    out = [_types(sql)]
    key = _ROWID_KEY.search(sql[sql.index("(") :]) if table and "(" in sql else None
    if table and key:
        out += key_trigger(table[1], key[1])
    return out


def is_ddl(sql: str) -> bool:
    head = sql.lstrip()
    while head.startswith("--"):
        head = head.partition("\n")[2].lstrip()
    return head[:12].upper().startswith(("CREATE ", "ALTER TABLE"))


# --- the row ledger's collector ----------------------------------------------------------

COLLECT_FUNCTION = (
    "CREATE OR REPLACE FUNCTION oncosecours_ledger_collect() RETURNS trigger LANGUAGE plpgsql "
    "AS $f$ BEGIN "
    "IF to_regclass('pg_temp.ledger_touched') IS NOT NULL THEN "
    "IF TG_OP <> 'DELETE' THEN INSERT INTO pg_temp.ledger_touched (tbl, rid) VALUES "
    "(TG_TABLE_NAME, (to_jsonb(NEW) ->> TG_ARGV[0])::bigint) ON CONFLICT DO NOTHING; END IF; "
    "IF TG_OP <> 'INSERT' THEN INSERT INTO pg_temp.ledger_touched (tbl, rid) VALUES "
    "(TG_TABLE_NAME, (to_jsonb(OLD) ->> TG_ARGV[0])::bigint) ON CONFLICT DO NOTHING; END IF; "
    "END IF; RETURN NULL; END $f$"
)


def collector_statements(tables: dict[str, str]) -> list[str]:
    """AFTER triggers on the audited tables noting the rows a transaction writes, into the
    session's temporary table when the application created it (SQLite's TEMP triggers
    cannot exist on a server: these are in the schema, and write only for the session that
    asked). ``tables``: table → its integer key."""
    out = [COLLECT_FUNCTION]
    for table, key in tables.items():
        out.append(
            f"CREATE OR REPLACE TRIGGER z__ledger_{table} AFTER INSERT OR UPDATE OR DELETE ON "
            f"{table} FOR EACH ROW EXECUTE FUNCTION oncosecours_ledger_collect('{key}')"
        )
    return out
