"""Stored x stored crossmatch on the real demo catalogues (issue 3; DESIGN.md HEALPix step 5):
hipparcos.hip2 (117,955 stars) x gaia.dr3_bright (482,176) within 1" and 5", as an INNER
JOIN and as a LEFT OUTER JOIN, through the crossmatch plan: the pairs equal a numpy brute
force that knows nothing of HEALPix (a sweep in Dec, then the exact angular distance), and
EXPLAIN shows index range scans on dr3_bright's hpx btree."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import Engine, text

from vo.adql import translate
from vo.db.lookup import SchemaCache

JOIN = (
    "SELECT h.hip, g.source_id FROM hipparcos.hip2 AS h {kind} JOIN gaia.dr3_bright AS g"
    " ON DISTANCE(POINT(h.ra, h.dec), POINT(g.ra, g.dec)) < {r}/3600.0"
)


def _brute_force(h: np.ndarray, g: np.ndarray, r_deg: float) -> set[tuple[int, int]]:
    """Index pairs (i, j) of rows (ra, dec) of h and g within r_deg: candidates from a Dec
    sweep, then the haversine test (no pair may lie within 1e-9 arcsec of r: rounding)."""
    order = np.argsort(g[:, 1])
    gra, gdec = g[order, 0], g[order, 1]
    lo = np.searchsorted(gdec, h[:, 1] - r_deg, side="left")
    hi = np.searchsorted(gdec, h[:, 1] + r_deg, side="right")
    i = np.repeat(np.arange(len(h)), hi - lo)
    j = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
    d1, d2 = np.radians(h[i, 1]), np.radians(gdec[j])
    dra = np.radians(gra[j] - h[i, 0])
    hav = np.sin((d2 - d1) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin(dra / 2) ** 2
    sep = np.degrees(2 * np.arcsin(np.sqrt(np.clip(hav, 0, 1))))
    assert not (np.abs(sep - r_deg) < 1e-9 / 3600).any()
    keep = sep < r_deg
    return set(zip(i[keep].tolist(), order[j[keep]].tolist(), strict=True))


@pytest.fixture
def demo(engine: Engine):  # type: ignore[no-untyped-def]
    """The demo catalogues as ``vo ingest --demo`` publishes them; their ids and positions."""
    from catalogs.ingest.demo import ingest_demo

    ingest_demo(engine)
    with engine.connect() as c:
        hip = c.execute(text("SELECT hip, ra, dec FROM hipparcos.hip2")).fetchall()
        gaia = c.execute(text("SELECT source_id, ra, dec FROM gaia.dr3_bright")).fetchall()
    hid = np.array([r[0] for r in hip], dtype=np.int64)
    gid = np.array([r[0] for r in gaia], dtype=np.int64)
    h = np.array([r[1:] for r in hip], dtype=float)
    g = np.array([r[1:] for r in gaia], dtype=float)
    return engine, hid, h, gid, g


def _run(engine: Engine, sql: str) -> tuple[list[tuple], float]:
    with engine.connect() as c:
        cur = c.connection.dbapi_connection.cursor()
        cur.execute("SET jit = off")
        t0 = time.perf_counter()
        cur.execute(sql)
        rows = cur.fetchall()
        return rows, time.perf_counter() - t0


def test_hipparcos_x_gaia_equals_brute_force(demo) -> None:  # type: ignore[no-untyped-def]
    engine, hid, h, gid, g = demo
    lookup = SchemaCache(engine).lookup()
    assert len(h) == 117_955 and len(g) == 482_176
    for r in (1.0, 5.0):
        want = {(int(hid[a]), int(gid[b])) for a, b in _brute_force(h, g, r / 3600)}
        t = translate(JOIN.format(kind="INNER", r=r), lookup)
        assert t.fast_paths == 1 and "vo_adql.crossmatch_ranges(" in t.sql
        rows, seconds = _run(engine, t.sql)
        got = Counter((int(a), int(b)) for a, b in rows)
        assert max(got.values()) == 1 and set(got) == want  # no pair twice, none missed
        assert len(want) > (70_000 if r == 1.0 else 100_000)
        print(f'\nhip2 x dr3_bright within {r}": {len(rows)} pairs in {seconds:.2f} s')
        # LEFT OUTER JOIN: the same pairs plus every unmatched star once, with NULL
        left = translate(JOIN.format(kind="LEFT OUTER", r=r), lookup)
        assert left.fast_paths == 1
        rows, seconds = _run(engine, left.sql)
        matched = {(int(a), int(b)) for a, b in rows if b is not None}
        unmatched = [int(a) for a, b in rows if b is None]
        assert matched == want and len(matched) == sum(b is not None for _, b in rows)
        assert sorted(unmatched) == sorted(set(hid.tolist()) - {a for a, _ in want})
        print(f"  LEFT OUTER JOIN: {len(rows)} rows in {seconds:.2f} s")


def test_plan_uses_the_hpx_index(demo) -> None:  # type: ignore[no-untyped-def]
    engine = demo[0]
    t = translate(JOIN.format(kind="INNER", r=1.0), SchemaCache(engine).lookup())
    with engine.connect() as c:
        plan = "\n".join(r[0] for r in c.execute(text("EXPLAIN " + t.sql)))
    assert "Seq Scan on dr3_bright" not in plan, plan
    assert "Index Scan using" in plan and "on dr3_bright" in plan, plan
    assert "Seq Scan on hip2" in plan  # the smaller table probes
