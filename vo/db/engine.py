"""Database URL resolution and SQLAlchemy engines (the private cluster when none is configured)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine

from vo.config import Settings
from vo.db.cluster import PrivateCluster


def private_cluster(settings: Settings) -> PrivateCluster:
    return PrivateCluster(settings.data_dir, settings.pg_bindir)


def database_url(settings: Settings, *, start: bool = True) -> str:
    """The configured URL, or the private cluster's (started if ``start``)."""
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg2://" + url.split("://", 1)[1]
        return url
    cluster = private_cluster(settings)
    if start:
        return cluster.start()
    url = cluster.url()
    if url is None:
        from vo.errors import DatabaseError

        raise DatabaseError("the private PostgreSQL cluster is not running: run `vo db start`",
                            code="DB-NOT-RUNNING")
    return url


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    """An engine for the service's own connections (owner role)."""
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         future=True)
