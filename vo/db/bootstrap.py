"""Bring a database to the current schema: migrations, SQL functions, TAP_SCHEMA self-description.

Idempotent; safe to run at every start. Runs under an advisory lock so that several
processes starting at once (gunicorn workers, `vo worker`s) do not race.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from vo.db import tap_schema
from vo.errors import DatabaseError

_LOCK_KEY = 0x766F_7375  # "vosu"


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def install_functions(conn: Connection) -> None:
    """Run every ``vo/db/sql/*.sql`` file (CREATE OR REPLACE: idempotent) and grant EXECUTE."""
    sql_dir = resources.files("vo.db") / "sql"
    if not sql_dir.is_dir():
        return
    cursor = conn.connection.cursor()  # no parameter substitution: the files contain '%'
    for f in sorted(sql_dir.iterdir(), key=lambda p: p.name):
        if f.name.endswith(".sql"):
            try:
                cursor.execute(f.read_text())
            except Exception as exc:  # noqa: BLE001 - a broken installation, reported as such
                raise DatabaseError(f"installing vo/db/sql/{f.name} failed: "
                                    f"{str(exc).strip().splitlines()[0]}",
                                    code="DB-FUNCTIONS") from None
    cursor.close()
    conn.execute(text(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'vo_adql') THEN "
        f"GRANT USAGE ON SCHEMA vo_adql TO {tap_schema.QUERY_ROLE}; "
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA vo_adql TO {tap_schema.QUERY_ROLE}; "
        "END IF; END $$"))


def bootstrap(engine: Engine) -> None:
    """Migrate to head, install SQL functions and (re)write TAP_SCHEMA's own rows."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        command.upgrade(_alembic_config(conn), "head")
        install_functions(conn)
        tap_schema.publish_self(conn)
