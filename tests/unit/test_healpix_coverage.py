"""Cone and polygon coverage are conservative: property tests against exact brute force.

For random cones and random (convex and concave, clockwise and counter-clockwise)
polygons near poles, RA 0/360 and face boundaries: every point inside the region lies in
inner or boundary ranges, and every point in an inner range is inside. The polygon oracle is
independent of vo.healpix.sphere: a gnomonic projection (great circles become straight
lines) and the planar even-odd crossing rule.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import vo.healpix as vh
from vo.healpix.sphere import SphericalPolygon, to_radec

try:  # collected as a package or as rootdir modules
    from .test_healpix import DEC, RA, points_within
except ImportError:
    from test_healpix import DEC, RA, points_within  # type: ignore[no-redef]


def tangent_frame(ra: float, dec: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = np.array(vh.unit_vector(ra, dec))
    a, d = np.radians(ra), np.radians(dec)
    east = np.array([-np.sin(a), np.cos(a), 0.0])
    north = np.array([-np.sin(d) * np.cos(a), -np.sin(d) * np.sin(a), np.cos(d)])
    return c, east, north


def in_ranges(hpx: np.ndarray, ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    if not ranges:
        return np.zeros(len(hpx), dtype=bool)
    r = np.array(ranges, dtype=np.int64)
    i = np.searchsorted(r[:, 0], hpx, side="right") - 1
    return (i >= 0) & (hpx <= r[np.maximum(i, 0), 1])


def check_ranges_well_formed(ranges: tuple[tuple[int, int], ...]) -> None:
    r = np.array(ranges, dtype=np.int64).reshape(-1, 2)
    assert np.all(r[:, 0] <= r[:, 1])
    assert np.all(r[1:, 0] > r[:-1, 1] + 1)  # sorted, disjoint, merged
    assert np.all((r >= 0) & (r < vh.NPIX_MAX))


def check_conservative(cov: vh.Coverage, pts: np.ndarray, inside: np.ndarray) -> None:
    check_ranges_well_formed(cov.inner)
    check_ranges_well_formed(cov.boundary)
    ra, dec = to_radec(pts)
    hpx = vh.pixel_index(ra, dec)
    in_inner = in_ranges(hpx, cov.inner)
    in_boundary = in_ranges(hpx, cov.boundary)
    assert not np.any(in_inner & in_boundary)
    assert np.all(in_inner[inside] | in_boundary[inside]), "a point inside is not covered"
    assert not np.any(in_inner & ~inside), "a point outside lies in an inner range"


@settings(max_examples=200, deadline=None)
@given(
    ra=RA,
    dec=DEC,
    log_r=st.one_of(st.floats(-4.0, 1.9), st.floats(-9.0, -4.0), st.just(-300.0)),
    rows=st.sampled_from([None, 0.0, 1e9]),
    seed=st.integers(0, 2**32 - 1),
)
def test_cone_coverage_is_conservative(
    ra: float, dec: float, log_r: float, rows: float | None, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    r = 10**log_r
    cov = vh.cone_coverage(ra, dec, r, expected_rows=rows)
    pts = np.concatenate(
        [
            points_within(ra, dec, min(r * 1.3, 180.0), 3000, rng),
            points_within(ra, dec, r, 2000, rng),
        ]
    )
    centre = np.array(vh.unit_vector(ra, dec))
    dist = np.degrees(np.arctan2(np.linalg.norm(np.cross(pts, centre), axis=1), pts @ centre))
    check_conservative(cov, pts, dist <= r)
    if rows == 0.0:
        assert cov.inner == () and len(cov.boundary) <= 9
    if rows == 1e9 and r > 0.01:
        assert len(cov.inner) > 0  # large cones do get pixels without the exact test


def test_cone_strategies_range_counts_and_whole_sky() -> None:
    small = vh.cone_coverage(10.0, 20.0, 1 / 60, expected_rows=5)
    assert small.inner == () and 1 <= len(small.boundary) <= 6
    big = vh.cone_coverage(10.0, 20.0, 5.0, expected_rows=1e6)
    inner_px = big.pixel_count(big.inner)
    # the inner part holds most of the disc: boundary pixels are a thin ring
    assert inner_px > 2 * big.pixel_count(big.boundary)
    sky = vh.cone_coverage(0.0, 0.0, 180.0)
    assert sky.inner == ((0, vh.NPIX_MAX - 1),) and sky.boundary == ()


def gnomonic_polygon(
    ra: float,
    dec: float,
    size_deg: float,
    n: int,
    concave: bool,
    clockwise: bool,
    rng: np.random.Generator,
) -> tuple[list[tuple[float, float]], np.ndarray, np.ndarray, np.ndarray]:
    """A star-shaped polygon drawn in the tangent plane at (ra, dec): (vertices, x, y, frame)."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    if np.max(np.diff(np.append(angles, angles[0] + 2 * np.pi))) > 0.9 * np.pi:
        angles = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, 1)
    radius = np.tan(np.radians(size_deg)) * (rng.uniform(0.3, 1.0, n) if concave else np.ones(n))
    x, y = radius * np.cos(angles), radius * np.sin(angles)
    if clockwise:
        x, y = x[::-1], y[::-1]
    c, e, nn = tangent_frame(ra, dec)
    v = c[None, :] + x[:, None] * e[None, :] + y[:, None] * nn[None, :]
    vra, vdec = to_radec(v)
    return list(zip(vra.tolist(), vdec.tolist(), strict=True)), x, y, np.stack([c, e, nn])


