"""The crossmatch range plan (DESIGN.md HEALPix step 5) on a real PostgreSQL: an upload
made by vo.db.uploads joined with a positional catalogue, and two stored catalogues joined
with each other, give exactly the exact path's pairs, for every recognised form (INNER
JOIN ON, WHERE, LEFT OUTER JOIN), radii from 0.01 arcsec to past the order-13 bound (a
coarser order), near the poles, RA 0/360 and a face corner; unrecognised forms keep the
exact path; EXPLAIN shows index range scans on hpx."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from astropy.table import Table
from sqlalchemy import Engine, text

from tests.sky import offset_positions
from vo import healpix
from vo.adql import StaticSchema, translate
from vo.adql.crossmatch import radius_bound
from vo.db.uploads import LoadedUpload, parse_votable
from vo.meta import ColumnMeta, Position, TableMeta

BOUND_ARCSEC = radius_bound(13) * 3600


def _positions(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform positions with a third of them at the poles, RA 0/360 and a face corner."""
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    k = n // 12
    dec[:k] = rng.uniform(89.99, 90, k)
    dec[k : 2 * k] = rng.uniform(-90, -89.99, k)
    ra[2 * k : 3 * k] = np.mod(rng.uniform(-0.01, 0.01, k), 360)
    ra[3 * k : 4 * k], dec[3 * k : 4 * k] = (
        45 + rng.normal(0, 0.005, k),
        41.81 + rng.normal(0, 0.005, k),
    )
    return ra, dec


CAT = TableMeta(
    "cat",
    "cat.src",
    (
        ColumnMeta("sid", "long"),
        ColumnMeta("ra", "double", unit="deg"),
        ColumnMeta("dec", "double", unit="deg"),
        ColumnMeta("mag", "double"),
    ),
    db_schema="cat",
    db_table="src",
    position=Position("ra", "dec", rows=0),
)


def _load_catalogue(engine: Engine, ra: np.ndarray, dec: np.ndarray, table: str = "src") -> None:
    """cat.<table> as ingest makes it: sorted by hpx, hpx/cx/cy/cz, btree on hpx, analysed."""
    hpx = healpix.pixel_index(ra, dec)
    cx, cy, cz = healpix.unit_vectors(ra, dec)
    o = np.argsort(hpx, kind="stable")
    n = len(ra)
    mag = np.arange(n) % 20
    buf = io.StringIO()
    cols = np.column_stack([np.arange(n)[o], ra[o], dec[o], mag[o], hpx[o], cx[o], cy[o], cz[o]])
    np.savetxt(
        buf,
        cols,
        fmt=["%d", "%.17g", "%.17g", "%d", "%d", "%.17g", "%.17g", "%.17g"],
        delimiter="\t",
    )
    buf.seek(0)
    with engine.begin() as c:
        c.execute(text("CREATE SCHEMA IF NOT EXISTS cat"))
        c.execute(
            text(
                f"CREATE TABLE cat.{table} (sid bigint, ra float8, dec float8, mag float8,"
                " hpx bigint, cx float8, cy float8, cz float8)"
            )
        )
        cur = c.connection.dbapi_connection.cursor()
        cur.copy_expert(f"COPY cat.{table} FROM STDIN", buf)
        c.execute(text(f"CREATE INDEX ON cat.{table} (hpx); ANALYZE cat.{table}"))


def _upload(name: str, ra: np.ndarray, dec: np.ndarray, settings: Any) -> LoadedUpload:
    t = Table({"id": np.arange(len(ra), dtype=np.int32), "ra": ra, "dec": dec})
    t["ra"] = np.ma.masked_invalid(t["ra"])
    t["dec"] = np.ma.masked_invalid(t["dec"])
    buf = io.BytesIO()
    t.write(buf, format="votable")
    return parse_votable(name, buf.getvalue(), settings)


