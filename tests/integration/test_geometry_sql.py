"""The SQL functions of vo/db/sql/vo_adql.sql on a real PostgreSQL vs independent computations.

distance vs astropy SkyCoord.separation; contains/intersects vs brute force in a gnomonic
projection (great circles become straight lines); area vs L'Huilier's theorem; healpix_index
and healpix_center vs healpy for every order 0..29; the fast-path SQL shape of the geometry
contract (inner ranges OR boundary ranges AND exact test) vs the exact test alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib import resources
from typing import Any

import astropy.units as u
import healpy as hp
import numpy as np
import psycopg2
import pytest
from astropy.coordinates import SkyCoord
from sqlalchemy import make_url

import vo.healpix as vh

FACE_DEC = float(np.degrees(np.arcsin(2.0 / 3.0)))


@pytest.fixture(scope="module")
def cur(pg_server_url: str) -> Iterator[Any]:
    """A cursor on a fresh database with just the vo_adql functions (installed twice)."""
    url = make_url(pg_server_url)
    params = dict(host=url.host, port=url.port, user=url.username, password=url.password)
    admin = psycopg2.connect(dbname=url.database or "postgres", **params)
    admin.autocommit = True
    name = "vo_geo_" + uuid.uuid4().hex[:10]
    with admin.cursor() as c:
        c.execute(f'CREATE DATABASE "{name}"')
    conn = psycopg2.connect(dbname=name, **params)
    conn.autocommit = True
    sql = (resources.files("vo.db") / "sql" / "vo_adql.sql").read_text()
    with conn.cursor() as c:
        c.execute(sql)
        c.execute(sql)
        yield c
    conn.close()
    with admin.cursor() as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def column(cur: Any, expr: str, **arrays: Any) -> list[Any]:
    """Evaluate ``expr`` over rows unnested from equally long arrays, in order."""
    names = list(arrays)
    cols = ", ".join(f"%({n})s::float8[]" for n in names)
    cur.execute(
        f"SELECT {expr} FROM unnest({cols}) WITH ORDINALITY AS t({', '.join(names)}, i) ORDER BY i",
        {n: [float(x) for x in np.asarray(a, dtype=float)] for n, a in arrays.items()},
    )
    return [r[0] for r in cur.fetchall()]


def scalar(cur: Any, sql: str, *args: Any) -> Any:
    cur.execute(sql, args)
    return cur.fetchone()[0]


def random_sky(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


# ---------------------------------------------------------------- distance


def test_distance_matches_astropy_from_microarcsec_to_antipodes(cur: Any) -> None:
    rng = np.random.default_rng(1)
    ra1, dec1 = random_sky(rng, 3000)
    scale = 10 ** rng.uniform(-9, 2.3, 3000)
    ra2 = ra1 + rng.normal(0, 1, 3000) * scale
    dec2 = np.clip(dec1 + rng.normal(0, 1, 3000) * scale, -90, 90)
    ra2[:100], dec2[:100] = (ra1[:100] + 180) % 360, -dec1[:100]  # antipodes
    ours = np.array(column(cur, "vo_adql.distance(a, b, c, d)", a=ra1, b=dec1, c=ra2, d=dec2))
    theirs = SkyCoord(ra1 * u.deg, dec1 * u.deg).separation(SkyCoord(ra2 * u.deg, dec2 * u.deg)).deg
    assert np.all(np.abs(ours - theirs) <= 1e-12 + 1e-9 * theirs)
    assert scalar(
        cur, "SELECT vo_adql.distance(ARRAY[359.9999, 0], ARRAY[0.0001, 0])"
    ) == pytest.approx(2e-4)
    assert scalar(cur, "SELECT vo_adql.distance(ARRAY[10, 90], ARRAY[250, 90])") == 0


# ---------------------------------------------------------------- planar oracle


def frame(ra: float, dec: float) -> np.ndarray:
    a, d = np.radians(ra), np.radians(dec)
    c = np.array([np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)])
    e = np.array([-np.sin(a), np.cos(a), 0.0])
    n = np.array([-np.sin(d) * np.cos(a), -np.sin(d) * np.sin(a), np.cos(d)])
    return np.stack([c, e, n])


def to_sky(f: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = f[0][None, :] + x[:, None] * f[1][None, :] + y[:, None] * f[2][None, :]
    ra = np.degrees(np.arctan2(v[:, 1], v[:, 0])) % 360
    dec = np.degrees(np.arctan2(v[:, 2], np.hypot(v[:, 0], v[:, 1])))
    return ra, dec


def star_polygon(rng: np.random.Generator, size: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, 1)
    rad = np.tan(np.radians(size)) * rng.uniform(0.3, 1.0, n)
    x, y = rad * np.cos(ang), rad * np.sin(ang)
    return (x, y) if rng.uniform() < 0.5 else (x[::-1], y[::-1])


def planar_inside(px: np.ndarray, py: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(px), dtype=bool)
    for i in range(len(x)):
        x1, y1, x2, y2 = x[i], y[i], x[(i + 1) % len(x)], y[(i + 1) % len(x)]
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= ((y1 > py) != (y2 > py)) & (px < xc)
    return inside


def segments_cross(x: np.ndarray, y: np.ndarray, X: np.ndarray, Y: np.ndarray) -> bool:
    def orient(ax, ay, bx, by, cx, cy):  # type: ignore[no-untyped-def]
        return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)

    for i in range(len(x)):
        a = (x[i], y[i], x[(i + 1) % len(x)], y[(i + 1) % len(x)])
        for j in range(len(X)):
            b = (X[j], Y[j], X[(j + 1) % len(X)], Y[(j + 1) % len(X)])
            d1, d2 = orient(*a, b[0], b[1]), orient(*a, b[2], b[3])
            d3, d4 = orient(*b, a[0], a[1]), orient(*b, a[2], a[3])
            if d1 * d2 < 0 and d3 * d4 < 0:
                return True
    return False


def as_polygon(ra: np.ndarray, dec: np.ndarray) -> list[float]:
    return [float(v) for pair in zip(ra, dec, strict=True) for v in pair]


CENTRES = [
    (0.0, 0.0),
    (359.99, 0.5),
    (45.0, FACE_DEC),
    (180.0, 89.5),
    (10.0, 90.0),
    (300.0, -90.0),
    (135.0, -FACE_DEC),
    (90.0, 30.0),
]


@pytest.mark.parametrize(("ra0", "dec0"), CENTRES)
def test_contains_point_in_polygon_and_circle_vs_brute_force(
    cur: Any, ra0: float, dec0: float
) -> None:
    rng = np.random.default_rng(int(ra0 * 7 + dec0 * 13) % 2**32)
    f = frame(ra0, dec0)
    for size in (3e-7, 2e-4, 0.3, 20.0):
        x, y = star_polygon(rng, size, int(rng.integers(3, 9)))
        t = np.tan(np.radians(size))
        px, py = rng.uniform(-1.3 * t, 1.3 * t, 600), rng.uniform(-1.3 * t, 1.3 * t, 600)
        pra, pdec = to_sky(f, px, py)
        poly = as_polygon(*to_sky(f, x, y))
        got = column(cur, f"vo_adql.contains(ARRAY[a, b], ARRAY{poly}::float8[])", a=pra, b=pdec)
        assert np.array_equal(np.array(got) == 1, planar_inside(px, py, x, y))
        # a circle of radius size/2 around the centre
        r = size / 2
        got = column(
            cur, f"vo_adql.contains(ARRAY[a, b], ARRAY[{ra0}, {dec0}, {r}])", a=pra, b=pdec
        )
        sep = (
            SkyCoord(pra * u.deg, pdec * u.deg).separation(SkyCoord(ra0 * u.deg, dec0 * u.deg)).deg
        )
        clear = np.abs(sep - r) > 1e-9 * r
        assert np.array_equal((np.array(got) == 1)[clear], (sep <= r)[clear])
        # INTERSECTS with a point means CONTAINS (ADQL 2.1 sec. 4.2.10)
        got2 = column(
            cur, f"vo_adql.intersects(ARRAY[a, b], ARRAY[{ra0}, {dec0}, {r}])", a=pra, b=pdec
        )
        assert got2 == got


def test_polygon_polygon_relations_vs_planar_geometry(cur: Any) -> None:
    rng = np.random.default_rng(42)
    seen = {"contains": 0, "intersects": 0, "disjoint": 0}
    for k in range(120):
        ra0, dec0 = CENTRES[k % len(CENTRES)]
        f = frame(ra0, dec0)
        x, y = star_polygon(rng, 5.0, int(rng.integers(3, 8)))
        s = rng.uniform(0.05, 0.8)
        dx, dy = rng.uniform(-0.12, 0.12, 2)
        X, Y = star_polygon(rng, 5.0 * s, int(rng.integers(3, 8)))
        X, Y = X + dx, Y + dy
        a = as_polygon(*to_sky(f, X, Y))
        b = as_polygon(*to_sky(f, x, y))
        cross = segments_cross(X, Y, x, y)
        a_in_b = planar_inside(X, Y, x, y)
        b_in_a = planar_inside(x, y, X, Y)
        want_contains = (not cross) and bool(a_in_b.all())
        want_intersects = cross or bool(a_in_b.any()) or bool(b_in_a.any())
        got_c = scalar(cur, "SELECT vo_adql.contains(%s::float8[], %s::float8[])", a, b)
        got_i = scalar(cur, "SELECT vo_adql.intersects(%s::float8[], %s::float8[])", a, b)
        assert got_c == int(want_contains) and got_i == int(want_intersects), (k, a, b)
        assert scalar(cur, "SELECT vo_adql.intersects(%s::float8[], %s::float8[])", b, a) == got_i
        seen["contains" if want_contains else "intersects" if want_intersects else "disjoint"] += 1
    assert min(seen.values()) >= 5, seen


def test_circle_relations(cur: Any) -> None:
    q = (
        "SELECT vo_adql.contains(%s::float8[], %s::float8[]),"
        " vo_adql.intersects(%s::float8[], %s::float8[])"
    )

    def rel(a: list[float], b: list[float]) -> tuple[int, int]:
        cur.execute(q, (a, b, a, b))
        return tuple(cur.fetchone())  # type: ignore[return-value]

    assert rel([359.5, 0, 0.2], [0.5, 0, 1.5]) == (1, 1)  # across RA 0
    assert rel([359.5, 0, 0.6], [0.5, 0, 1.5]) == (0, 1)
    assert rel([10, 89, 0.5], [190, 89, 1.4]) == (0, 0)  # across the pole: centres 2 deg apart
    assert rel([10, 89, 0.5], [190, 89, 1.6]) == (0, 1)
    assert rel([10, 89, 0.5], [190, 89, 2.6]) == (1, 1)
    assert rel([10, 0, 1], [13, 0, 1.9]) == (0, 0)
    # circle vs a concave C-shaped polygon: in the notch it touches nothing
    c_shape = [0, 0, 4, 0, 4, 1, 1, 1, 1, 3, 4, 3, 4, 4, 0, 4]
    assert rel([2.5, 2, 0.3], c_shape) == (0, 0)
    assert rel([0.5, 2, 0.3], c_shape) == (1, 1)
    assert rel([1.2, 2, 0.3], c_shape) == (0, 1)
    # polygon inside a circle, including a circle larger than a hemisphere
    assert rel(c_shape, [2, 2, 3.5]) == (1, 1)
    assert rel(c_shape, [2, 2, 2.0]) == (0, 1)
    assert rel(c_shape, [2, 2, 100.0]) == (1, 1)
    # a circle larger than a hemisphere: all but a small cap around (2, 2), in the notch
    assert rel(c_shape, [182, -2, 179.5]) == (1, 1)
    assert rel(c_shape, [182, -2, 178.5]) == (0, 1)
    assert rel(c_shape, [182, -2, 176.0]) == (0, 0)
    assert rel([20, 20], [20, 20]) == (1, 1)


# ---------------------------------------------------------------- area, centroid, box


def lhuilier(ra: np.ndarray, dec: np.ndarray) -> float:
    """Area (sr) of a triangle from its side lengths (L'Huilier's theorem)."""
    pts = SkyCoord(ra * u.deg, dec * u.deg)
    a = pts[1].separation(pts[2]).rad
    b = pts[0].separation(pts[2]).rad
    c = pts[0].separation(pts[1]).rad
    s = (a + b + c) / 2
    t = np.tan(s / 2) * np.tan((s - a) / 2) * np.tan((s - b) / 2) * np.tan((s - c) / 2)
    return float(4 * np.arctan(np.sqrt(max(t, 0.0))))


def test_area_of_circles_and_polygons(cur: Any) -> None:
    sqdeg = (180 / np.pi) ** 2
    for r in (1 / 3600, 0.5, 30.0, 90.0, 150.0):
        want = 4 * np.pi * np.sin(np.radians(r) / 2) ** 2 * sqdeg  # = 2 pi (1 - cos r), accurately
        assert scalar(cur, "SELECT vo_adql.area(ARRAY[12.0, -30.0, %s])", r) == pytest.approx(
            want, rel=1e-9
        )
    assert scalar(cur, "SELECT vo_adql.area(ARRAY[1.0, 2.0])") == 0
    octant = 4 * np.pi / 8 * sqdeg
    assert scalar(cur, "SELECT vo_adql.area(ARRAY[0, 0, 90, 0, 0, 90]::float8[])") == pytest.approx(
        octant
    )
    assert scalar(cur, "SELECT vo_adql.area(ARRAY[0, 90, 90, 0, 0, 0]::float8[])") == pytest.approx(
        octant
    )
    # star-shaped polygons (concave too): the sum of their fan triangles about the centre
    rng = np.random.default_rng(5)
    for ra0, dec0 in CENTRES:
        f = frame(ra0, dec0)
        for size in (1e-3, 1.0, 40.0):
            x, y = star_polygon(rng, size, 7)
            vra, vdec = to_sky(f, x, y)
            want = (
                sum(
                    lhuilier(
                        np.array([ra0, vra[i], vra[(i + 1) % 7]]),
                        np.array([dec0, vdec[i], vdec[(i + 1) % 7]]),
                    )
                    for i in range(7)
                )
                * sqdeg
            )
            got = scalar(cur, "SELECT vo_adql.area(%s::float8[])", as_polygon(vra, vdec))
            assert got == pytest.approx(want, rel=1e-6)


def test_centroid(cur: Any) -> None:
    assert scalar(cur, "SELECT vo_adql.centroid(ARRAY[10.0, 20.0, 3.0])") == [10.0, 20.0]
    for ra0, dec0 in CENTRES:
        f = frame(ra0, dec0)
        ang = np.linspace(0, 2 * np.pi, 6, endpoint=False)
        t = np.tan(np.radians(7.0))
        poly = as_polygon(*to_sky(f, t * np.cos(ang), t * np.sin(ang)))
        ra, dec = scalar(cur, "SELECT vo_adql.centroid(%s::float8[])", poly)
        sep = SkyCoord(ra * u.deg, dec * u.deg).separation(SkyCoord(ra0 * u.deg, dec0 * u.deg)).deg
        assert sep < 1e-9
        # an L-shaped polygon's centroid is pulled towards the heavier arm
        assert 0 <= ra < 360


def test_box_sides_are_great_circles(cur: Any) -> None:
    for ra0, dec0, w, h in [
        (0.0, 0.0, 2.0, 1.0),
        (359.0, 60.0, 10.0, 4.0),
        (100.0, 90.0, 3.0, 3.0),
        (200.0, -85.0, 20.0, 6.0),
    ]:
        poly = scalar(cur, "SELECT vo_adql.box(%s, %s, %s, %s)", ra0, dec0, w, h)
        assert len(poly) == 8
        v = np.stack(vh.unit_vectors(poly[0::2], poly[1::2]), axis=1)
        c, e, n = frame(ra0, dec0)
        for i, (half, direction) in enumerate([(h, -n), (w, e), (h, n), (w, -e)]):
            pole = np.cross(v[i], v[(i + 1) % 4])
            pole /= np.linalg.norm(pole)
            mid = np.cos(np.radians(half / 2)) * c + np.sin(np.radians(half / 2)) * direction
            assert abs(mid @ pole) < 1e-12  # the side passes through the mid-point of its arm
            assert (
                abs(np.degrees(np.arcsin(abs(c @ pole))) - half / 2) < 1e-9
            )  # nearest there: at right angles
        assert (
            scalar(cur, "SELECT vo_adql.contains(ARRAY[%s, %s], %s::float8[])", ra0, dec0, poly)
            == 1
        )
        assert scalar(cur, "SELECT vo_adql.centroid(%s::float8[])", poly) == pytest.approx(
            [
                ra0 % 360
                if dec0 < 90
                else scalar(cur, "SELECT vo_adql.centroid(%s::float8[])", poly)[0],
                dec0,
            ],
            abs=1e-9,
        )


def test_bad_geometry_is_a_clear_error(cur: Any) -> None:
    for bad in (
        "ARRAY[1.0, 2.0, 3.0, 4.0]",
        "ARRAY[1.0, 2.0, -1.0]",
        "ARRAY[0, 0, 1, 95, 2, 0]::float8[]",
    ):
        with pytest.raises(psycopg2.Error) as err:
            cur.execute(f"SELECT vo_adql.area({bad})")
        assert "vo_adql:" in str(err.value)
    cur.connection.rollback()


# ---------------------------------------------------------------- HEALPix


def test_healpix_index_equals_healpy_for_every_order(cur: Any) -> None:
    rng = np.random.default_rng(9)
    ra, dec = random_sky(rng, 400)
    ras = [0.0, 1e-12, 45.0, 90.0, 135.0, 180.0, 270.0, 359.999999999, 360.0]
    decs = [-90.0, -89.99999999, -FACE_DEC, -1e-11, 0.0, 30.0, FACE_DEC, 89.9999, 90.0]
    gra, gdec = np.meshgrid(ras, decs)
    ra = np.concatenate([ra, gra.ravel()])
    dec = np.concatenate([dec, gdec.ravel()])
    for order in range(30):
        got = np.array(
            column(cur, f"vo_adql.healpix_index({order}, a, b)", a=ra, b=dec), dtype=np.int64
        )
        want = hp.ang2pix(1 << order, ra, dec, nest=True, lonlat=True)
        assert np.array_equal(got, want), (order, ra[got != want], dec[got != want])
    assert np.array_equal(got, vh.pixel_index(ra, dec))


def test_healpix_center_equals_healpy(cur: Any) -> None:
    rng = np.random.default_rng(10)
    for order in range(30):
        npix = 12 * 4**order
        idx = np.unique(
            np.concatenate([rng.integers(0, npix, 60), [0, npix - 1, npix // 2, 4**order]])
        )
        cur.execute(
            f"SELECT vo_adql.healpix_center({order}, i) FROM unnest(%s::bigint[]) AS t(i)",
            ([int(i) for i in idx],),
        )
        got = np.array([r[0] for r in cur.fetchall()])
        lon, lat = hp.pix2ang(1 << order, idx, nest=True, lonlat=True)
        sep = (
            SkyCoord(got[:, 0] * u.deg, got[:, 1] * u.deg)
            .separation(SkyCoord(lon * u.deg, lat * u.deg))
            .deg
        )
        assert np.all(sep < 1e-10), order
        # the centre lies in its own pixel
        back = column(cur, f"vo_adql.healpix_index({order}, a, b)", a=got[:, 0], b=got[:, 1])
        assert back == [int(i) for i in idx]


# ---------------------------------------------------------------- RegTAP UDFs


def test_regtap_udfs(cur: Any) -> None:
    def q(sql: str, *args: Any) -> Any:
        return scalar(cur, "SELECT " + sql, *args)

    assert q("vo_adql.ivo_hasword('Spiral galaxies of the Local Group', 'galaxy')") == 1  # stemming
    assert q("vo_adql.ivo_hasword('Spiral galaxies', 'SPIRAL')") == 1
    assert q("vo_adql.ivo_hasword('a quasar-host survey', 'quasar')") == 1
    assert q("vo_adql.ivo_hasword('quasars', 'sar')") == 0
    assert q("vo_adql.ivo_hasword('the a b', 'the')") == 1  # stop word, matched as a plain word
    assert q("vo_adql.ivo_hasword('x (y) z', '(y)')") == 1  # regex characters are literal
    assert q("vo_adql.ivo_hasword(NULL, 'x')") == 0
    assert q("vo_adql.ivo_hashlist_has('radio#Infrared#x-ray', 'infrared')") == 1
    assert q("vo_adql.ivo_hashlist_has('radio#infrared', 'infra')") == 0
    assert q("vo_adql.ivo_nocasematch('ivo://CDS.vizier/I/239', 'ivo://cds.vizier/%%')") == 1
    assert q("vo_adql.ivo_nocasematch('abc', 'a_')") == 0
    assert q("vo_adql.ivo_interval_overlaps(1, 2, 2, 3)") == 1
    assert q("vo_adql.ivo_interval_overlaps(1, 2, 2.5, 3)") == 0
    assert q("vo_adql.ivo_interval_overlaps(55000, 56000, 55409, 55440)") == 1


# ---------------------------------------------------------------- the contract's fast path


@pytest.fixture(scope="module")
def catalogue(cur: Any) -> tuple[np.ndarray, np.ndarray]:
    """50,000 random rows, half of them clustered near the pole, RA 0 and a face corner."""
    rng = np.random.default_rng(77)
    ra, dec = random_sky(rng, 25_000)
    ra2 = np.concatenate(
        [rng.uniform(0, 360, 8000), rng.normal(0, 0.5, 9000) % 360, rng.normal(45, 1, 8000)]
    )
    dec2 = np.concatenate(
        [rng.uniform(88, 90, 8000), rng.normal(0, 0.5, 9000), rng.normal(FACE_DEC, 1, 8000)]
    )
    ra, dec = np.concatenate([ra, ra2]), np.clip(np.concatenate([dec, dec2]), -90, 90)
    hpx = vh.pixel_index(ra, dec)
    cx, cy, cz = vh.unit_vectors(ra, dec)
    cur.execute(
        "CREATE TABLE cat (id int, ra float8, dec float8, hpx bigint,"
        " cx float8, cy float8, cz float8)"
    )
    cur.execute(
        "INSERT INTO cat SELECT * FROM unnest(%s::int[], %s::float8[], %s::float8[], %s::bigint[],"
        " %s::float8[], %s::float8[], %s::float8[]) ORDER BY 4",
        (
            list(range(len(ra))),
            ra.tolist(),
            dec.tolist(),
            hpx.tolist(),
            cx.tolist(),
            cy.tolist(),
            cz.tolist(),
        ),
    )
    cur.execute("CREATE INDEX ON cat (hpx); ANALYZE cat")
    return ra, dec


def ranges_sql(ranges: tuple[tuple[int, int], ...]) -> str:
    return " OR ".join(f"hpx BETWEEN {lo} AND {hi}" for lo, hi in ranges) or "false"


def ids(cur: Any, sql: str) -> set[int]:
    cur.execute(sql)
    return {r[0] for r in cur.fetchall()}


REGIONS = [
    (0.0, 89.5, 0.7),
    (0.1, 0.0, 0.3),
    (359.9, 0.2, 0.01),
    (45.0, FACE_DEC, 1.5),
    (200.0, -30.0, 12.0),
    (45.0, FACE_DEC, 2 / 60),
]


@pytest.mark.parametrize(("ra0", "dec0", "r"), REGIONS)
@pytest.mark.parametrize("rows", [0.0, 1e9])
def test_fast_path_cone_equals_exact(
    cur: Any, catalogue: Any, ra0: float, dec0: float, r: float, rows: float
) -> None:
    cov = vh.cone_coverage(ra0, dec0, r, expected_rows=rows)
    x0, y0, z0 = vh.unit_vector(ra0, dec0)
    # parenthesised: cz--0.5 would start an SQL comment
    chord = (
        f"(cx-({x0!r}))*(cx-({x0!r}))+(cy-({y0!r}))*(cy-({y0!r}))"
        f"+(cz-({z0!r}))*(cz-({z0!r})) <= {vh.chord2(r)!r}"
    )
    fast = ids(
        cur,
        f"SELECT id FROM cat WHERE ({ranges_sql(cov.inner)})"
        f" OR (({ranges_sql(cov.boundary)}) AND {chord})",
    )
    exact = ids(
        cur,
        f"SELECT id FROM cat WHERE vo_adql.contains(ARRAY[ra, dec], ARRAY[{ra0}, {dec0}, {r}]) = 1",
    )
    assert fast == exact and len(exact) > 0


@pytest.mark.parametrize(("ra0", "dec0", "r"), REGIONS)
def test_fast_path_polygon_equals_exact(
    cur: Any, catalogue: Any, ra0: float, dec0: float, r: float
) -> None:
    rng = np.random.default_rng(int(r * 1000))
    x, y = star_polygon(rng, max(r, 0.05), 7)  # concave as a rule
    poly = as_polygon(*to_sky(frame(ra0, dec0), x, y))
    cov = vh.polygon_coverage(list(zip(poly[0::2], poly[1::2], strict=True)), expected_rows=1e9)
    test = f"vo_adql.contains(ARRAY[ra, dec], ARRAY{poly}::float8[]) = 1"
    fast = ids(
        cur,
        f"SELECT id FROM cat WHERE ({ranges_sql(cov.inner)})"
        f" OR (({ranges_sql(cov.boundary)}) AND {test})",
    )
    exact = ids(cur, f"SELECT id FROM cat WHERE {test}")
    assert fast == exact and len(exact) > 0
    # the inline exact test on cx, cy, cz (SphericalPolygon.winding_test) gives the same rows
    w = vh.SphericalPolygon(list(zip(poly[0::2], poly[1::2], strict=True))).winding_test()
    terms = " + ".join(
        f"atan2(-(({nx!r})*cx + ({ny!r})*cy + ({nz!r})*cz),"
        f" (({ax!r})-cx)*(({bx!r})-cx) + (({ay!r})-cy)*(({by!r})-cy) + (({az!r})-cz)*(({bz!r})-cz))"
        for nx, ny, nz, ax, ay, az, bx, by, bz in w.edges
    )
    inline = f"round(({w.left_area!r} - 2 * ({terms})) / {4 * np.pi!r}) = {w.inside_value}"
    assert ids(cur, f"SELECT id FROM cat WHERE {inline}") == exact