def planar_inside(px: np.ndarray, py: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Even-odd crossing rule in the plane."""
    inside = np.zeros(len(px), dtype=bool)
    for i in range(len(x)):
        x1, y1, x2, y2 = x[i], y[i], x[(i + 1) % len(x)], y[(i + 1) % len(x)]
        crosses = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (px < xc)
    return inside


@settings(max_examples=150, deadline=None)
@given(
    ra=RA,
    dec=DEC,
    log_size=st.one_of(st.floats(-3.5, 1.5), st.floats(-7.0, -3.5)),
    n=st.integers(3, 9),
    concave=st.booleans(),
    clockwise=st.booleans(),
    rows=st.sampled_from([None, 0.0, 1e9]),
    seed=st.integers(0, 2**32 - 1),
)
def test_polygon_coverage_and_contains_are_exact(
    ra: float,
    dec: float,
    log_size: float,
    n: int,
    concave: bool,
    clockwise: bool,
    rows: float | None,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    size = 10**log_size
    vertices, x, y, frame = gnomonic_polygon(ra, dec, size, n, concave, clockwise, rng)
    # points: uniform around the polygon plus points a hair off each edge
    m = 4000
    px = rng.uniform(-1.3, 1.3, m) * np.tan(np.radians(size))
    py = rng.uniform(-1.3, 1.3, m) * np.tan(np.radians(size))
    t = rng.uniform(0, 1, 200)
    k = rng.integers(0, len(x), 200)
    ex, ey = x[k] + t * (np.roll(x, -1)[k] - x[k]), y[k] + t * (np.roll(y, -1)[k] - y[k])
    off = np.tan(np.radians(size)) * 1e-7 * rng.choice([-1.0, 1.0], 200)
    px = np.concatenate([px, ex + off, ex - off])
    py = np.concatenate([py, ey + off, ey - off])
    c, e, nn = frame
    pts = c[None, :] + px[:, None] * e[None, :] + py[:, None] * nn[None, :]
    pts /= np.linalg.norm(pts, axis=1)[:, None]
    truth = planar_inside(px, py, x, y)
    poly = SphericalPolygon(vertices)
    # exact test on points clear of the edges (a hair off an edge both answers are fine)
    clear = poly.edge_distance(pts) > max(1e-9 * np.radians(size), 1e-14)
    assert np.array_equal(poly.contains(pts)[clear], truth[clear])
    cov = vh.polygon_coverage(vertices, expected_rows=rows)
    check_conservative(cov, pts[clear], truth[clear])
    if rows == 0.0:
        assert cov.inner == ()


def test_polygon_area_and_orientation() -> None:
    # an octant: 1/8 of the sky whichever way round
    octant = [(0.0, 0.0), (90.0, 0.0), (0.0, 90.0)]
    assert SphericalPolygon(octant).area_sr == np.float64(np.pi / 2).item() or np.isclose(
        SphericalPolygon(octant).area_sr, np.pi / 2
    )
    assert np.isclose(SphericalPolygon(octant[::-1]).area_sr, np.pi / 2)
    # a polygon across RA 0 and around the pole
    cap = [(ra, 80.0) for ra in range(0, 360, 30)]
    poly = SphericalPolygon(cap)
    assert poly.contains(np.array([[0.0, 0.0, 1.0]]))[0]
    assert not poly.contains(np.array([[0.0, 0.0, -1.0]]))[0]
    cov = vh.polygon_coverage(cap)
    assert in_ranges(vh.pixel_index(np.array([123.0]), np.array([90.0])), cov.inner)[0]


def test_polygon_errors_are_actionable() -> None:
    for bad in (
        [(0.0, 0.0), (1.0, 1.0)],
        [(0.0, 0.0), (0.0, 0.0), (1.0, 1.0)],
        [(0, 0), (1, 95), (2, 0)],
    ):
        try:
            vh.polygon_coverage(bad)
        except vh.GeometryError as err:
            assert err.code == "GEOMETRY" and "polygon" in err.message
        else:
            raise AssertionError(f"accepted {bad}")


def test_moc_coverage_matches_mocpy() -> None:
    from mocpy import MOC

    text = "3/1-3 4/100 7/20000-20010"
    cov = vh.moc_coverage(text)
    check_ranges_well_formed(cov.inner)
    assert cov.boundary == ()
    rng = np.random.default_rng(4)
    ra, dec = rng.uniform(0, 360, 50_000), np.degrees(np.arcsin(rng.uniform(-1, 1, 50_000)))
    moc = MOC.from_string(text, format="ascii")
    import astropy.units as u

    want = moc.contains_lonlat(ra * u.deg, dec * u.deg)
    assert want.sum() > 100
    assert np.array_equal(in_ranges(vh.pixel_index(ra, dec), cov.inner), want)
    try:
        vh.moc_coverage("not a moc")
    except vh.GeometryError as err:
        assert "MOC 2.0" in err.message
    else:
        raise AssertionError("accepted a bad MOC")


def test_winding_test_constants_reproduce_contains() -> None:
    rng = np.random.default_rng(8)
    for ra0, dec0 in ((0.0, 0.0), (359.9, 89.9), (45.0, -41.8)):
        vertices, *_ = gnomonic_polygon(ra0, dec0, 3.0, 7, True, bool(rng.integers(2)), rng)
        poly = SphericalPolygon(vertices)
        w = poly.winding_test()
        pts = points_within(ra0, dec0, 4.0, 5000, rng)
        total = np.zeros(len(pts))
        for nx, ny, nz, ax, ay, az, bx, by, bz in w.edges:
            num = -(nx * pts[:, 0] + ny * pts[:, 1] + nz * pts[:, 2])
            den = (
                (ax - pts[:, 0]) * (bx - pts[:, 0])
                + (ay - pts[:, 1]) * (by - pts[:, 1])
                + (az - pts[:, 2]) * (bz - pts[:, 2])
            )
            total += np.arctan2(num, den)
        inline = np.rint((w.left_area - 2 * total) / (4 * np.pi)) == w.inside_value
        clear = poly.edge_distance(pts) > 1e-12
        assert np.array_equal(inline[clear], poly.contains(pts)[clear])
        assert inline.any() and not inline.all()