@pytest.fixture
def matched(engine: Engine, settings: Any) -> Iterator[tuple[Any, StaticSchema]]:
    """A catalogue of clusters around upload positions (0-15 arcsec away) plus background,
    and a raw connection holding the upload (a temporary table: one transaction)."""
    rng = np.random.default_rng(11)
    ura, udec = _positions(rng, 150)
    n_each = 6
    sep = rng.uniform(0, 15 / 3600, len(ura) * n_each)
    sep[::7] = rng.uniform(0, 0.05 / 3600, len(sep[::7]))  # some very close pairs
    cra, cdec = offset_positions(np.repeat(ura, n_each), np.repeat(udec, n_each), sep, rng)
    bra, bdec = _positions(rng, 1500)
    _load_catalogue(engine, np.concatenate([cra, bra]), np.concatenate([cdec, bdec]))
    _load_catalogue(engine, ura[:120], udec[:120], "other")  # stored copy of most of the list
    ura[5], udec[5] = np.nan, np.nan  # a NULL position matches nothing
    up = _upload("mine", ura, udec, settings)
    assert up.table.position is not None
    with engine.connect() as c:
        conn = c.connection.dbapi_connection
        up.create(conn, settings.query_role)
        yield conn, StaticSchema((CAT, OTHER, up.table), version="xm")
        conn.rollback()


OTHER = replace(
    CAT,
    table_name="cat.other",
    db_table="other",
    position=Position("ra", "dec", rows=120),
)


def _pairs(conn: Any, sql: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql)
        return sorted(tuple(-1 if v is None else v for v in r) for r in cur.fetchall())


FORMS = [
    "SELECT u.id, c.sid FROM TAP_UPLOAD.mine AS u JOIN cat.src AS c ON "
    "1 = CONTAINS(POINT('ICRS', c.ra, c.dec), CIRCLE('ICRS', u.ra, u.dec, {r}/3600.0))",
    "SELECT u.id, c.sid FROM cat.src AS c JOIN TAP_UPLOAD.mine AS u ON "
    "CONTAINS(POINT(u.ra, u.dec), CIRCLE(POINT(c.ra, c.dec), {r}/3600.0)) = 1 AND c.mag < 15",
    "SELECT u.id, c.sid FROM TAP_UPLOAD.mine AS u, cat.src AS c "
    "WHERE DISTANCE(POINT(c.ra, c.dec), POINT(u.ra, u.dec)) < {r}/3600.0",
    "SELECT u.id, c.sid FROM TAP_UPLOAD.mine AS u CROSS JOIN cat.src AS c "
    "WHERE {r}/3600.0 >= DISTANCE(u.ra, u.dec, c.ra, c.dec) AND u.id > 10",
    "SELECT u.id, c.sid FROM TAP_UPLOAD.mine AS u JOIN cat.src AS c ON "
    "INTERSECTS(CIRCLE(u.ra, u.dec, {r}/3600.0), POINT(c.ra, c.dec)) = 1",
    # LEFT OUTER JOIN: rows of u without a match stay once, with NULLs
    "SELECT u.id, c.sid FROM TAP_UPLOAD.mine AS u LEFT OUTER JOIN cat.src AS c ON "
    "DISTANCE(POINT(c.ra, c.dec), POINT(u.ra, u.dec)) <= {r}/3600.0 AND c.mag < 15",
    # two stored catalogues, the smaller (cat.other) probing
    "SELECT o.sid, c.sid FROM cat.src AS c JOIN cat.other AS o ON "
    "DISTANCE(POINT(c.ra, c.dec), POINT(o.ra, o.dec)) < {r}/3600.0",
    "SELECT o.sid, c.sid FROM cat.other AS o LEFT JOIN cat.src AS c ON "
    "1 = CONTAINS(POINT(c.ra, c.dec), CIRCLE(o.ra, o.dec, {r}/3600.0))",
    "SELECT o.sid, u.id FROM cat.other AS o, TAP_UPLOAD.mine AS u WHERE "
    "DISTANCE(o.ra, o.dec, u.ra, u.dec) < {r}/3600.0 AND u.id >= 0",
]
# the exact path is ~5 us per pair; past BOUND_ARCSEC the plan takes order 12, then 11
RADII = [0.01, 1.0, 4.0, BOUND_ARCSEC * 0.999, BOUND_ARCSEC * 1.01, 14.0]


