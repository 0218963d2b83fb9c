"""A PostgreSQL connection that the store's repositories use as they use a SQLite one.

The repositories were written against Python's ``sqlite3`` API (``execute`` → cursor,
``fetchone``, ``lastrowid``, rows readable by index and by name, explicit ``BEGIN``/``COMMIT``
in autocommit mode). :class:`PgConnection` offers that API over psycopg 3, with the SQL
rewritten by :mod:`.dialect` and psycopg's errors raised as the matching ``sqlite3`` errors, so
that services, the audit chain, the ordonnancier and every check run unchanged on both engines.
A server that does not answer is an :class:`OncoError` in French, never a traceback.

psycopg is imported only here, when the settings choose PostgreSQL: the SQLite click path never
loads it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.store.pg import dialect, schema

CONNECT_TIMEOUT_S = 10
LOCK_TIMEOUT_MS = 30000
"""How long a writer waits for another workstation's write (SQLite's busy_timeout)."""


class PgRow(tuple):
    """A row read by position or by column name, as ``sqlite3.Row``."""

    _names: tuple[str, ...] = ()

    def __new__(cls, values: Sequence[Any], names: tuple[str, ...]) -> PgRow:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names.index(key))
            except ValueError:
                raise IndexError(f"No item with that key: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _value(value: Any) -> Any:
    """numeric (``sum`` of integers) as SQLite gives it: an int, or a float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value != value:
        return None
    return value


def _params(params: Sequence[Any]) -> Sequence[Any]:
    """Values as SQLite stores them: booleans as 0/1 (the schema's flags are integer
    columns), a float NaN (pandas' missing value) as NULL."""
    if isinstance(params, dict):
        return {k: _param(v) for k, v in params.items()}
    return [_param(v) for v in params]


class PgCursor:
    """The part of ``sqlite3.Cursor`` the store uses."""

    def __init__(self, raw: Any, lastrowid: int | None = None, rowcount: int = -1) -> None:
        self._raw = raw
        self.lastrowid = lastrowid
        self.rowcount = raw.rowcount if raw is not None else rowcount
        names = (
            tuple(c.name for c in raw.description) if raw is not None and raw.description else ()
        )
        self._names = names
        self.description = tuple((n, None, None, None, None, None, None) for n in names) or None

    def _row(self, values: Sequence[Any] | None) -> PgRow | None:
        if values is None:
            return None
        return PgRow([_value(v) for v in values], self._names)

    def fetchone(self) -> PgRow | None:
        if not self._names:
            return None
        return self._row(self._raw.fetchone())

    def fetchall(self) -> list[PgRow]:
        if not self._names:
            return []
        return [PgRow([_value(v) for v in values], self._names) for values in self._raw.fetchall()]

    def fetchmany(self, size: int = 1000) -> list[PgRow]:
        if not self._names:
            return []
        return [PgRow([_value(v) for v in vals], self._names) for vals in self._raw.fetchmany(size)]

    def __iter__(self) -> Iterator[PgRow]:
        while True:
            batch = self.fetchmany(2000)
            if not batch:
                return
            yield from batch

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()


