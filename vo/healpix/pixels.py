"""Order-29 nested HEALPix indices of positions, and density maps.

MOC 2.0 sec. 2: NESTED numbering, orders 0-29.

``hpx`` at order 29 is what positional tables store; a coarser order k is ``hpx >> 2(29-k)``.
Computed with healpy (Gorski et al. 2005), which follows the HEALPix C++ reference code;
``vo_adql.healpix_index`` in SQL repeats the same arithmetic.
"""

from __future__ import annotations

from typing import Any

import healpy as hp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from vo.healpix.sphere import GeometryError

ORDER_MAX = 29
IntArray = NDArray[np.int64]


def pixel_index(ra_deg: ArrayLike, dec_deg: ArrayLike, order: int = ORDER_MAX) -> IntArray:
    """Nested HEALPix index (int64) of each position at ``order`` (default 29), vectorised.

    Same as ``healpy.ang2pix(2**order, ra, dec, nest=True, lonlat=True)``. NaN positions
    (NULL in a table) give -1; a Dec outside [-90, 90] is an error.
    """
    if not 0 <= order <= ORDER_MAX:
        raise GeometryError(f"HEALPix order must be between 0 and {ORDER_MAX}, got {order}")
    ra = np.asarray(ra_deg, dtype=np.float64)
    dec = np.asarray(dec_deg, dtype=np.float64)
    ra, dec = np.broadcast_arrays(ra, dec)
    good = np.isfinite(ra) & np.isfinite(dec)
    if np.any(np.abs(dec[good]) > 90.0):
        raise GeometryError("Dec must lie between -90 and 90 degrees; check the Dec column")
    out = np.full(ra.shape, -1, dtype=np.int64)
    if np.all(good):
        out[...] = hp.ang2pix(1 << order, ra, dec, nest=True, lonlat=True)
    elif np.any(good):
        out[good] = hp.ang2pix(1 << order, ra[good], dec[good], nest=True, lonlat=True)
    return out


def compact_bits(v: IntArray) -> IntArray:
    """Take the even bits of v (x of a nested index) into a contiguous integer."""
    x = np.asarray(v, dtype=np.int64) & 0x5555555555555555
    x = (x | (x >> 1)) & 0x3333333333333333
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FF
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFF
    x = (x | (x >> 16)) & 0x00000000FFFFFFFF
    return x


def density_map(hpx: ArrayLike, order: int) -> IntArray:
    """Row counts per nested pixel at ``order`` from order-29 indices (negative ones ignored)."""
    if not 0 <= order <= ORDER_MAX:
        raise GeometryError(f"HEALPix order must be between 0 and {ORDER_MAX}, got {order}")
    h = np.asarray(hpx, dtype=np.int64).ravel()
    h = h[h >= 0]
    return np.bincount(h >> (2 * (ORDER_MAX - order)), minlength=12 * 4**order).astype(np.int64)


def expected_rows(
    density: ArrayLike, density_order: int, ranges: tuple[tuple[int, int], ...]
) -> float:
    """Rows a set of order-29 ranges is expected to hold, from a density map (for planning).

    Each density pixel contributes its count times the fraction of it the ranges cover.
    """
    # Index the map as it is (a tuple in Position): converting a 196k-entry map to numpy
    # cost ~0.4 ms a query, and only a few entries are read.
    dens: Any = density
    shift = 2 * (ORDER_MAX - density_order)
    per_pixel = float(1 << shift)
    total = 0.0
    for lo, hi in ranges:  # plain Python: a coverage has few ranges, numpy calls cost more
        p_lo, p_hi = lo >> shift, hi >> shift
        if p_lo == p_hi:
            total += float(dens[p_lo]) * (hi - lo + 1) / per_pixel
            continue
        total += float(dens[p_lo]) * (((p_lo + 1) << shift) - lo) / per_pixel
        total += float(dens[p_hi]) * (hi - (p_hi << shift) + 1) / per_pixel
        if p_hi > p_lo + 1:
            total += float(sum(dens[p_lo + 1 : p_hi]))
    return total