@pytest.mark.parametrize("form", range(len(FORMS)))
def test_fast_plan_equals_exact_plan(matched: tuple[Any, StaticSchema], form: int) -> None:
    conn, schema = matched
    seen = 0
    for r in RADII:
        q = FORMS[form].format(r=repr(r))
        fast, exact = translate(q, schema), translate(q, schema, fast_path=False)
        assert fast.fast_paths == 1 and "LATERAL" in fast.sql, fast.sql
        assert '"hpx" BETWEEN "nr' in fast.sql and "vo_adql.crossmatch_ranges(" in fast.sql
        assert "LATERAL" not in exact.sql
        got = _pairs(conn, fast.sql)
        assert got == _pairs(conn, exact.sql), (r, q)
        if "LEFT" in q:
            assert len({a for a, _ in got}) == (150 if "mine" in q else 120)  # all preserved
            assert (5, -1) in got or "mine" not in q  # the NULL position, once, unmatched
        elif "mine AS u JOIN" in q or "u, cat" in q:
            assert all(u != 5 for u, _ in got)  # the NULL position
        seen += sum(b != -1 for _, b in got)
    assert seen > 300  # the comparison saw real matches


def test_unrecognised_forms_take_the_exact_path(matched: tuple[Any, StaticSchema]) -> None:
    conn, schema = matched
    for q in [
        FORMS[2].format(r="21601.0"),  # 6 degrees: past radius_bound(2)
        "SELECT u.id, c.sid FROM TAP_UPLOAD.mine AS u, cat.src AS c WHERE "
        "DISTANCE(POINT(c.ra, c.dec), POINT(u.ra, u.dec)) < 2/3600.0 OR c.sid = 3",
        "SELECT u.id, c.sid FROM TAP_UPLOAD.mine AS u RIGHT JOIN cat.src AS c ON "
        "DISTANCE(POINT(c.ra, c.dec), POINT(u.ra, u.dec)) < 2/3600.0",
        "SELECT u.id, c.sid FROM TAP_UPLOAD.mine AS u, cat.src AS c WHERE "
        "DISTANCE(POINT(c.ra, c.dec), POINT(u.ra, u.dec)) < c.mag / 3600.0",
        "SELECT u.id, c.sid FROM TAP_UPLOAD.mine AS u, cat.src AS c WHERE "
        "NOT DISTANCE(POINT(c.ra, c.dec), POINT(u.ra, u.dec)) >= 2/3600.0",
    ]:
        t = translate(q, schema)
        assert t.fast_paths == 0 and "LATERAL" not in t.sql, q
    # past the bound the answer is still right (the exact path, which the plan must not cut)
    q = FORMS[2].format(r="30.0")
    fast, exact = translate(q, schema), translate(q, schema, fast_path=False)
    assert fast.fast_paths == 1  # order 11
    got = _pairs(conn, fast.sql)
    assert got == _pairs(conn, exact.sql) and len(got) > 500


def test_explain_uses_the_hpx_index_on_a_million_rows(engine: Engine, settings: Any) -> None:
    rng = np.random.default_rng(3)
    ra = rng.uniform(0, 360, 1_000_000)  # uniform: ~24 sources per square degree
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 1_000_000)))
    _load_catalogue(engine, ra, dec)
    pick = rng.choice(len(ra), 1000, replace=False)
    ura, udec = offset_positions(ra[pick], dec[pick], rng.uniform(0, 0.5 / 3600, 1000), rng)
    up = _upload("mine", ura, udec, settings)
    schema = StaticSchema((CAT, up.table), version="xm-explain")
    q = FORMS[0].format(r="1.0")
    sql = translate(q, schema).sql
    with engine.connect() as c:
        conn = c.connection.dbapi_connection
        up.create(conn, settings.query_role)
        with conn.cursor() as cur:
            cur.execute("SET LOCAL jit = off")
            cur.execute("EXPLAIN " + sql)
            plan = "\n".join(r[0] for r in cur.fetchall())
            assert "Seq Scan on src" not in plan, plan
            assert (
                "Index Scan using src_hpx_idx on src" in plan
                or "Bitmap Index Scan on src_hpx_idx" in plan
            ), plan
            t0 = time.perf_counter()
            cur.execute(sql)
            rows = cur.fetchall()
            elapsed = time.perf_counter() - t0
        conn.rollback()
    assert {u for u, _ in rows} == set(range(1000))  # each offset within 0.5" finds its source
    print(f"\ncrossmatch 1000 x 1e6 within 1 arcsec (database only): {elapsed * 1000:.1f} ms")
