"""The few statements that prepare and probe the unit's PostgreSQL server (all SQL lives in store/).

psycopg is imported by the caller, only in the ``server`` commands: it stays off the click path.
"""

from __future__ import annotations

from typing import Any


def create_role_and_database(admin: Any, user: str, password: str, database: str) -> None:
    """A login role without superuser rights, owner of the unit's database.

    ``admin`` is an autocommit psycopg connection as the cluster's superuser (CREATE DATABASE
    cannot run in a transaction). The password is sent as a literal (utility statements take no
    bound parameters); the server stores only its SCRAM verifier."""
    from psycopg import sql

    admin.execute(
        sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
            sql.Identifier(user), sql.Literal(password)
        )
    )
    admin.execute(
        sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
            sql.Identifier(database), sql.Identifier(user)
        )
    )
    admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))


def probe(conn: Any) -> dict[str, Any]:
    """Who we are connected as, to which database, and the server's version."""
    row = conn.execute(
        "SELECT current_user, current_database(), current_setting('server_version')"
    ).fetchone()
    return {"utilisateur": row[0], "base": row[1], "version": row[2]}
