"""Exact spherical geometry on unit vectors: cones, great-circle arcs, polygons (L1, numpy only).

These are the reference semantics the SQL functions in ``vo/db/sql/vo_adql.sql`` implement
row by row, and the tests the HEALPix coverage uses to classify pixels. Conventions
(ADQL 2.1 sec. 4.2; DALI 1.1 sec. 3.3.5-3.3.7 for the value forms):

- positions are ICRS-like (ra, dec) in degrees; a vector is (cos d cos a, cos d sin a, sin d);
- polygon edges are the minor great-circle arcs between consecutive vertices (the last
  vertex joins the first);
- a polygon's interior is the smaller of the two regions its edges bound (area <= 2 pi sr),
  whichever way the vertices turn, so clockwise and counter-clockwise lists mean the same
  region; concave polygons are fine, self-intersecting ones are not defined.

The point-in-polygon rule: with L the region to the left of the edges, A_L its area and
Delta(a, b, c) the signed area of the spherical triangle (Van Oosterom & Strackee 1983),
``sum_i Delta(-p, v_i, v_i+1) = A_L - 4 pi [p in L]``; written with b = v_i - p and
c = v_i+1 - p the terms are ``2 atan2(-p . (b x c), b . c)``, free of cancellation for tiny
polygons. The sum is a multiple of 4 pi away from A_L, so rounding decides membership
robustly; no reference point and no orientation guess are needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vo.errors import QueryError

FloatArray = NDArray[np.float64]
FOUR_PI = 4.0 * np.pi
SQDEG_PER_SR = (180.0 / np.pi) ** 2


class GeometryError(QueryError):
    """A geometry value is not usable (too few vertices, coordinates out of range, NaN)."""

    code = "GEOMETRY"


def cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """Cross product over the last axis (broadcasting), without np.cross's per-call overhead."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)


