"""The store's SQL (written once, in SQLite's dialect) as PostgreSQL reads it.

The repositories of ``store/`` hold one SQL text per query. Rather than a second copy of each
for PostgreSQL, the few differences are rewritten here, once per distinct text (cached):

- ``?`` placeholders become ``%s`` (and a literal ``%`` becomes ``%%``);
- ``BEGIN IMMEDIATE`` (a writer) takes the store's write lock: see :data:`WRITE_LOCK`;
- ``BEGIN`` (a reader wanting one consistent view) is a REPEATABLE READ transaction (the
  application writes only after ``BEGIN IMMEDIATE``);
- ``INSERT OR IGNORE`` becomes ``INSERT ... ON CONFLICT DO NOTHING``;
- ``a IS NOT b`` / ``a IS b`` (null-safe comparisons) become ``IS [NOT] DISTINCT FROM``;
- ``LIKE`` is case-insensitive in SQLite: ``ILIKE``;
- the two-argument scalar ``max(a, b)`` / ``min(a, b)`` are ``GREATEST`` / ``LEAST``;
- ``rowid`` is the table's integer primary key (which SQLite's ``rowid`` is an alias of in
  every table of the store);
- the schema names ``main.`` (dropped) and ``temp.`` (the session's ``pg_temp.``).

String literals are never rewritten.
"""

from __future__ import annotations

import re
from functools import lru_cache

WRITE_LOCK = 0x0C5EC0
"""Key of the transaction-level advisory lock every write transaction takes first. Writers are
thus serial, as SQLite's ``BEGIN IMMEDIATE`` makes them: the audit chain stays one chain, the
ordonnancier's next number (max + 1, read after the lock, in READ COMMITTED) is never drawn
twice nor skipped, and of two clicks on the same line the second sees the first's result."""

BEGIN_WRITE = f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ"

_LITERAL = re.compile(r"('(?:[^']|'')*')")
_IS_NOT = re.compile(r"\bIS\s+NOT\s+(?!NULL\b|TRUE\b|FALSE\b|DISTINCT\b)", re.IGNORECASE)
_IS = re.compile(r"\bIS\s+(?!NOT\b|NULL\b|TRUE\b|FALSE\b|DISTINCT\b)", re.IGNORECASE)
_LIKE = re.compile(r"\bLIKE\b", re.IGNORECASE)
_INSERT_OR_IGNORE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_SCALAR = re.compile(r"\b(max|min)\(\s*([^(),]+?)\s*,\s*([^(),]+?)\s*\)", re.IGNORECASE)
_ROWID = re.compile(r"\browid\b", re.IGNORECASE)
_MAIN = re.compile(r"\bmain\.(?=[\"\w])", re.IGNORECASE)
_TEMP = re.compile(r"\btemp\.(?=[\"\w])", re.IGNORECASE)


def _code_parts(sql: str) -> list[tuple[bool, str]]:
    """``(is_code, text)`` pieces: string literals are kept apart and left alone."""
    return [(i % 2 == 0, part) for i, part in enumerate(_LITERAL.split(sql)) if part]


def _rewrite_code(code: str, with_params: bool, rowid: str | None) -> str:
    if with_params:
        code = code.replace("%", "%%").replace("?", "%s")
    code = _IS_NOT.sub("IS DISTINCT FROM ", code)
    code = _IS.sub("IS NOT DISTINCT FROM ", code)
    code = _LIKE.sub("ILIKE", code)
    code = _SCALAR.sub(
        lambda m: f"{'GREATEST' if m[1].lower() == 'max' else 'LEAST'}({m[2]}, {m[3]})", code
    )
    if rowid:
        code = _ROWID.sub(rowid, code)
    code = _MAIN.sub("", code)
    return _TEMP.sub("pg_temp.", code)


@lru_cache(maxsize=4096)
def translate(sql: str, with_params: bool, rowid: str | None = None) -> str:
    """``sql`` (SQLite's dialect) as PostgreSQL runs it; ``rowid`` names the primary key that
    stands for ``rowid`` in this statement (None: the statement has none)."""
    stripped = sql.strip().rstrip(";").strip()
    upper = stripped.upper()
    if upper == "BEGIN IMMEDIATE":
        return BEGIN_WRITE
    if upper in ("BEGIN", "BEGIN DEFERRED"):
        return BEGIN_READ
    ignore = bool(_INSERT_OR_IGNORE.match(stripped))
    if ignore:
        stripped = _INSERT_OR_IGNORE.sub("INSERT INTO", stripped, count=1)
    out = "".join(
        _rewrite_code(text, with_params, rowid)
        if is_code
        else (text.replace("%", "%%") if with_params else text)
        for is_code, text in _code_parts(stripped)
    )
    if ignore:
        out += " ON CONFLICT DO NOTHING"
    return out


_INSERT_TABLE = re.compile(r"^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+(?:main\.)?\"?(\w+)\"?", re.I)
_FROM_TABLE = re.compile(r"\b(?:FROM|UPDATE|INTO)\s+(?:main\.)?\"?(\w+)\"?", re.IGNORECASE)


def inserted_table(sql: str) -> str | None:
    """The table an ``INSERT ... VALUES`` writes (to return its new key as ``lastrowid``)."""
    match = _INSERT_TABLE.match(sql)
    return match[1] if match else None


def first_table(sql: str) -> str | None:
    """The first table a statement names (whose key ``rowid`` stands for)."""
    match = _FROM_TABLE.search(sql)
    return match[1] if match else None


_PLAIN_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+(\w+)\s*\(([\w\s,\"]+)\)\s*VALUES\s*\(\s*\?(?:\s*,\s*\?)*\s*\)\s*;?\s*$",
    re.IGNORECASE,
)


def plain_insert(sql: str) -> tuple[str, str] | None:
    """``(table, columns)`` of ``INSERT INTO t (a, b) VALUES (?, ?)``: rows that can be
    streamed with COPY (no conflict clause, no expression)."""
    match = _PLAIN_INSERT.match(sql)
    return (match[1], match[2]) if match else None
