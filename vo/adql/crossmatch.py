"""The crossmatch range plan: a join of two positional tables on "within r" (DESIGN.md
HEALPix step 5; ADQL 2.1 sec. 4.2.4 CONTAINS, 4.2.7 DISTANCE, 4.2.10 INTERSECTS).

Recognised, as a top-level conjunct of WHERE or of an INNER JOIN's ON (not under OR or
NOT), or as one of a LEFT OUTER JOIN's ON (see below), between two columns-made points of
different tables that both have a HEALPix index (``Position``: ``hpx`` at order 29 and the
unit vector), and a constant radius r:

    CONTAINS(POINT(c.ra, c.dec), CIRCLE(u.ra, u.dec, r)) = 1   (or 1 = ..., roles swapped,
    CIRCLE(POINT(..), r), INTERSECTS in either order)
    DISTANCE(POINT(c.ra, c.dec), POINT(u.ra, u.dec)) < r       (<=, r > ..., 4-argument form)

The table with fewer rows (u) probes the other (c): per row of u, the order-29 ranges of
its order-K pixel and of only those of the 8 neighbours it lies near (within NEIGHBOUR_MARGIN
r of their common side: vo.healpix.crossmatch), from the SQL function
``vo_adql.crossmatch_ranges(u.hpx, K, near)`` (vo/db/sql/vo_adql.sql, inlined by PostgreSQL,
~1.5 us a row) as a LATERAL ``nr``; the predicate becomes ``c.hpx BETWEEN nr.lo AND nr.hi
AND <loose chord test> AND <the exact path's own predicate>``. K is 13 up to
radius_bound(13) (10.28") and coarser for larger r, down to order 2 (~5.8 deg); beyond, the
exact path. Every point within r of u's position lies in those pixels (r <= radius_bound(K);
the unit tests check it near corners and poles); the pixels of one row are distinct, so no
pair is repeated and the result is the exact path's row for row.

LEFT OUTER JOIN: ``a LEFT JOIN c ON <...within r...>`` with a the preserved side, c a table,
becomes ``a LEFT JOIN LATERAL (SELECT c.* FROM ranges of a CROSS JOIN c WHERE <the whole
ON condition with the range predicate>) AS c ON TRUE``: the same pairs, and a row of a
without any stays once with NULLs, as the ON condition would give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vo.adql import ast
from vo.adql.expressions import as_double
from vo.adql.fastpath import _call, _number, _table_point, distance_within, region_test
from vo.adql.literals import sql_float
from vo.meta import Position, quote_ident

if TYPE_CHECKING:
    from vo.adql.expressions import ExprContext
    from vo.adql.expressions import ExpressionTranslator as Translator
    from vo.adql.scope import RangeVar

NEIGHBOUR_ORDER = 13  # pixel ~25.8 arcsec: 3x3 pixels hold every match up to radius_bound(13)
# Smallest pixel edge at order 0, in degrees: 20.5584 arcsec at order 13, scaling as 2^-K
# (healpy.boundaries over every pixel at orders 6-13 gives 20.55842 arcsec * 2^(13-K)).
MIN_EDGE_DEG_ORDER0 = 20.5584 * (1 << 13) / 3600.0
CHORD_SLACK = 1e-12  # radians: the loose chord test may only let more rows reach the exact one


def radius_bound(order: int) -> float:
    """Largest radius (degrees) the 3x3 neighbourhood at ``order`` is guaranteed to hold:
    half the smallest pixel edge (conservative; misses start near 0.85 edge)."""
    return 0.5 * MIN_EDGE_DEG_ORDER0 / (1 << order)


def constant_value(e: ast.Expr) -> float | None:
    """The value of a constant arithmetic expression of number literals (e.g. 1.0/3600)."""
    v = _number(e)
    if v is not None:
        return v
    if isinstance(e, ast.Unary) and e.op in "+-":
        inner = constant_value(e.operand)
        return None if inner is None else (-inner if e.op == "-" else inner)
    if isinstance(e, ast.Binary) and e.op in ("+", "-", "*", "/"):
        a, b = constant_value(e.left), constant_value(e.right)
        if a is None or b is None or (e.op == "/" and b == 0.0):
            return None
        out = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0}[e.op]
        return out if math.isfinite(out) else None
    return None


@dataclass
class LateralSite:
    """Where recognised crossmatches may add LATERAL ranges: one WHERE or INNER JOIN ON, or
    the ON of a LEFT OUTER JOIN (``preserved`` = its left side's ranges, ``inner`` = the
    table on its right: the probe must be preserved and the probed table the inner one)."""

    ranges: list[RangeVar]
    laterals: list[tuple[RangeVar, str]] = field(default_factory=list)  # (u, LATERAL sql)
    preserved: list[RangeVar] | None = None
    inner: RangeVar | None = None

    def holds(self, rv: RangeVar) -> bool:
        return any(r is rv for r in self.ranges)

    def probes(self, u: RangeVar, cat: RangeVar) -> bool:
        """May ``u`` probe ``cat`` here (a LEFT JOIN fixes the direction)?"""
        if self.preserved is None:
            return True
        return cat is self.inner and any(r is u for r in self.preserved)


def _spread(v: int) -> int:
    """Bits of v moved to the even positions (the x part of a nested index)."""
    out = 0
    for i in range(v.bit_length()):
        out |= ((v >> i) & 1) << (2 * i)
    return out


def range_plan(radius_deg: float) -> tuple[int, int] | None:
    """(K, near) of ``vo_adql.crossmatch_ranges`` for a radius, or None past radius_bound(2).

    K: the finest order <= NEIGHBOUR_ORDER with ``radius_deg <= radius_bound(K)``. near: a
    neighbour is probed when the position lies within NEIGHBOUR_MARGIN r of the side they
    share (vo.healpix.crossmatch_ranges; the needed margin measured near corners and poles
    is 1.48), as a count of order-29 sub-pixel steps rounded up, bits spread like x.
    """
    from vo.healpix.coverage import ORDER_MAX, PIXEL_SIZE_DEG_ORDER0
    from vo.healpix.crossmatch import MIN_NEIGHBOUR_ORDER, NEIGHBOUR_MARGIN

    if not (math.isfinite(radius_deg) and radius_deg >= 0.0):
        return None
    k = NEIGHBOUR_ORDER
    while k >= MIN_NEIGHBOUR_ORDER and radius_deg > radius_bound(k):
        k -= 1
    if k < MIN_NEIGHBOUR_ORDER:
        return None
    steps = 1 << (ORDER_MAX - k)  # order-29 sub-pixels along a side of an order-k pixel
    t = NEIGHBOUR_MARGIN * radius_deg / (PIXEL_SIZE_DEG_ORDER0 / (1 << k))  # in pixel sides
    return k, _spread(min(math.ceil(t * steps), steps - 1))


Point = tuple["RangeVar", Position]


Within = tuple[Point, Point, float, "tuple[ast.Expr, ...] | None"]


def _points(tr: Translator, ctx: ExprContext, c: ast.Comparison) -> Within | None:
    """(point 1, point 2, radius, CONTAINS arguments) of a 'within r' comparison of two
    table points; the arguments (point ra, dec, centre ra, dec, radius) only for a point
    in a circle, whose exact test is then written without the plpgsql call."""
    if c.op == "=":
        call = region_test(c)
        if call is None:
            return None
        pairs = [(call.args[0], call.args[1])]
        if call.name == "INTERSECTS":
            pairs.append((call.args[1], call.args[0]))
        for a, b in pairs:
            pa, circle = _call(a, "POINT"), _call(b, "CIRCLE")
            if pa is None or circle is None:
                continue
            p1 = _table_point(tr, ctx, *pa.args)
            centre: tuple[ast.Expr, ...]
            if len(circle.args) == 3:
                centre, radius = circle.args[:2], circle.args[2]
            else:
                pc = _call(circle.args[0], "POINT")
                if pc is None:
                    continue
                centre, radius = pc.args, circle.args[1]
            p2 = _table_point(tr, ctx, *centre)
            r = constant_value(radius)
            if p1 is not None and p2 is not None and r is not None:
                return p1, p2, r, (*pa.args, *centre, radius)
        return None
    within = distance_within(c)
    if within is None:
        return None
    call, limit, _strict = within
    r = constant_value(limit)
    if r is None:
        return None
    if len(call.args) == 4:
        p1 = _table_point(tr, ctx, call.args[0], call.args[1])
        p2 = _table_point(tr, ctx, call.args[2], call.args[3])
    else:
        q1, q2 = _call(call.args[0], "POINT"), _call(call.args[1], "POINT")
        if q1 is None or q2 is None:
            return None
        p1, p2 = _table_point(tr, ctx, *q1.args), _table_point(tr, ctx, *q2.args)
    if p1 is None or p2 is None:
        return None
    return p1, p2, r, None


def _ranges_lateral(u: RangeVar, upos: Position, r: float, nr: str) -> str | None:
    """The LATERAL FROM item ``nr`` (lo, hi) of u's neighbourhood for radius r, or None
    (r too large for any order: the exact path)."""
    ua = quote_ident(u.sql_alias)
    plan = range_plan(r)
    if plan is None:
        return None
    k, near = plan
    return (
        f"LATERAL vo_adql.crossmatch_ranges({ua}.{quote_ident(upos.hpx)}, {k}, {near})"
        f" AS {quote_ident(nr)}"
    )


def crossmatch_predicate(
    tr: Translator, c: ast.Comparison, ctx: ExprContext, site: LateralSite | None
) -> str | None:
    """The range-plan SQL of a recognised crossmatch (registering its LATERAL in ``site``),
    or None: then the caller translates the comparison as usual."""
    if not tr.fast_path or site is None:
        return None
    found = _points(tr, ctx, c)
    if found is None:
        return None
    (rv1, pos1), (rv2, pos2), r, contains_args = found
    if rv1 is rv2 or not (site.holds(rv1) and site.holds(rv2)) or not 0.0 <= r:
        return None
    sides = [(rv1, pos1, rv2, pos2), (rv2, pos2, rv1, pos1)]
    sides = [s for s in sides if site.probes(s[0], s[2])]
    if not sides:
        return None
    # probe with the smaller table (0 rows: not counted, taken as large)
    u, upos, cat, cpos = min(sides, key=lambda s: s[1].rows or math.inf)
    nr = tr.next_alias("nr")
    lateral = _ranges_lateral(u, upos, r, nr)
    if lateral is None:
        return None
    left, right = tr.expr(c.left, ctx), tr.expr(c.right, ctx)
    tr.comparable(c, left, right)
    exact = f"({left.sql} {c.op} {right.sql})"  # the exact path's own predicate
    if contains_args is not None:
        # vo_adql.contains(point, circle) with a radius >= 0 is exactly this (its first
        # branch, vo_adql.sql); inline, it costs ~2 us a pair instead of ~30 us
        pra, pdec, cra, cdec, rad = (as_double(tr.expr(a, ctx)) for a in contains_args)
        exact = f"(vo_adql.distance({pra}, {pdec}, {cra}, {cdec}) <= {rad})"
    site.laterals.append((u, lateral))
    ua, ca = quote_ident(u.sql_alias), quote_ident(cat.sql_alias)
    terms = []
    for cu, cc in zip(upos.unit_vector, cpos.unit_vector, strict=True):
        d = f"({ca}.{quote_ident(cc)} - {ua}.{quote_ident(cu)})"
        terms.append(f"{d} * {d}")
    loose = 2.0 * math.sin(math.radians(r) / 2.0) + CHORD_SLACK
    hpx = f"{ca}.{quote_ident(cpos.hpx)}"
    tr.fast_paths_taken += 1
    return (
        f"({hpx} BETWEEN {quote_ident(nr)}.lo AND {quote_ident(nr)}.hi"
        f" AND {' + '.join(terms)} <= {sql_float(loose * loose)} AND {exact})"
    )


__all__ = [
    "LateralSite",
    "range_plan",
    "NEIGHBOUR_ORDER",
    "constant_value",
    "crossmatch_predicate",
    "radius_bound",
]