class PgConnection:
    """One workstation's connection to the unit's server, in autocommit mode: the store opens
    its transactions itself (``BEGIN IMMEDIATE`` → the write lock, see :mod:`.dialect`)."""

    engine = "postgresql"

    def __init__(self, raw: Any, target: Any, keys: dict[str, str]) -> None:
        self._raw = raw
        self.target = target
        self.keys = keys
        """table → its integer primary key (what ``rowid`` and ``lastrowid`` stand for)."""
        self.row_factory: Any = None  # accepted and ignored: rows read by index and by name
        self.deferred_keys: list[tuple[str, str]] = []
        self.any_keys: dict[str, str] = {}
        self._keyless: set[str] = set()
        self._column_types: dict[str, dict[str, str]] = {}
        self.path: Any = None
        """The store path the application opened (the companions' folder: second copy...)."""

    # -- the sqlite3 API the store uses ---------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self._raw.info.transaction_status != TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] | None = ()) -> Any:
        if sql.lstrip()[:6].upper() == "PRAGMA":
            from oncosecours.store.pg.pragmas import pragma

            return pragma(self, sql)
        if schema.is_ddl(sql):
            self._ddl(sql)
            return PgCursor(None)
        if params:
            params = _params(params)
        table = dialect.first_table(sql)
        rowid = self._order_key(table) if "rowid" in sql.lower() else None
        text = dialect.translate(sql, bool(params), rowid)
        upper = f" {text.upper()} "
        key = self._key(dialect.inserted_table(sql))
        if not key or any(word in upper for word in (" RETURNING ", " ON CONFLICT ", " SELECT ")):
            return PgCursor(self._run(text, params or None))
        # INSERT ... VALUES: its new key is sqlite3's ``lastrowid``
        raw = self._run(f"{text} RETURNING {key}", params or None)
        got = raw.fetchone()
        return PgCursor(None, int(got[0]) if got else None, raw.rowcount)

    def _key(self, table: str | None) -> str | None:
        """The integer key of ``table`` (read again once when the schema has grown since)."""
        if not table:
            return None
        if table not in self.keys and table not in self._keyless:
            self.keys = primary_keys(self)  # the schema may have grown since
            if table not in self.keys:
                self._keyless.add(table)
        return self.keys.get(table)

    def _order_key(self, table: str | None) -> str | None:
        """What stands for ``rowid`` in ``table``: its integer key, else its primary key
        (``ref_patients``: the Chimio number; SQLite orders such a table by insertion)."""
        key = self._key(table)
        if key is None and table:
            if table not in self.any_keys:
                self.any_keys = primary_keys(self, integer=False)
            key = self.any_keys.get(table)
        return key

    def _tables(self) -> list[str]:
        rows = self._run(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "ORDER BY tablename",
            None,
        ).fetchall()
        return [str(r[0]) for r in rows]

    def _ddl(self, sql: str) -> None:
        """A migration's statement, translated (:mod:`.schema`); foreign keys to a table to
        come are added when it comes."""
        for statement in schema.translate_ddl(sql, set(self._tables()), self.deferred_keys):
            self._run(statement, None)
        self._keyless.clear()
        self._column_types.clear()
        created = set(self._tables())
        for target, alter in [d for d in self.deferred_keys if d[0] in created]:
            self._run(alter, None)
            self.deferred_keys.remove((target, alter))

    def executemany(self, sql: str, rows: Any) -> PgCursor:
        plain = dialect.plain_insert(sql)
        if plain is not None:
            return self._copy(*plain, rows)
        text = dialect.translate(sql, True, None)
        cursor = self._raw.cursor()
        try:
            cursor.executemany(text, [_params(r) for r in rows])
        except Exception as exc:  # noqa: BLE001 - every psycopg error is mapped below
            raise self._mapped(exc) from None
        return PgCursor(cursor)

    def backup(self, target: sqlite3.Connection, **_options: Any) -> None:
        """``sqlite3``'s online backup: the register, at one moment, into a SQLite store
        (:mod:`.export`)."""
        from oncosecours.store.pg.export import copy_into

        copy_into(self, target)

    def iterdump(self) -> Iterator[str]:
        """Every row of every table, in key order, one line each (as ``sqlite3``'s dump, for
        comparing the register before and after a refusal; the schema is not dumped)."""
        for table in self._tables():
            order = self._key(table) or "1"
            for row in self.execute(f'SELECT * FROM "{table}" ORDER BY {order}'):
                yield f'INSERT INTO "{table}" VALUES{tuple(row)!r};'

    def _copy(self, table: str, columns: str, rows: Any) -> PgCursor:
        """Many rows of a plain INSERT through ``COPY ... FROM STDIN`` (the refresh's bulk
        load): one stream instead of one statement per row; triggers and constraints apply."""
        names = [c.strip().strip('"') for c in columns.split(",")]
        if table not in self._column_types:  # read once: the refresh copies a table by chunks
            self._column_types[table] = dict(
                self._run(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = %s",
                    (table,),
                ).fetchall()
            )
        types = self._column_types[table]
        # SQLite keeps 1.0 given to an INTEGER column as 1; COPY wants the integer's text
        integers = [i for i, n in enumerate(names) if types.get(n) == "bigint"]
        cursor = self._raw.cursor()
        count = 0
        try:
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = _params(row)
                    for i in integers:
                        value = values[i]
                        if isinstance(value, float) and value.is_integer():
                            values[i] = int(value)
                    copy.write_row(values)
                    count += 1
        except Exception as exc:  # noqa: BLE001 - every psycopg error is mapped below
            raise self._mapped(exc) from None
        return PgCursor(None, rowcount=count)

    def executescript(self, script: str) -> None:
        self._run(script, None)

    def commit(self) -> None:
        if self.in_transaction:
            self._run("COMMIT", None)

    def rollback(self) -> None:
        if self.in_transaction:
            self._run("ROLLBACK", None)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- errors -------------------------------------------------------------------------

    def _run(self, text: str, params: Sequence[Any] | None) -> Any:
        try:
            return self._raw.execute(text, params)
        except Exception as exc:  # noqa: BLE001 - every psycopg error is mapped below
            raise self._mapped(exc) from None

    def _mapped(self, exc: Exception) -> Exception:
        """psycopg's error as the ``sqlite3`` error the store expects, or, for a server that
        does not answer, a French refusal saying so (nothing was committed)."""
        import psycopg
        from psycopg import errors

        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, psycopg.OperationalError) and self._raw.closed:
            return server_unreachable(self.target, message)
        if isinstance(exc, errors.LockNotAvailable):
            return OncoError(
                "Un autre poste écrit dans le registre depuis plus de "
                f"{LOCK_TIMEOUT_MS // 1000} s : rien n'a été enregistré ici",
                rule="BASE_OCCUPEE",
                hint="Recommencer dans un instant",
            )
        if isinstance(exc, errors.RaiseException | psycopg.IntegrityError):
            return sqlite3.IntegrityError(message)
        if isinstance(exc, errors.UndefinedTable | errors.UndefinedColumn | errors.SyntaxError):
            return sqlite3.OperationalError(message)
        if isinstance(exc, errors.InsufficientPrivilege | errors.ReadOnlySqlTransaction):
            return sqlite3.OperationalError(f"attempt to write a readonly database ({message})")
        if isinstance(exc, psycopg.OperationalError):
            return sqlite3.OperationalError(message)
        return sqlite3.DatabaseError(message)


