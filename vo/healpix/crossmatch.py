"""Neighbour ranges for crossmatching a list of positions against a positional table.

DESIGN.md, HEALPix step 5: per position, its pixel at order 13 (side ~25.8 arcsec) plus
only those of its 8 neighbours it lies within 2.5 r of. The uploaded (id, ra, dec, lo, hi)
rows, sorted by ``lo``, join the table with ``hpx BETWEEN lo AND hi`` plus the exact chord
test. Larger radii use a coarser order so that a match is never more than one pixel away.
"""

from __future__ import annotations

import math

import healpy as hp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from vo.healpix.coverage import ORDER_MAX, PIXEL_SIZE_DEG_ORDER0, cone_coverage, pixel_ranges
from vo.healpix.pixels import compact_bits, pixel_index
from vo.healpix.sphere import GeometryError

CROSSMATCH_ORDER = 13
NEIGHBOUR_MARGIN = 2.5  # a neighbour counts when the position is within 2.5 r of its side
MIN_NEIGHBOUR_ORDER = 2  # below this, radii are large enough for a per-position cone coverage
# healpy.get_all_neighbours order SW, W, NW, N, NE, E, SE, S as steps in the pixel's (x, y)
NEIGHBOUR_DX = np.array([-1, -1, 0, 1, 1, 1, 0, -1])
NEIGHBOUR_DY = np.array([0, 1, 1, 1, 0, -1, -1, -1])

IntArray = NDArray[np.int64]


def crossmatch_order(radius_deg: float) -> int:
    """Order 13, or the finest coarser order whose pixel side is at least 2.5 r."""
    if radius_deg <= 0.0:
        return CROSSMATCH_ORDER
    k = math.floor(math.log2(PIXEL_SIZE_DEG_ORDER0 / (NEIGHBOUR_MARGIN * radius_deg)))
    return min(k, CROSSMATCH_ORDER)


def crossmatch_ranges(
    ra: ArrayLike, dec: ArrayLike, radius_deg: float
) -> tuple[IntArray, IntArray, IntArray]:
    """(row_index, lo, hi): the order-29 ranges where matches within ``radius_deg`` can lie.

    Every table row within the radius of position i has ``lo <= hpx <= hi`` for one of the
    returned triples with row_index i. Sorted by ``lo``. NaN positions get no ranges.
    """
    ra_a = np.asarray(ra, dtype=np.float64).ravel()
    dec_a = np.asarray(dec, dtype=np.float64).ravel()
    if not math.isfinite(radius_deg) or radius_deg < 0.0:
        raise GeometryError(f"a crossmatch radius must be a finite angle >= 0, got {radius_deg}")
    order = crossmatch_order(radius_deg)
    if order < MIN_NEIGHBOUR_ORDER:
        return _per_position(ra_a, dec_a, radius_deg)
    hpx = pixel_index(ra_a, dec_a)
    known = np.flatnonzero(hpx >= 0)  # NaN (NULL) positions match nothing
    if len(known) < len(hpx):
        sub_rows, sub_lo, sub_hi = crossmatch_ranges(ra_a[known], dec_a[known], radius_deg)
        return known[sub_rows], sub_lo, sub_hi
    shift = 2 * (ORDER_MAX - order)
    own = hpx >> shift
    sub = hpx & ((np.int64(1) << shift) - 1)
    scale = float(1 << (ORDER_MAX - order))
    fx = (compact_bits(sub) + 0.5) / scale  # position inside the pixel, 0..1 along x and y
    fy = (compact_bits(sub >> 1) + 0.5) / scale
    side = math.radians(PIXEL_SIZE_DEG_ORDER0) / (1 << order)
    t = NEIGHBOUR_MARGIN * math.radians(radius_deg) / side
    neighbours = hp.get_all_neighbours(1 << order, own, nest=True)  # (8, N)
    rows = [np.arange(len(hpx), dtype=np.int64)]
    pixels = [own]
    for j in range(8):
        gx = _gap(fx, int(NEIGHBOUR_DX[j]))
        gy = _gap(fy, int(NEIGHBOUR_DY[j]))
        near = (gx <= t) & (gy <= t) & (neighbours[j] >= 0)
        idx = np.flatnonzero(near)
        rows.append(idx.astype(np.int64))
        pixels.append(neighbours[j][idx].astype(np.int64))
    row_index = np.concatenate(rows)
    pix = np.concatenate(pixels)
    lo = pix << shift
    hi = ((pix + 1) << shift) - 1
    order_by_lo = np.argsort(lo, kind="stable")
    return row_index[order_by_lo], lo[order_by_lo], hi[order_by_lo]


def _gap(f: NDArray[np.floating], step: int) -> NDArray[np.floating]:
    """Distance, in pixel sides, from the position to the pixel's side in direction ``step``."""
    if step < 0:
        return f
    if step > 0:
        return 1.0 - f
    return np.zeros_like(f)


def _per_position(
    ra: NDArray[np.float64], dec: NDArray[np.float64], radius_deg: float
) -> tuple[IntArray, IntArray, IntArray]:
    """Radii of several degrees: each position's own small-cone coverage (rare, slower)."""
    rows: list[int] = []
    lo: list[int] = []
    hi: list[int] = []
    for i, (a, d) in enumerate(zip(ra.tolist(), dec.tolist(), strict=True)):
        for r_lo, r_hi in cone_coverage(a, d, radius_deg, expected_rows=0).boundary:
            rows.append(i)
            lo.append(r_lo)
            hi.append(r_hi)
    out = np.array(rows, dtype=np.int64), np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64)
    order_by_lo = np.argsort(out[1], kind="stable")
    return out[0][order_by_lo], out[1][order_by_lo], out[2][order_by_lo]


__all__ = ["crossmatch_ranges", "crossmatch_order", "pixel_ranges"]
