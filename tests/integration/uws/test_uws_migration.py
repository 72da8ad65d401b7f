"""Migration 0002 (UWS store + procrastinate queue): applied by bootstrap, private to the
service role, reversible."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text


def _alembic(conn) -> Config:  # type: ignore[no-untyped-def]
    import vo.db

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(vo.db.__file__).parent / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def _tables(conn) -> set[str]:  # type: ignore[no-untyped-def]
    return set(conn.execute(text(
        "SELECT schemaname || '.' || tablename FROM pg_tables "
        "WHERE schemaname = 'uws' OR tablename LIKE 'procrastinate%'")).scalars())


def test_uws_schema_is_private_and_reversible(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        assert {"uws.job", "uws.job_parameter", "uws.job_result",
                "public.procrastinate_jobs", "public.procrastinate_workers"} <= _tables(conn)
        # the read-only query role sees neither jobs nor the queue
        for table in ("uws.job", "public.procrastinate_jobs"):
            assert conn.execute(text("SELECT has_table_privilege('vo_query', :t, 'SELECT')"),
                                {"t": table}).scalar_one() is False
        assert conn.execute(text(
            "SELECT has_schema_privilege('vo_query', 'uws', 'USAGE')")).scalar_one() is False
    with engine.begin() as conn:
        command.downgrade(_alembic(conn), "0001")
    with engine.begin() as conn:
        assert _tables(conn) == set()
        assert conn.execute(text(
            "SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%'")).scalar_one() == 0
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "head")
    with engine.begin() as conn:
        assert "uws.job" in _tables(conn)
