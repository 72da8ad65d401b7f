"""The HEALPix fast path for geometry predicates on positional tables (DESIGN.md,
HEALPix indexing; ADQL 2.1 sec. 4.2.4 CONTAINS, 4.2.7 DISTANCE, 4.2.10 INTERSECTS).

Recognised, when not under NOT, for a table with ``TableMeta.position`` whose own
ra/dec columns make the point, and a region made of number literals:

    CONTAINS(POINT(t.ra, t.dec), CIRCLE|POLYGON|BOX(...)) = 1   (or 1 = ...)
    INTERSECTS(POINT(t.ra, t.dec), region) = 1                  (either order)
    DISTANCE(POINT(t.ra, t.dec), POINT(a, b)) < r  (<=, or r > / >= DISTANCE; 4-argument form too)
    ivo_moc_contains('<MOC>', t.ra, t.dec) = 1     (or 1 = ...): only ranges, see vo.adql.moc

It becomes ``(inner ranges) OR ((boundary ranges) AND exact test)`` on the hidden
``hpx`` column: the exact test is the squared-chord test on ``cx, cy, cz`` for
circles and ``vo_adql.contains`` for polygons and boxes, so the predicate keeps the
general translation's meaning; it only lets PostgreSQL use the btree on hpx.
Anything else returns None and takes the exact translation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from vo.adql import ast
from vo.adql.literals import sql_float
from vo.meta import Position, quote_ident

if TYPE_CHECKING:
    from vo.adql.expressions import ExprContext
    from vo.adql.expressions import ExpressionTranslator as Translator
    from vo.adql.scope import RangeVar

MAX_RANGES = 24  # OR of ranges is best up to ~15-25 (DESIGN.md pitfalls)


def _number(e: ast.Expr) -> float | None:
    if isinstance(e, ast.Unary) and e.op in "+-":
        v = _number(e.operand)
        return None if v is None else (-v if e.op == "-" else v)
    if isinstance(e, ast.Literal) and e.kind in ("integer", "decimal", "real"):
        v = float(e.value)  # type: ignore[arg-type]
        return v if math.isfinite(v) else None
    return None


def _numbers(args: tuple[ast.Expr, ...]) -> list[float] | None:
    vals = [_number(a) for a in args]
    return None if any(v is None for v in vals) else vals  # type: ignore[return-value]


def _call(e: ast.Expr, *names: str) -> ast.FunctionCall | None:
    return e if isinstance(e, ast.FunctionCall) and e.name in names else None


def _table_point(
    tr: Translator, ctx: ExprContext, ra: ast.Expr, dec: ast.Expr
) -> tuple[RangeVar, Position] | None:
    """The range whose positional columns ``ra``, ``dec`` are, if they are."""
    if not (isinstance(ra, ast.ColumnRef) and isinstance(dec, ast.ColumnRef)):
        return None
    r1, r2 = ctx.scope.resolve(ra), ctx.scope.resolve(dec)
    rv = r1.range
    if rv is None or rv is not r2.range or rv.table is None or rv.table.position is None:
        return None
    pos = rv.table.position
    if (
        r1.column is None
        or r2.column is None
        or r1.column.sql_name != pos.ra
        or r2.column.sql_name != pos.dec
    ):
        return None
    return rv, pos


def _point_of(tr: Translator, ctx: ExprContext, e: ast.Expr) -> tuple[RangeVar, Position] | None:
    p = _call(e, "POINT")
    return _table_point(tr, ctx, *p.args) if p is not None else None


def _region(e: ast.Expr) -> tuple[str, list[float]] | None:
    """('circle', [ra, dec, r]) / ('polygon', [ra1, dec1, ...]) / ('box', [ra, dec, w, h])."""
    c = _call(e, "CIRCLE", "POLYGON", "BOX")
    if c is None:
        return None
    args: list[ast.Expr] = []
    for a in c.args:
        p = _call(a, "POINT")
        args.extend(p.args if p is not None else (a,))
    vals = _numbers(tuple(args))
    if vals is None:
        return None
    kind = c.name.lower()
    if (
        (kind == "circle" and len(vals) != 3)
        or (kind == "box" and len(vals) != 4)
        or (kind == "polygon" and (len(vals) < 6 or len(vals) % 2))
    ):
        return None
    return kind, vals


def fast_predicate(tr: Translator, c: ast.Comparison, ctx: ExprContext) -> str | None:
    """Fast SQL for a recognised comparison, or None (then the exact path is used)."""
    if not tr.fast_path:
        return None
    moc = _moc_predicate(tr, c, ctx)
    if moc is not None:
        tr.fast_paths_taken += 1
        return moc
    try:
        found = _recognise(tr, c, ctx)
        if found is None:
            return None
        rv, pos, kind, vals, strict = found
        sql = _emit(rv, pos, kind, vals, strict)
    except Exception:  # noqa: BLE001 - anything odd (bad coordinates...) takes the exact path
        return None
    if sql is not None:
        tr.fast_paths_taken += 1
    return sql


def _moc_predicate(tr: Translator, c: ast.Comparison, ctx: ExprContext) -> str | None:
    """``ivo_moc_contains('<MOC>', t.ra, t.dec) = 1`` on t's own position: hpx ranges only
    (membership at order 29 is the MOC's definition, so no exact test follows). A bad MOC
    returns None: the exact path then raises the MOC's error."""
    if c.op != "=":
        return None
    call, one = _call(c.left, "IVO_MOC_CONTAINS"), c.right
    if call is None:
        call, one = _call(c.right, "IVO_MOC_CONTAINS"), c.left
    if call is None or _number(one) != 1.0:
        return None
    moc = call.args[0]
    if not (isinstance(moc, ast.Literal) and moc.kind == "string"):
        return None
    pt = _table_point(tr, ctx, call.args[1], call.args[2])
    if pt is None:
        return None
    from vo.adql.moc import MOCSyntaxError, index_sql, parse_moc

    try:
        ranges = parse_moc(str(moc.value))
    except MOCSyntaxError:
        return None
    rv, pos = pt
    return index_sql(ranges, f"{quote_ident(rv.sql_alias)}.{quote_ident(pos.hpx)}")


def region_test(c: ast.Comparison) -> ast.FunctionCall | None:
    """The CONTAINS/INTERSECTS call of ``CONTAINS(...) = 1`` or ``1 = CONTAINS(...)``."""
    pred, one = (c.left, c.right) if _call(c.left, "CONTAINS", "INTERSECTS") else (c.right, c.left)
    call = _call(pred, "CONTAINS", "INTERSECTS")
    return call if call is not None and _number(one) == 1.0 else None


_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def distance_within(c: ast.Comparison) -> tuple[ast.FunctionCall, ast.Expr, bool] | None:
    """``DISTANCE(...) < limit`` or ``<=`` (either side, the operator mirrored): the
    DISTANCE call, the limit expression, and whether the bound is strict."""
    if c.op not in _MIRRORED:
        return None
    dist, limit, op = c.left, c.right, c.op
    if _call(c.right, "DISTANCE"):
        dist, limit, op = c.right, c.left, _MIRRORED[op]
    call = _call(dist, "DISTANCE")
    if call is None or op not in ("<", "<="):
        return None
    return call, limit, op == "<"


def _recognise(
    tr: Translator, c: ast.Comparison, ctx: ExprContext
) -> tuple[RangeVar, Position, str, list[float], bool] | None:
    if c.op == "=":
        call = region_test(c)
        if call is None:
            return None
        a, b = call.args
        pt = _point_of(tr, ctx, a)
        region = _region(b)
        if (pt is None or region is None) and call.name == "INTERSECTS":
            pt, region = _point_of(tr, ctx, b), _region(a)
        if pt is None or region is None:
            return None
        return pt[0], pt[1], region[0], region[1], False
    within = distance_within(c)
    if within is None:
        return None
    call, limit, strict = within
    r = _number(limit)
    if r is None:
        return None
    if len(call.args) == 4:
        for (ra, dec), other in (((0, 1), (2, 3)), ((2, 3), (0, 1))):
            pt = _table_point(tr, ctx, call.args[ra], call.args[dec])
            centre = _numbers((call.args[other[0]], call.args[other[1]]))
            if pt is not None and centre is not None:
                return pt[0], pt[1], "circle", [centre[0], centre[1], r], strict
        return None
    for a, b in ((call.args[0], call.args[1]), (call.args[1], call.args[0])):
        pt = _point_of(tr, ctx, a)
        centre_call = _call(b, "POINT")
        centre = _numbers(centre_call.args) if centre_call is not None else None
        if pt is not None and centre is not None:
            return pt[0], pt[1], "circle", [centre[0], centre[1], r], strict
    return None


def _box_vertices(ra: float, dec: float, w: float, h: float) -> list[tuple[float, float]]:
    """The corners vo_adql.box computes: tangent-plane offsets +-tan(w/2), +-tan(h/2)."""
    d, a = math.radians(dec), math.radians(ra)
    c = (math.cos(d) * math.cos(a), math.cos(d) * math.sin(a), math.sin(d))
    east = (-math.sin(a), math.cos(a), 0.0)
    north = (-math.sin(d) * math.cos(a), -math.sin(d) * math.sin(a), math.cos(d))
    tx, ty = math.tan(math.radians(w / 2)), math.tan(math.radians(h / 2))
    out = []
    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        v = [c[i] + sx * tx * east[i] + sy * ty * north[i] for i in range(3)]
        out.append(
            (
                math.degrees(math.atan2(v[1], v[0])) % 360.0,
                math.degrees(math.atan2(v[2], math.hypot(v[0], v[1]))),
            )
        )
    return out


def _emit(rv: RangeVar, pos: Position, kind: str, vals: list[float], strict: bool) -> str | None:
    from vo import healpix

    col = rv.sql_alias
    hpx = f"{quote_ident(col)}.{quote_ident(pos.hpx)}"
    ra_sql = f"{quote_ident(col)}.{quote_ident(pos.ra)}"
    dec_sql = f"{quote_ident(col)}.{quote_ident(pos.dec)}"
    if kind == "circle":
        ra, dec, r = vals
        if not (-90.0 <= dec <= 90.0) or r < 0 or r > 180:
            return None
        expected = pos.rows * (1 - math.cos(math.radians(r))) / 2 if pos.rows else None
        if pos.density and pos.density_order:
            # DESIGN.md step 3: the table's density map says how many rows the cone holds
            first = healpix.cone_coverage(ra, dec, r, expected_rows=expected)
            expected = healpix.expected_rows(pos.density, pos.density_order, first.ranges)
        cov = healpix.cone_coverage(ra, dec, r, expected_rows=expected)
        x0, y0, z0 = healpix.unit_vector(ra, dec)
        terms = []
        for name, v0 in zip(pos.unit_vector, (x0, y0, z0), strict=True):
            q = f"{quote_ident(col)}.{quote_ident(name)}"
            terms.append(f"({q} - {sql_float(v0)}) * ({q} - {sql_float(v0)})")
        exact = f"({' + '.join(terms)} {'<' if strict else '<='} {sql_float(healpix.chord2(r))})"
    else:
        if kind == "box":
            ra, dec, w, h = vals
            if not (-90.0 <= dec <= 90.0) or not (0 <= w < 180 and 0 <= h < 180):
                return None
            verts = _box_vertices(ra, dec, w, h)
            region_sql = f"vo_adql.box({', '.join(sql_float(v) for v in vals)})"
        else:
            verts = [(vals[i], vals[i + 1]) for i in range(0, len(vals), 2)]
            if any(not -90.0 <= d <= 90.0 for _, d in verts):
                return None
            region_sql = f"ARRAY[{', '.join(sql_float(v) for v in vals)}]"
        expected = None
        if pos.rows:
            expected = pos.rows * healpix.SphericalPolygon(verts).area_sr / (4 * math.pi)
        cov = healpix.polygon_coverage(verts, expected_rows=expected)
        exact = f"(vo_adql.contains(ARRAY[{ra_sql}, {dec_sql}], {region_sql}) = 1)"
    inner, boundary = list(cov.inner), list(cov.boundary)
    if len(inner) + len(boundary) > MAX_RANGES:
        boundary = _coarsen(sorted(inner + boundary), MAX_RANGES)
        inner = []
    parts = []
    if inner:
        parts.append(
            "(" + " OR ".join(f"{hpx} BETWEEN {int(lo)} AND {int(hi)}" for lo, hi in inner) + ")"
        )
    if boundary:
        ranges = " OR ".join(f"{hpx} BETWEEN {int(lo)} AND {int(hi)}" for lo, hi in boundary)
        parts.append(f"(({ranges}) AND {exact})")
    if not parts:
        return "FALSE"
    return "(" + " OR ".join(parts) + ")"


def _coarsen(ranges: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """At most ``n`` ranges covering ``ranges`` (sorted): close the smallest gaps.
    Only used for boundary ranges, which keep the exact test, so it stays correct."""
    if len(ranges) <= n:
        return ranges
    gaps = sorted(
        range(1, len(ranges)), key=lambda i: ranges[i][0] - ranges[i - 1][1], reverse=True
    )
    cuts = sorted(gaps[: n - 1])
    out, start = [], 0
    for cut in [*cuts, len(ranges)]:
        out.append((ranges[start][0], ranges[cut - 1][1]))
        start = cut
    return out
