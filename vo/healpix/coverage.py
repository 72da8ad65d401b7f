"""Cone and polygon coverage as order-29 HEALPix index ranges, split into inner and boundary parts.

A positional table stores ``hpx`` = nested pixel at order 29 (MOC 2.0 sec. 2: NESTED
numbering, orders 0-29), so a pixel p at order k is the index range
``[p << 2(29-k), ((p+1) << 2(29-k)) - 1]`` and one btree serves every order. A
:class:`Coverage` is conservative: every point of the region lies in ``inner`` or
``boundary``, and every point of ``inner`` truly lies in the region, so an SQL predicate
``hpx in inner OR (hpx in boundary AND exact test)`` returns exactly the rows of the exact
test alone (DESIGN.md, HEALPix steps 3-4).

Cones use healpy's ``query_disc`` (about 40 us per cone); polygons (convex or concave) use a
hierarchical classification of our own: a pixel whose bounding cap meets no edge lies wholly
on one side, decided by its centre.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import healpy as hp
import numpy as np
from mocpy import MOC
from numpy.typing import NDArray

from vo.healpix.sphere import GeometryError, SphericalPolygon, angle_between, unit_vector

ORDER_MAX = 29
NPIX_MAX = 12 * 4**ORDER_MAX
PIXEL_SIZE_DEG_ORDER0 = 58.6323  # sqrt(4 pi / 12) in degrees: the side of an order-0 pixel
SMALL_ROWS = 300.0  # below this many expected rows a cone takes the few-ranges strategy
SMALL_RADIUS_DEG = 0.05  # without a row estimate, cones up to 3 arcmin count as small
# Coverage stops at order 20 (pixels of 0.2 arcsec): healpy's inclusive query_disc misses
# the disc's own pixel at orders >= 25 (measured: 200/200 random cones at order 27), and
# finer ranges would not select fewer rows of any real catalogue.
COVER_ORDER_MAX = 20
PIXRAD_SAFETY = 1.05  # healpy.max_pixrad is the exact corner distance; keep 5% slack
Range = tuple[int, int]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Coverage:
    """Inclusive order-29 ``hpx`` ranges, each tuple merged, sorted and disjoint from the other.

    ``inner`` ranges lie wholly inside the region (no exact test needed); ``boundary``
    ranges need the exact test.
    """

    inner: tuple[Range, ...]
    boundary: tuple[Range, ...]

    @property
    def ranges(self) -> tuple[Range, ...]:
        """Inner and boundary together, merged: every row that may match lies in these."""
        if not self.inner or not self.boundary:
            return self.inner or self.boundary
        return to_tuple(merge_ranges([np.array(self.inner + self.boundary, dtype=np.int64)]))

    def pixel_count(self, ranges: Sequence[Range] | None = None) -> int:
        """Number of order-29 pixels in the given ranges (default: all of the coverage)."""
        rs = self.ranges if ranges is None else ranges
        return sum(hi - lo + 1 for lo, hi in rs)


def pixel_ranges(pix: IntArray, order: int) -> IntArray:
    """Merged order-29 ranges (n, 2) of nested pixels at ``order``."""
    if len(pix) == 0:
        return np.empty((0, 2), dtype=np.int64)
    p = np.unique(np.asarray(pix, dtype=np.int64))
    breaks = np.flatnonzero(np.diff(p) != 1)
    starts = np.concatenate(([p[0]], p[breaks + 1]))
    ends = np.concatenate((p[breaks], [p[-1]]))
    shift = 2 * (ORDER_MAX - order)
    return np.stack((starts << shift, ((ends + 1) << shift) - 1), axis=1)


def pixel_range_tuples(pix: IntArray, order: int) -> tuple[Range, ...]:
    """:func:`pixel_ranges` as plain tuples, in pure Python (faster for a cone's few pixels)."""
    shift = 2 * (ORDER_MAX - order)
    out: list[Range] = []
    start = prev = -2
    for p in sorted(set(np.asarray(pix).tolist())):
        if p != prev + 1:
            if prev >= 0:
                out.append((start << shift, ((prev + 1) << shift) - 1))
            start = p
        prev = p
    if prev >= 0:
        out.append((start << shift, ((prev + 1) << shift) - 1))
    return tuple(out)


def merge_ranges(parts: Iterable[IntArray]) -> IntArray:
    """Sort and merge inclusive ranges that overlap or touch."""
    arrays = [np.asarray(a, dtype=np.int64).reshape(-1, 2) for a in parts]
    r = np.concatenate(arrays) if arrays else np.empty((0, 2), dtype=np.int64)
    if len(r) == 0:
        return r
    r = r[np.argsort(r[:, 0], kind="stable")]
    hi_so_far = np.maximum.accumulate(r[:, 1])
    new = np.ones(len(r), dtype=bool)
    new[1:] = r[1:, 0] > hi_so_far[:-1] + 1
    group = np.cumsum(new) - 1
    lo = r[new, 0]
    hi = np.zeros(len(lo), dtype=np.int64)
    np.maximum.at(hi, group, r[:, 1])
    return np.stack((lo, hi), axis=1)


def subtract_ranges(a: IntArray, b: IntArray) -> IntArray:
    """Ranges of ``a`` minus those of ``b`` (both merged)."""
    out: list[tuple[int, int]] = []
    j = 0
    for lo, hi in a.tolist():
        cur = lo
        while j < len(b) and b[j, 1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k, 0] <= hi:
            if b[k, 0] > cur:
                out.append((cur, int(b[k, 0]) - 1))
            cur = max(cur, int(b[k, 1]) + 1)
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def to_tuple(r: IntArray) -> tuple[Range, ...]:
    """Plain-int tuples for the frozen Coverage."""
    return tuple((int(lo), int(hi)) for lo, hi in r.tolist())


def base_order(radius_deg: float) -> int:
    """k0 = ceil(log2(58.63 deg / r)): the order whose pixels are about the size of the radius."""
    if radius_deg <= 0.0:
        return ORDER_MAX
    k0 = math.ceil(math.log2(PIXEL_SIZE_DEG_ORDER0 / radius_deg))
    return min(max(k0, 0), ORDER_MAX)


def is_small(radius_deg: float, expected_rows: float | None) -> bool:
    """Whether a region of this equivalent radius takes the few-ranges, all-boundary strategy."""
    if expected_rows is not None:
        return expected_rows < SMALL_ROWS
    return radius_deg <= SMALL_RADIUS_DEG


def _check_position(ra: float, dec: float) -> None:
    if not (math.isfinite(ra) and math.isfinite(dec)) or abs(dec) > 90.0:
        raise GeometryError(f"position ({ra}, {dec}) needs finite RA and -90 <= Dec <= 90 degrees")


def cone_coverage(
    ra: float, dec: float, radius_deg: float, *, expected_rows: float | None = None
) -> Coverage:
    """Coverage of the cone of ``radius_deg`` around (ra, dec) (ADQL 2.1 sec. 4.2.2 CIRCLE).

    Small cones: disc covered at order k0-1, everything in ``boundary`` (<= ~6 ranges).
    Large cones: order k0+3, pixels whose bounding cap lies in the disc go to ``inner``.
    """
    _check_position(ra, dec)
    if not math.isfinite(radius_deg) or radius_deg < 0.0:
        raise GeometryError(f"a cone radius must be a finite angle >= 0 degrees, got {radius_deg}")
    if radius_deg >= 180.0:
        return Coverage(inner=((0, NPIX_MAX - 1),), boundary=())
    vec = unit_vector(ra, dec)
    r = math.radians(radius_deg)
    k0 = base_order(radius_deg)
    if is_small(radius_deg, expected_rows):
        k = min(max(k0 - 1, 0), COVER_ORDER_MAX)
        pix = hp.query_disc(1 << k, vec, r, inclusive=True, nest=True)
        pix = np.append(pix, hp.vec2pix(1 << k, *vec, nest=True))  # belt and braces for r ~ 0
        return Coverage(inner=(), boundary=pixel_range_tuples(pix, k))
    k = min(k0 + 3, COVER_ORDER_MAX)
    nside = 1 << k
    every = np.union1d(
        hp.query_disc(nside, vec, r, inclusive=True, nest=True),
        [hp.vec2pix(nside, *vec, nest=True)],
    )
    r_in = r - PIXRAD_SAFETY * hp.max_pixrad(nside) - 1e-12
    inner = np.empty(0, dtype=np.int64)
    if r_in > 0.0:
        inner = hp.query_disc(nside, vec, r_in, inclusive=False, nest=True)
    boundary = np.setdiff1d(every, inner, assume_unique=True)
    return Coverage(inner=pixel_range_tuples(inner, k), boundary=pixel_range_tuples(boundary, k))


def _target_order(perimeter_rad: float, small: bool) -> int:
    """Order whose pixel side is perimeter/pi (small: ~4 pixels) or perimeter/50 (large)."""
    per_side = math.pi if small else 50.0
    size0 = math.radians(PIXEL_SIZE_DEG_ORDER0)
    if perimeter_rad <= 0.0:
        return COVER_ORDER_MAX
    k = math.ceil(math.log2(size0 * per_side / perimeter_rad))
    return min(max(k, 0), COVER_ORDER_MAX)


def region_pixels(polygon: SphericalPolygon, target: int) -> tuple[IntArray, IntArray]:
    """Classify pixels hierarchically down to ``target``: (inner ranges, boundary ranges).

    A pixel's points all lie within max_pixrad of its centre, so when no edge comes that
    close the whole pixel is on the side of its centre; otherwise it is refined, and at
    ``target`` it is a boundary pixel.
    """
    inner_parts: list[IntArray] = []
    order, pix = _start_pixels(polygon, target)
    while True:
        nside = 1 << order
        centres = np.stack(hp.pix2vec(nside, pix, nest=True), axis=-1)
        rho = PIXRAD_SAFETY * hp.max_pixrad(nside) + 1e-12
        clear = polygon.edge_distance(centres) > rho
        if np.any(clear):
            inside = polygon.contains(centres[clear])
            inner_parts.append(pixel_ranges(pix[clear][inside], order))
        crossing = pix[~clear]
        if order >= target or len(crossing) == 0:
            return merge_ranges(inner_parts), pixel_ranges(crossing, order)
        pix = (crossing[:, None] * 4 + np.arange(4, dtype=np.int64)).ravel()
        order += 1


def _start_pixels(polygon: SphericalPolygon, target: int) -> tuple[int, IntArray]:
    """Where the refinement starts: the pixels meeting the vertices' bounding cap, if it is
    smaller than a hemisphere (then it holds the whole interior: the interior is the smaller
    region and the cap is convex), at the order of the cap's size; else the 12 base pixels."""
    centre = polygon.v.sum(axis=0)
    norm = float(np.linalg.norm(centre))
    if norm > 1e-9:
        centre = centre / norm
        radius = float(np.max(angle_between(polygon.v, centre[None, :]))) * (1 + 1e-9) + 1e-12
        if radius < math.pi / 2:
            k = min(max(base_order(math.degrees(radius)) - 1, 0), target)
            pix = hp.query_disc(1 << k, centre, radius, inclusive=True, nest=True)
            return k, np.union1d(pix, [hp.vec2pix(1 << k, *centre, nest=True)]).astype(np.int64)
    return 0, np.arange(12, dtype=np.int64)


def polygon_coverage(
    vertices: Sequence[tuple[float, float]], *, expected_rows: float | None = None
) -> Coverage:
    """Coverage of a polygon with great-circle edges, convex or concave (ADQL 2.1 sec. 4.2.15).

    The interior is the smaller region the edges bound (see :mod:`vo.healpix.sphere`).
    Small polygons (few expected rows) get everything in ``boundary`` at a coarse order.
    """
    polygon = SphericalPolygon(vertices)
    radius_eq = math.degrees(math.sqrt(polygon.area_sr / math.pi))
    small = is_small(radius_eq, expected_rows)
    inner, boundary = region_pixels(polygon, _target_order(polygon.perimeter(), small))
    if small:
        return Coverage(inner=(), boundary=to_tuple(merge_ranges([inner, boundary])))
    return Coverage(inner=to_tuple(inner), boundary=to_tuple(boundary))


def moc_coverage(moc: str | MOC) -> Coverage:
    """Coverage of a MOC (MOC 2.0 sec. 3 ASCII serialisation, or a mocpy MOC): all inner.

    A MOC's cells are exact HEALPix cells, so no exact test is needed for any row.
    """
    if isinstance(moc, str):
        try:
            moc = MOC.from_string(moc, format="ascii")
        except Exception as err:  # mocpy raises several types for bad text
            raise GeometryError(
                f"not a MOC in the MOC 2.0 ASCII form (e.g. '3/1-3 4/100'): {moc[:60]!r}"
            ) from err
    r = np.asarray(moc.to_depth29_ranges, dtype=np.int64).reshape(-1, 2)
    r = np.stack((r[:, 0], r[:, 1] - 1), axis=1)  # half-open -> inclusive
    return Coverage(inner=to_tuple(merge_ranges([r])), boundary=())
