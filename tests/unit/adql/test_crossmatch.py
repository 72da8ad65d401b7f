"""The crossmatch range plan without a database: the radius bound holds (random points at
pixel corners, edges and the poles, then offsets of exactly the bound in every
direction), and the translator recognises exactly the forms it may accelerate (DESIGN.md
HEALPix step 5). tests/integration/adql/test_crossmatch_ranges.py checks the SQL ranges."""

from __future__ import annotations

import re
from dataclasses import replace

import healpy as hp
import numpy as np
import pytest

from tests.unit.adql.schema_fixture import GAIA, UPLOAD
from vo.adql import StaticSchema, translate
from vo.adql.crossmatch import MIN_EDGE_DEG_ORDER0, radius_bound
from vo.meta import Position

K = 13
NSIDE = 1 << K


def _misses(pix: np.ndarray, r_deg: float, rng: np.random.Generator) -> int:
    """Points of ``pix`` (near its boundary) moved by exactly r that leave the 3x3 pixels."""
    n = len(pix)
    b = hp.boundaries(NSIDE, pix, step=4, nest=True)  # (n, 3, 16): corners and edges
    v = b[np.arange(n), :, rng.integers(0, 16, n)]
    centre = np.array(hp.pix2vec(NSIDE, pix, nest=True)).T
    v = v + (centre - v) * 1e-6
    v /= np.linalg.norm(v, axis=1)[:, None]
    assert (hp.vec2pix(NSIDE, *v.T, nest=True) == pix).all()
    a = np.cross(v, rng.normal(size=(n, 3)))
    a /= np.linalg.norm(a, axis=1)[:, None]
    r = np.radians(r_deg)
    q = hp.vec2pix(NSIDE, *(v * np.cos(r) + a * np.sin(r)).T, nest=True)
    nb = hp.get_all_neighbours(NSIDE, pix, nest=True)
    return int((~((q == pix) | (nb == q).any(axis=0))).sum())


@pytest.mark.parametrize("where", ["anywhere", "poles", "face corners"])
def test_radius_bound_keeps_matches_in_the_neighbourhood(where: str) -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    if where == "poles":
        z = rng.uniform(0.9999, 1, n) * rng.choice([-1, 1], n)
        pix = hp.ang2pix(NSIDE, np.arccos(z), rng.uniform(0, 2 * np.pi, n), nest=True)
    elif where == "face corners":
        corner = np.array([0, (1 << 2 * K) - 1, int("01" * K, 2), int("10" * K, 2)])
        pix = (rng.integers(0, 12, n) << (2 * K)) + rng.choice(corner, n)
    else:
        pix = rng.integers(0, hp.nside2npix(NSIDE), n)
    assert _misses(pix, radius_bound(K), rng) == 0
    # the test can fail: well past the bound, points do leave the neighbourhood
    assert _misses(pix, 2.0 * radius_bound(K), rng) > 0


def test_min_edge_constant_matches_healpy() -> None:
    b = hp.boundaries(1 << 8, np.arange(hp.nside2npix(1 << 8)), step=1, nest=True)
    v = np.transpose(b, (0, 2, 1))
    edge = 2 * np.arcsin(np.linalg.norm(v - np.roll(v, 1, axis=1), axis=2) / 2)
    assert np.degrees(edge.min()) * (1 << 8) == pytest.approx(MIN_EDGE_DEG_ORDER0, rel=1e-4)


MINE = replace(
    UPLOAD,
    db_schema="pg_temp",
    position=Position("ra", "dec", rows=100),
)
SCHEMA = StaticSchema(
    (GAIA, MINE, replace(UPLOAD, table_name="TAP_UPLOAD.plain")), version="xm-unit"
)
ON = "SELECT u.id FROM TAP_UPLOAD.mine AS u JOIN gaia.dr3_bright AS g ON "
WHERE = "SELECT u.id FROM TAP_UPLOAD.mine AS u, gaia.dr3_bright AS g WHERE "


@pytest.mark.parametrize(
    "query",
    [
        ON + "1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', u.ra, u.dec, 1.0/3600))",
        ON + "CONTAINS(POINT(u.ra, u.dec), CIRCLE(POINT(g.ra, g.dec), 0.0002)) = 1",
        ON + "INTERSECTS(POINT(g.ra, g.dec), CIRCLE(u.ra, u.dec, 1/3600.0)) = 1 AND g.ra > 3",
        ON + "INTERSECTS(CIRCLE(g.ra, g.dec, 0.0001), POINT(u.ra, u.dec)) = 1",
        WHERE + "DISTANCE(POINT(g.ra, g.dec), POINT(u.ra, u.dec)) < 2.5/3600",
        WHERE + "0.0005 >= DISTANCE(POINT(u.ra, u.dec), POINT(g.ra, g.dec))",
        WHERE + "DISTANCE(g.ra, g.dec, u.ra, u.dec) <= +0.001 AND u.id < 5",
        "SELECT u.id FROM gaia.dr3_bright AS g CROSS JOIN TAP_UPLOAD.mine AS u WHERE "
        "DISTANCE(POINT(g.ra, g.dec), POINT(u.ra, u.dec)) < 1/3600.0",
    ],
)
def test_recognised_forms_take_the_range_plan(query: str) -> None:
    t = translate(query, SCHEMA)
    assert t.fast_paths == 1
    alias = re.search(r'"pg_temp"\."mine" AS "(\w+)"', t.sql).group(1)  # the smaller probes
    assert t.sql.count("LATERAL") == 1
    assert f'vo_adql.crossmatch_ranges("{alias}"."hpx", 13, ' in t.sql
    assert '"hpx" BETWEEN "nr' in t.sql
    exact = translate(query, SCHEMA, fast_path=False)
    assert "LATERAL" not in exact.sql and exact.fast_paths == 0


@pytest.mark.parametrize(
    "query",
    [
        WHERE + "DISTANCE(POINT(g.ra, g.dec), POINT(u.ra, u.dec)) < 1/3600.0 OR u.id = 1",
        WHERE + "NOT DISTANCE(POINT(g.ra, g.dec), POINT(u.ra, u.dec)) > 1/3600.0",
        WHERE + "DISTANCE(POINT(g.ra, g.dec), POINT(u.ra, u.dec)) > 1/3600.0",
        WHERE + "DISTANCE(POINT(g.ra, g.dec), POINT(u.ra, u.dec)) < u.id / 3600.0",
        WHERE + "DISTANCE(POINT(g.dec, g.ra), POINT(u.ra, u.dec)) < 1/3600.0",  # not the position
        WHERE + "DISTANCE(POINT(g.ra, g.dec), POINT(u.ra, u.dec)) < 6",  # past every order
        "SELECT u.id FROM TAP_UPLOAD.mine AS u WHERE EXISTS (SELECT 1 FROM gaia.dr3_bright AS g "
        "WHERE DISTANCE(POINT(g.ra, g.dec), POINT(u.ra, u.dec)) < 1/3600.0)",  # correlated
    ],
)
def test_other_forms_keep_the_exact_path(query: str) -> None:
    t = translate(query, SCHEMA)
    assert "LATERAL" not in t.sql
