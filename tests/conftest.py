"""Shared fixtures: a real PostgreSQL for every test that needs one.

One private cluster per test session (the same starter `vo serve` uses, fsync off),
a template database migrated once, and a fresh database cloned from it per test
(~0.2 s). ``VO_TEST_DATABASE_URL`` points the tests at an existing server instead
(its user must be allowed to create databases).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

TEMPLATE = "vo_test_template"


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a maintenance database on a running server (the session's private cluster)."""
    if os.environ.get("VO_TEST_DATABASE_URL"):
        yield os.environ["VO_TEST_DATABASE_URL"]
        return
    from vo.db.cluster import PrivateCluster

    cluster = PrivateCluster(tmp_path_factory.mktemp("pgcluster"), fast=True)
    url = cluster.start()
    try:
        yield url
    finally:
        cluster.destroy()


def _admin_engine(server_url: str) -> Engine:
    return create_engine(make_url(server_url).set(database="postgres"),
                         isolation_level="AUTOCOMMIT", poolclass=None)


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> str:
    """A database migrated to head, cloned by each test."""
    from vo.db.bootstrap import bootstrap

    admin = _admin_engine(pg_server_url)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    url = make_url(pg_server_url).set(database=TEMPLATE).render_as_string(hide_password=False)
    eng = create_engine(url)
    bootstrap(eng)
    eng.dispose()
    admin.dispose()
    return url


@pytest.fixture
def db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = "vo_test_" + uuid.uuid4().hex[:12]
    admin = _admin_engine(pg_server_url)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = create_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str):  # type: ignore[no-untyped-def]
    """Settings pointing at the test's database and a private data directory."""
    from vo.config import load_settings

    return load_settings(env={}, database_url=db_url, data_dir=tmp_path / "data")
