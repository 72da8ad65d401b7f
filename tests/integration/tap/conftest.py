"""Fixtures for the TAP tests: demo-like published tables, the app, and a live server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from vo.db import tap_schema
from vo.meta import ColumnMeta, Position, TableMeta

HIP_ROWS = 2000


def _hip_table() -> TableMeta:
    return TableMeta(
        "hipparcos",
        "hipparcos.hip2",
        (
            ColumnMeta(
                "hip",
                "int",
                ucd="meta.id;meta.main",
                description="Hipparcos number",
                principal=True,
                indexed=True,
            ),
            ColumnMeta(
                "ra",
                "double",
                unit="deg",
                ucd="pos.eq.ra;meta.main",
                description="Right ascension (ICRS, epoch J1991.25)",
                principal=True,
            ),
            ColumnMeta(
                "dec",
                "double",
                unit="deg",
                ucd="pos.eq.dec;meta.main",
                description="Declination (ICRS, epoch J1991.25)",
                principal=True,
            ),
            ColumnMeta("plx", "double", unit="mas", ucd="pos.parallax", description="Parallax"),
            ColumnMeta(
                "hpmag",
                "float",
                unit="mag",
                ucd="phot.mag;em.opt",
                description="Hipparcos magnitude",
            ),
            ColumnMeta(
                '"Name"', "char", arraysize="*", description="A delimited column", db_name="Name"
            ),
        ),
        "Synthetic stand-in for the Hipparcos 2 catalogue (tests)",
        db_schema="hipparcos",
        db_table="hip2",
        position=Position("ra", "dec", epoch="J1991.25", rows=HIP_ROWS),
        primary_key=("hip",),
    )


@pytest.fixture
def demo_engine(engine):
    """``hipparcos.hip2`` with HIP_ROWS synthetic stars (HEALPix columns included), published."""
    from vo.healpix import pixel_index, unit_vectors

    rng = np.random.default_rng(7)
    ra = rng.uniform(0, 360, HIP_ROWS)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, HIP_ROWS)))
    ra[:50] = 56.75 + rng.normal(0, 0.3, 50)  # a cluster near the Pleiades
    dec[:50] = 24.12 + rng.normal(0, 0.3, 50)
    hpx = pixel_index(ra, dec)
    cx, cy, cz = unit_vectors(ra, dec)
    rows = [
        {
            "hip": i + 1,
            "ra": float(ra[i]),
            "dec": float(dec[i]),
            "plx": None if i % 97 == 0 else float(rng.uniform(0.1, 700)),
            "hpmag": float(rng.uniform(-1, 12)),
            "name": f"star {i + 1}",
            "hpx": int(hpx[i]),
            "cx": float(cx[i]),
            "cy": float(cy[i]),
            "cz": float(cz[i]),
        }
        for i in range(HIP_ROWS)
    ]
    with engine.begin() as c:
        c.execute(text("CREATE SCHEMA hipparcos"))
        c.execute(
            text(
                "CREATE TABLE hipparcos.hip2 (hip integer PRIMARY KEY, ra double precision,"
                ' dec double precision, plx double precision, hpmag real, "Name" text,'
                " hpx bigint, cx double precision, cy double precision,"
                " cz double precision)"
            )
        )
        c.execute(
            text(
                "INSERT INTO hipparcos.hip2 VALUES (:hip, :ra, :dec, :plx, :hpmag, :name,"
                " :hpx, :cx, :cy, :cz)"
            ),
            rows,
        )
        c.execute(text("CREATE INDEX ON hipparcos.hip2 (hpx)"))
        tap_schema.publish(c, _hip_table(), schema_description="Hipparcos (synthetic, tests)")
    return engine


@pytest.fixture
def tap_settings(settings):
    return settings.replace(upload_allow_private_urls=True, maxrec_default=1000, maxrec_hard=5000)


@pytest.fixture
def app(tap_settings, demo_engine):
    from vo.web import create_app

    return create_app(tap_settings, demo_engine)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_url(tap_settings, demo_engine) -> Iterator[str]:
    """A real HTTP server on loopback (werkzeug, threaded) serving the app."""
    from vo.web import create_app

    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    port = server.server_port
    s = tap_settings.replace(port=port)
    server.app = create_app(s, demo_engine)  # type: ignore[attr-defined]
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        t.join(5)


@pytest.fixture
def live_worker(tap_settings, db_url) -> Iterator[None]:
    """A `vo worker` process on the test database (runs TAP async jobs)."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "VO_DATABASE_URL": db_url,
        "VO_DATA_DIR": str(tap_settings.data_dir),
        "VO_UPLOAD_ALLOW_PRIVATE_URLS": "true",
        "VO_MAXREC_DEFAULT": "1000",
        "VO_MAXREC_HARD": "5000",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "vo.cli.main", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield None
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