def unit_vectors(
    ra_deg: ArrayLike, dec_deg: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Unit vectors (cx, cy, cz) of (ra, dec) in degrees: hidden columns of positional tables."""
    ra = np.radians(np.asarray(ra_deg, dtype=np.float64))
    dec = np.radians(np.asarray(dec_deg, dtype=np.float64))
    cd = np.cos(dec)
    return cd * np.cos(ra), cd * np.sin(ra), np.sin(dec)


def unit_vector(ra_deg: float, dec_deg: float) -> tuple[float, float, float]:
    """The unit vector of one position in degrees (scalar math: no numpy overhead)."""
    a, d = math.radians(ra_deg), math.radians(dec_deg)
    cd = math.cos(d)
    return cd * math.cos(a), cd * math.sin(a), math.sin(d)


def stack(ra_deg: ArrayLike, dec_deg: ArrayLike) -> FloatArray:
    """Unit vectors as an (..., 3) array."""
    return np.stack(unit_vectors(ra_deg, dec_deg), axis=-1)


def to_radec(v: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(ra, dec) in degrees of (..., 3) vectors (not necessarily normalised); ra in [0, 360)."""
    ra = np.degrees(np.arctan2(v[..., 1], v[..., 0])) % 360.0
    dec = np.degrees(np.arctan2(v[..., 2], np.hypot(v[..., 0], v[..., 1])))
    return ra, dec


def chord2(radius_deg: float) -> float:
    """Squared chord length of an angular radius: |v - v0|^2 <= chord2(r) iff distance <= r.

    Exact on the sphere with no trigonometry per row (DESIGN.md, HEALPix step 1).
    Radii of 180 degrees or more cover the whole sky (chord2 = 4).
    """
    if radius_deg >= 180.0:
        return 4.0
    if radius_deg < 0.0:
        return -1.0
    s = 2.0 * np.sin(np.radians(radius_deg) / 2.0)
    return float(s * s)


def angle_between(a: FloatArray, b: FloatArray) -> FloatArray:
    """Angles in radians between unit vectors, accurate from 0 to pi (atan2 of |a x b| and a.b)."""
    angle: FloatArray = np.arctan2(np.linalg.norm(cross(a, b), axis=-1), np.sum(a * b, axis=-1))
    return angle


def arc_distance(p: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """Angular distance (radians) from points p (P, 3) to the minor arcs a->b (E, 3): shape (P, E).

    The nearest point of a great-circle arc is the foot of the perpendicular when that foot
    lies on the arc, otherwise the nearer endpoint.
    """
    n = cross(
        a, b - a
    )  # = a x b, |n| = sin(arc length); from the difference: exact for tiny arcs
    nn = np.linalg.norm(n, axis=-1)
    n_hat = n / np.where(nn > 0, nn, 1.0)[:, None]
    pn = p @ n_hat.T  # (P, E): sin of the distance to the great circle
    # the foot q = p - (p.n) n lies on the arc iff (a x q).n >= 0 and (q x b).n >= 0;
    # (a x p).n = p.(n x a) and (p x b).n = p.(b x n), and the p.n n part adds nothing
    on_arc = (
        (p @ cross(n_hat, a).T >= 0.0) & (p @ cross(b, n_hat).T >= 0.0) & (nn > 0)[None, :]
    )
    d_circle = np.arcsin(np.clip(np.abs(pn), 0.0, 1.0))
    da = angle_between(p[:, None, :], a[None, :, :])
    db = angle_between(p[:, None, :], b[None, :, :])
    return np.where(on_arc, d_circle, np.minimum(da, db))


def triangle_area(a: FloatArray, b: FloatArray, c: FloatArray) -> FloatArray:
    """Signed area (sr) of spherical triangles a, b, c (minor-arc sides), > 0 counter-clockwise."""
    num = np.sum(a * cross(b - a, c - a), axis=-1)
    den = 1.0 + np.sum(a * b, axis=-1) + np.sum(b * c, axis=-1) + np.sum(c * a, axis=-1)
    area: FloatArray = 2.0 * np.arctan2(num, den)
    return area


@dataclass(frozen=True)
class WindingTest:
    """Constants of the exact point-in-polygon test inlined in SQL on unit-vector columns.

    With p = (cx, cy, cz), a point is inside iff ``round((left_area - 2 * SUM_i
    atan2(-(n_i . p), (a_i - p) . (b_i - p))) / (4 pi)) = inside_value``
    where each edge i gives (nx, ny, nz, ax, ay, az, bx, by, bz): n = a x b and its endpoints a, b.
    Works for concave polygons; no function call per row (about 3x faster than vo_adql.contains).
    """

    edges: tuple[tuple[float, float, float, float, float, float, float, float, float], ...]
    left_area: float
    inside_value: int  # 1 when the region left of the edges is the interior, else 0


class SphericalPolygon:
    """A polygon with great-circle edges; its interior is the smaller region it bounds."""

    def __init__(self, vertices: Sequence[tuple[float, float]]) -> None:
        coords = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
        if len(coords) < 3:
            raise GeometryError(f"a polygon needs at least 3 vertices, got {len(coords)}")
        if not np.all(np.isfinite(coords)) or np.any(np.abs(coords[:, 1]) > 90.0):
            raise GeometryError("polygon vertices need finite RA and Dec with -90 <= Dec <= 90")
        self.ra = coords[:, 0]
        self.dec = coords[:, 1]
        self.v = stack(self.ra, self.dec)
        self.next_v = np.roll(self.v, -1, axis=0)
        if np.any(angle_between(self.v, self.next_v) == 0.0):
            raise GeometryError("a polygon has two consecutive equal vertices; remove the repeat")
        fan = triangle_area(self.v[0:1], self.v[1:-1], self.v[2:])
        # the signed fan sum reduced to (-2 pi, 2 pi]: >= 0 when the left region is the
        # interior; reducing (not wrapping to [0, 4 pi)) keeps tiny clockwise polygons exact
        total = float(np.sum(fan))
        self.signed_area = total - FOUR_PI * round(total / FOUR_PI)
        self.left_is_inside = self.signed_area >= 0.0
        self.left_area = self.signed_area if self.left_is_inside else FOUR_PI + self.signed_area

    @property
    def area_sr(self) -> float:
        """Area of the interior in steradians."""
        return abs(self.signed_area)

    def contains(self, p: FloatArray) -> NDArray[np.bool_]:
        """Which of the unit vectors p (..., 3) lie inside (module docstring: the 4 pi rule)."""
        p = np.asarray(p, dtype=np.float64)
        shape = p.shape[:-1]
        p = p.reshape(-1, 3)
        ba = self.v[None, :, :] - p[:, None, :]  # (P, E, 3): b = v_i - p, c = v_i+1 - p
        bb = self.next_v[None, :, :] - p[:, None, :]
        num = -np.sum(p[:, None, :] * cross(ba, bb), axis=-1)
        den = np.sum(ba * bb, axis=-1)
        total = 2.0 * np.sum(np.arctan2(num, den), axis=1)
        in_left = np.rint((self.left_area - total) / FOUR_PI) == 1.0
        inside: NDArray[np.bool_] = (in_left if self.left_is_inside else ~in_left).reshape(shape)
        return inside

    def winding_test(self) -> WindingTest:
        """The constants of the inline SQL form of :meth:`contains` (see :class:`WindingTest`)."""
        edges = []
        for a, b in zip(self.v.tolist(), self.next_v.tolist(), strict=True):
            n = cross(np.asarray(a), np.subtract(b, a)).tolist()  # a x b, accurate for tiny edges
            edges.append((n[0], n[1], n[2], a[0], a[1], a[2], b[0], b[1], b[2]))
        return WindingTest(tuple(edges), self.left_area, 1 if self.left_is_inside else 0)

    def edge_distance(self, p: FloatArray) -> FloatArray:
        """Angular distance (radians) from points p (P, 3) to the nearest edge: shape (P,)."""
        nearest: FloatArray = np.min(arc_distance(p, self.v, self.next_v), axis=1)
        return nearest

    def perimeter(self) -> float:
        """Sum of the edge lengths in radians."""
        return float(np.sum(angle_between(self.v, self.next_v)))
