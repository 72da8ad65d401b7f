"""vo.healpix pixel indices, unit vectors, chord test, density maps and crossmatch ranges.

Pixel indices are checked against cdshealpix (an independent implementation, CDS Rust);
distances against astropy; crossmatch ranges against brute force near poles, RA 0/360
and HEALPix face corners.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Latitude, Longitude, SkyCoord
from cdshealpix import nested as cds
from hypothesis import given, settings
from hypothesis import strategies as st

import vo.healpix as vh

FACE_DEC = float(
    np.degrees(np.arcsin(2.0 / 3.0))
)  # latitude where polar and equatorial regions meet


def edge_positions() -> tuple[np.ndarray, np.ndarray]:
    """Poles, RA 0/360, face corners and boundaries, and points a hair off them."""
    ras = [0.0, 1e-12, 359.999999999, 360.0 - 1e-13, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0]
    decs = [
        -90.0,
        -89.9999999,
        -FACE_DEC,
        -45.0,
        -1e-10,
        0.0,
        1e-10,
        30.0,
        FACE_DEC,
        89.9999999,
        90.0,
    ]
    ra, dec = np.meshgrid(ras, decs)
    return ra.ravel(), dec.ravel()


def cds_index(ra: np.ndarray, dec: np.ndarray, order: int = 29) -> np.ndarray:
    lon = Longitude(np.asarray(ra) % 360.0, u.deg)
    return np.asarray(cds.lonlat_to_healpix(lon, Latitude(dec, u.deg), order), dtype=np.int64)


def test_pixel_index_matches_cdshealpix_on_random_positions() -> None:
    rng = np.random.default_rng(7)
    ra = rng.uniform(0.0, 360.0, 200_000)
    dec = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, 200_000)))
    ours = vh.pixel_index(ra, dec)
    assert ours.dtype == np.int64
    assert np.array_equal(ours, cds_index(ra, dec))
    for order in (0, 5, 12, 20):
        assert np.array_equal(vh.pixel_index(ra, dec, order), ours >> (2 * (29 - order)))


def test_pixel_index_on_edges_agrees_or_is_a_touching_neighbour() -> None:
    ra, dec = edge_positions()
    ours = vh.pixel_index(ra, dec)
    theirs = cds_index(ra, dec)
    differ = np.flatnonzero(ours != theirs)
    # exactly on a pixel boundary the two libraries may round to either side: the pixels touch
    for i in differ:
        neighbours = cds.neighbours(np.array([theirs[i]]), 29)[0]
        assert ours[i] in neighbours, (ra[i], dec[i])
    assert len(differ) <= len(ra) // 4
    # RA 360 and RA 0 are the same meridian
    assert vh.pixel_index(360.0, 12.5) == vh.pixel_index(0.0, 12.5)


def test_pixel_index_nan_and_bad_dec() -> None:
    out = vh.pixel_index([10.0, np.nan, 20.0], [5.0, 5.0, np.nan])
    assert out[0] >= 0 and out[1] == -1 and out[2] == -1
    with pytest.raises(vh.GeometryError) as err:
        vh.pixel_index([10.0], [90.5])
    assert err.value.code == "GEOMETRY"


def test_unit_vectors_and_chord2_agree_with_astropy_separation() -> None:
    rng = np.random.default_rng(3)
    ra1, dec1 = rng.uniform(0, 360, 5000), rng.uniform(-90, 90, 5000)
    ra2 = ra1 + rng.normal(0, 1, 5000) * 10 ** rng.uniform(-6, 1, 5000)
    dec2 = np.clip(dec1 + rng.normal(0, 1, 5000) * 10 ** rng.uniform(-6, 1, 5000), -90, 90)
    sep = SkyCoord(ra1 * u.deg, dec1 * u.deg).separation(SkyCoord(ra2 * u.deg, dec2 * u.deg)).deg
    v1 = np.stack(vh.unit_vectors(ra1, dec1), axis=1)
    v2 = np.stack(vh.unit_vectors(ra2, dec2), axis=1)
    assert np.allclose(np.linalg.norm(v1, axis=1), 1.0)
    d2 = np.sum((v1 - v2) ** 2, axis=1)
    for r in (1 / 3600, 0.01, 0.5, 3.0):
        clear = np.abs(sep - r) > 1e-9 * max(r, 1e-3)
        inside = np.array([d2[i] <= vh.chord2(r) for i in range(len(d2))])
        assert np.array_equal(inside[clear], (sep <= r)[clear])
    assert vh.chord2(180.0) == 4.0 and vh.chord2(90.0) == pytest.approx(2.0)
    assert vh.unit_vector(0.0, 90.0)[2] == 1.0


def test_density_map_counts_rows_per_pixel() -> None:
    rng = np.random.default_rng(5)
    ra, dec = rng.uniform(0, 360, 10_000), rng.uniform(-90, 90, 10_000)
    hpx = vh.pixel_index(ra, dec)
    dens = vh.density_map(np.append(hpx, -1), 3)
    assert dens.shape == (768,) and dens.sum() == 10_000
    assert np.array_equal(dens, np.bincount(cds_index(ra, dec, 3), minlength=768))
    # a density map predicts the rows of a coverage
    cov = vh.cone_coverage(40.0, 10.0, 20.0)
    est = vh.expected_rows(dens, 3, cov.ranges)
    true = sum(int(np.sum((hpx >= lo) & (hpx <= hi))) for lo, hi in cov.ranges)
    assert abs(est - true) < 0.2 * true


def points_within(
    ra: float, dec: float, r_deg: float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """n unit vectors uniform in the cap of radius r around (ra, dec), half of them near its rim."""
    centre = np.array(vh.unit_vector(ra, dec))
    helper = np.array([1.0, 0.0, 0.0]) if abs(centre[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = np.cross(centre, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(centre, e1)
    r = np.radians(r_deg)
    cos_d = 1 - rng.uniform(0, 1, n) * (1 - np.cos(r))
    d = np.arccos(cos_d)
    d[: n // 2] = r * (1 - 1e-9 * rng.uniform(0, 1, n // 2))
    phi = rng.uniform(0, 2 * np.pi, n)
    return np.cos(d)[:, None] * centre + np.sin(d)[:, None] * (
        np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2
    )


SPECIAL_RA = st.sampled_from([0.0, 1e-9, 359.9999999, 45.0, 90.0, 135.0, 180.0, 315.0])
SPECIAL_DEC = st.sampled_from([-90.0, -89.99999, -FACE_DEC, 0.0, FACE_DEC, 89.99999, 90.0])
RA = st.one_of(st.floats(0.0, 360.0), SPECIAL_RA)
DEC = st.one_of(st.floats(-90.0, 90.0), SPECIAL_DEC)


@settings(max_examples=150, deadline=None)
@given(ra=RA, dec=DEC, log_r=st.floats(-5.0, 1.3), seed=st.integers(0, 2**32 - 1))
def test_crossmatch_ranges_hold_every_match(ra: float, dec: float, log_r: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = 10**log_r
    # several positions near the drawn one, so that positions sit anywhere inside their pixels
    near = points_within(ra, dec, min(r * 3, 1.0), 20, rng)
    pra, pdec = vh.sphere.to_radec(near)
    rows, lo, hi = vh.crossmatch_ranges(pra, pdec, r)
    assert np.all(np.diff(lo) >= 0)
    for i in range(len(pra)):
        mine = rows == i
        assert mine.sum() >= 1
        matches = points_within(float(pra[i]), float(pdec[i]), r, 200, rng)
        mra, mdec = vh.sphere.to_radec(matches)
        hpx = vh.pixel_index(mra, mdec)
        found = np.any(
            (hpx[:, None] >= lo[mine][None, :]) & (hpx[:, None] <= hi[mine][None, :]), axis=1
        )
        assert found.all(), (pra[i], pdec[i], r)


def test_crossmatch_uses_few_neighbours_for_small_radii() -> None:
    rng = np.random.default_rng(11)
    ra, dec = rng.uniform(0, 360, 100_000), np.degrees(np.arcsin(rng.uniform(-1, 1, 100_000)))
    rows, lo, hi = vh.crossmatch_ranges(ra, dec, 1 / 3600)
    assert vh.crossmatch_order(1 / 3600) == 13
    assert np.all(hi - lo + 1 == 4**16)
    # 1 arcsec on a 25.8 arcsec pixel: about 1 + 4 * 2.5/25.8 ranges per position
    assert 1.0 < len(rows) / len(ra) < 1.6
    assert np.array_equal(np.bincount(rows, minlength=len(ra)) >= 1, np.ones(len(ra), dtype=bool))


def test_crossmatch_skips_nan_positions() -> None:
    rows, lo, hi = vh.crossmatch_ranges([10.0, np.nan, 20.0], [5.0, 5.0, 6.0], 1 / 3600)
    assert set(rows.tolist()) == {0, 2}
    assert np.all(lo >= 0) and np.all(hi >= lo)
    own = vh.pixel_index([10.0, 20.0], [5.0, 6.0])
    for i, h in zip((0, 2), own.tolist(), strict=True):
        assert np.any((rows == i) & (lo <= h) & (hi >= h))
