"""HEALPix coverage for the spatial index: positions -> pixels, regions -> pixel ranges (L1).

Pure numpy + healpy, no I/O; imports only ``vo.errors``. ``vo.adql`` turns geometry
predicates into ``hpx`` range predicates with these ranges; ingest computes ``hpx`` and the
unit vectors ``cx, cy, cz`` with :func:`pixel_index` and :func:`unit_vectors`; the SQL
functions of ``vo/db/sql/vo_adql.sql`` give the same answers row by row. The agreed
contract is in DESIGN.md (HEALPix) and in the geometry contract of the ADQL work:

Contract changes and additions (the signatures of the contract are unchanged):
- ``pixel_index`` takes an optional ``order`` (default 29) and returns -1 for NaN positions.
- added: ``Coverage.ranges``, ``GeometryError`` (code GEOMETRY, a QueryError),
  ``SphericalPolygon`` (exact point-in-polygon and area) with ``winding_test()`` (constants
  of an inline SQL exact test on cx, cy, cz, convex or concave: ``WindingTest``),
  ``expected_rows`` (row estimate of ranges from a density map), ``crossmatch_order``,
  ``moc_coverage`` (a MOC as all-inner ranges).
- a polygon's interior is the smaller of the two regions its edges bound.
- coverage stops at order 20 (0.2 arcsec pixels): healpy's query_disc misses pixels at
  orders >= 25. Ranges are still order-29 ``hpx`` ranges.

Notes for SQL generators (measured, see bench/cone.py):
- choose the cone strategy from a row estimate: ``expected_rows(density, order,
  cone_coverage(..., expected_rows=0).ranges)``; below SMALL_ROWS keep that small coverage.
- wrap negative literals in parentheses: ``cz--0.5`` starts an SQL comment.
- turn JIT off for catalogue queries (``SET jit = off``): the range join of a crossmatch
  is estimated at millions of rows and JIT then spends ~0.5 s compiling a 15 ms query.
- many ranges (> ~15): ``unnest(lo[], hi[]) CROSS JOIN LATERAL (... OFFSET 0)``.
- the exact test of a point column in a constant polygon can be inlined from
  ``SphericalPolygon(v).winding_test()`` (about 3x faster than ``vo_adql.contains``).
"""

from vo.healpix.coverage import (
    NPIX_MAX,
    ORDER_MAX,
    Coverage,
    cone_coverage,
    merge_ranges,
    moc_coverage,
    pixel_ranges,
    polygon_coverage,
)
from vo.healpix.crossmatch import crossmatch_order, crossmatch_ranges
from vo.healpix.pixels import density_map, expected_rows, pixel_index
from vo.healpix.sphere import (
    GeometryError,
    SphericalPolygon,
    WindingTest,
    chord2,
    unit_vector,
    unit_vectors,
)

__all__ = [
    "NPIX_MAX",
    "ORDER_MAX",
    "Coverage",
    "GeometryError",
    "SphericalPolygon",
    "chord2",
    "cone_coverage",
    "crossmatch_order",
    "crossmatch_ranges",
    "density_map",
    "expected_rows",
    "merge_ranges",
    "moc_coverage",
    "pixel_index",
    "pixel_ranges",
    "polygon_coverage",
    "unit_vector",
    "unit_vectors",
    "WindingTest",
]