def server_unreachable(target: Any, detail: str) -> OncoError:
    return OncoError(
        f"Le serveur PostgreSQL de l'unité ne répond pas ({target.describe()}) : {detail}. "
        "Rien n'a été enregistré pour cette action",
        rule="SERVEUR_INJOIGNABLE",
        field="base.hote",
        hint="Vérifier que le PC serveur est allumé et « oncosecours server status » ; si le "
        "serveur est perdu, reprendre sur la copie de secours : oncosecours backup restore",
    )


def open_connection(target: Any) -> PgConnection:
    """Connect to the unit's server (autocommit; the store opens its own transactions)."""
    import psycopg

    try:
        raw = psycopg.connect(
            host=target.host,
            port=target.port,
            dbname=target.database,
            user=target.user,
            password=target.password(),
            connect_timeout=CONNECT_TIMEOUT_S,
            autocommit=True,
            # values bound by the client, as sqlite3 does: a parameter's type is its Python
            # value's (``? IS NULL``, ``coalesce(?, x)`` need no cast)
            cursor_factory=psycopg.ClientCursor,
            application_name="oncosecours",
            options=f"-c lock_timeout={LOCK_TIMEOUT_MS} -c client_min_messages=warning",
        )
    except psycopg.OperationalError as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else "pas de réponse"
        if "pg_hba.conf" in detail or "authentication failed" in detail:
            raise OncoError(
                f"Le serveur PostgreSQL de l'unité ({target.describe()}) refuse ce poste : "
                f"{detail}",
                rule="SERVEUR_REFUSE",
                field="base.utilisateur",
                hint="Vérifier le mot de passe (fichier_mot_de_passe / mot_de_passe_variable) "
                "et que le réseau de ce poste est autorisé (oncosecours server init --reseau)",
            ) from None
        raise server_unreachable(target, detail) from None
    conn = PgConnection(raw, target, {})
    conn.keys = primary_keys(conn)
    return conn


def primary_keys(conn: PgConnection, *, integer: bool = True) -> dict[str, str]:
    """Each table's single-column integer primary key (what SQLite's rowid is in every
    table of the store but ``ref_patients``, keyed by its Chimio number)."""
    rows = conn._run(
        "SELECT c.relname, a.attname, t.typname FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] "
        "JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE i.indisprimary AND i.indnatts = 1 AND n.nspname = current_schema()",
        None,
    ).fetchall()
    rows = [r for r in rows if not integer or r[2] in ("int8", "int4", "int2")]
    return {str(r[0]): str(r[1]) for r in rows}
