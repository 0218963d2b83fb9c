"""The register on the unit's PostgreSQL server (``[base] moteur = "postgresql"``).

Same repositories, same SQL, same services as on SQLite: :class:`.connection.PgConnection`
offers the ``sqlite3`` API over psycopg, :mod:`.dialect` rewrites the few SQLite forms of the
store's queries, :mod:`.schema` the migrations' DDL. This package is imported only when the
settings choose PostgreSQL.
"""

from __future__ import annotations

from typing import Any

CATALOG_VIEW = """
CREATE OR REPLACE VIEW sqlite_master AS
SELECT 'table'::text AS type, c.relname::text AS name, c.relname::text AS tbl_name,
       NULL::text AS sql
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
   AND c.relname NOT LIKE 'oncosecours\\_%'
UNION ALL
SELECT 'index', i.indexname::text, i.tablename::text, i.indexdef::text
  FROM pg_indexes i
 WHERE i.schemaname = current_schema() AND NOT EXISTS (
       SELECT 1 FROM pg_constraint k WHERE k.conindid = (quote_ident(i.indexname))::regclass)
UNION ALL
SELECT 'trigger', t.tgname::text, c.relname::text, NULL::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND NOT t.tgisinternal
"""
"""SQLite's catalogue, read by the store to list its tables, indexes and triggers (the
application's technical tables, ``oncosecours_*``, are not the store's)."""


def connect(target: Any) -> Any:
    """Open the register on the server and bring its schema to this version (the migrations
    run once, under the write lock, whichever workstation comes first)."""
    from oncosecours.store import db, ledger
    from oncosecours.store.pg import pragmas, schema
    from oncosecours.store.pg.connection import open_connection, primary_keys

    conn = open_connection(target)
    try:
        current = _schema_version(conn)
        if current < db.schema_version():
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in schema.PRELUDE + (CATALOG_VIEW,):
                    conn._run(statement, None)
                pragmas.ensure_version_table(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.rollback()
                raise
            db.migrate(conn)
            conn.keys = primary_keys(conn)
            _install_collectors(conn)
        # the row ledger's collector for this session: the server's triggers
        # (schema.collector_statements) note each row written here; ledger.seal reads it
        conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {ledger.COLLECTOR} "
            "(tbl TEXT NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (tbl, rid))"
        )
    except BaseException:
        conn.close()
        raise
    return conn


def _schema_version(conn: Any) -> int:
    from oncosecours.store.pg.pragmas import VERSION_TABLE

    row = conn.execute(f"SELECT to_regclass('{VERSION_TABLE}')").fetchone()
    if row is None or row[0] is None:
        return 0
    return int(conn.execute(f"SELECT version FROM {VERSION_TABLE} WHERE id = 1").fetchone()[0])


def _install_collectors(conn: Any) -> None:
    """The row ledger's collector on every audited table (after the migrations)."""
    from oncosecours.store import ledger
    from oncosecours.store.pg import schema

    tables = {t: conn.keys[t] for t in ledger.audited_tables(conn)}
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in schema.collector_statements(tables):
            conn._run(statement, None)
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise
