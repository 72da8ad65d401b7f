"""Rewrite functions for the ADQL geometry functions (ADQL 2.1 sec. 4.2) and the
HEALPix UDFs, under the geometry contract agreed with vo.healpix / vo_adql.sql:

geometries are ``double precision[]`` in degrees (POINT [ra, dec], CIRCLE
[ra, dec, r], POLYGON [ra1, dec1, ...]); predicates and measures are the
IMMUTABLE functions of schema ``vo_adql``. INTERSECTS with a POINT argument means
CONTAINS (sec. 4.2.10). The deprecated coordinate-system argument is accepted and
ignored: every position is ICRS here (sec. 4.2.3). REGION (STC-S) is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vo.adql import ast
from vo.adql.errors import UnsupportedFeatureError
from vo.adql.expressions import ExprContext, Rendered, as_double, type_error
from vo.adql.literals import sql_string
from vo.adql.types import DOUBLE, INT, LONG, POINT, STRING, ValueType

if TYPE_CHECKING:
    from vo.adql.expressions import ExpressionTranslator as Translator

CIRCLE = ValueType("circle", unit="deg")
POLYGON = ValueType("polygon", unit="deg")
_GEOMETRY = ("point", "circle", "polygon", "geometry", "unknown", "null")


def _is_point_call(e: ast.Expr) -> bool:
    return isinstance(e, ast.FunctionCall) and e.name == "POINT"


def render_geometry(tr: Translator, call: ast.FunctionCall, ctx: ExprContext) -> Rendered:
    name = call.name
    if name == "REGION":
        raise UnsupportedFeatureError(
            "REGION (STC-S strings) is not supported by this service; use POINT, CIRCLE, POLYGON "
            "or BOX instead (ADQL 2.1 sec. 4.2.14 makes REGION optional)"
        )
    if name == "POINT":
        ra, dec = (_number(tr, call, a, ctx) for a in call.args)
        return Rendered(f"ARRAY[{ra}, {dec}]", POINT)
    if name == "CIRCLE":
        if len(call.args) == 3:
            ra, dec, r = (_number(tr, call, a, ctx) for a in call.args)
            return Rendered(f"ARRAY[{ra}, {dec}, {r}]", CIRCLE)
        center, radius = call.args
        r = _number(tr, call, radius, ctx)
        if _is_point_call(center):
            assert isinstance(center, ast.FunctionCall)
            ra, dec = (_number(tr, call, a, ctx) for a in center.args)
            return Rendered(f"ARRAY[{ra}, {dec}, {r}]", CIRCLE)
        p = _geometry(tr, call, center, ctx, ("point",))
        return Rendered(f"array_append({p.sql}, {r})", CIRCLE)
    if name == "BOX":
        if len(call.args) == 4:
            ra, dec, w, h = (_number(tr, call, a, ctx) for a in call.args)
        else:
            ra, dec = _point_coords(tr, call, call.args[0], ctx)
            w, h = (_number(tr, call, a, ctx) for a in call.args[1:])
        return Rendered(f"vo_adql.box({ra}, {dec}, {w}, {h})", POLYGON)
    if name == "POLYGON":
        n = len(call.args)
        if n >= 6 and n % 2 == 0 and not any(_is_point_call(a) for a in call.args):
            first = tr.expr(call.args[0], ctx)
            if first.type.kind not in ("point", "geometry"):
                coords = [_number(tr, call, a, ctx) for a in call.args]
                return Rendered(f"ARRAY[{', '.join(coords)}]", POLYGON)
        coords = []
        for arg in call.args:
            coords.extend(_point_coords(tr, call, arg, ctx))
        return Rendered(f"ARRAY[{', '.join(coords)}]", POLYGON)
    if name == "CENTROID":
        g = _geometry(tr, call, call.args[0], ctx, ("circle", "polygon", "point"))
        return Rendered(f"vo_adql.centroid({g.sql})", POINT)
    if name == "AREA":
        g = _geometry(tr, call, call.args[0], ctx, ("circle", "polygon", "point"))
        return Rendered(
            f"vo_adql.area({g.sql})", ValueType("double", unit="deg**2", ucd="phys.angArea")
        )
    if name in ("COORD1", "COORD2"):
        ra, dec = _point_coords(tr, call, call.args[0], ctx)
        return Rendered(ra if name == "COORD1" else dec, ValueType("double", unit="deg"))
    if name == "COORDSYS":
        _geometry(tr, call, call.args[0], ctx, ("point", "circle", "polygon"))
        return Rendered(sql_string("ICRS"), STRING)
    if name == "DISTANCE":
        if len(call.args) == 4:
            vals = [_number(tr, call, a, ctx) for a in call.args]
        else:
            p1 = _geometry(tr, call, call.args[0], ctx, ("point",))
            p2 = _geometry(tr, call, call.args[1], ctx, ("point",))
            if not (_is_point_call(call.args[0]) and _is_point_call(call.args[1])):
                return Rendered(f"vo_adql.distance({p1.sql}, {p2.sql})", _DISTANCE)
            vals = [
                *_point_coords(tr, call, call.args[0], ctx),
                *_point_coords(tr, call, call.args[1], ctx),
            ]
        return Rendered(f"vo_adql.distance({', '.join(vals)})", _DISTANCE)
    if name in ("CONTAINS", "INTERSECTS"):
        ga = _geometry(tr, call, call.args[0], ctx, ("point", "circle", "polygon"))
        gb = _geometry(tr, call, call.args[1], ctx, ("point", "circle", "polygon"))
        if name == "CONTAINS":
            if gb.type.kind == "point":
                raise type_error(
                    call,
                    "the second argument of CONTAINS must be a CIRCLE, BOX or POLYGON "
                    "(a region that can contain something), not a POINT",
                )
            return Rendered(f"vo_adql.contains({ga.sql}, {gb.sql})", INT)
        if ga.type.kind == "point":
            return Rendered(f"vo_adql.contains({ga.sql}, {gb.sql})", INT)
        if gb.type.kind == "point":
            return Rendered(f"vo_adql.contains({gb.sql}, {ga.sql})", INT)
        return Rendered(f"vo_adql.intersects({ga.sql}, {gb.sql})", INT)
    if name == "IVO_HEALPIX_INDEX":
        order = _integer(tr, call, call.args[0], ctx)
        if len(call.args) == 3:
            ra, dec = (_number(tr, call, a, ctx) for a in call.args[1:])
        else:
            ra, dec = _point_coords(tr, call, call.args[1], ctx)
        return Rendered(
            f"vo_adql.healpix_index({order}, {ra}, {dec})", ValueType("long", ucd="pos.healpix")
        )
    if name == "IVO_HEALPIX_CENTER":
        order = _integer(tr, call, call.args[0], ctx)
        index = tr.expr(call.args[1], ctx)
        if not index.type.integer and index.type.kind not in ("unknown", "null"):
            raise type_error(call, "the HEALPix index of ivo_healpix_center must be an integer")
        return Rendered(f"vo_adql.healpix_center({order}, CAST({index.sql} AS bigint))", POINT)
    raise AssertionError(f"no rewrite for {name}")


_DISTANCE = ValueType("double", unit="deg", ucd="pos.angDistance")


def _number(tr: Translator, call: ast.FunctionCall, e: ast.Expr, ctx: ExprContext) -> str:
    """A coordinate or radius in degrees, through ``vo_adql.deg``: it flushes magnitudes
    below 1e-30 deg to 0, since PostgreSQL raises an error when a product of such tiny
    factors underflows to zero (found by the property test with a 2e-308 vertex)."""
    r = tr.expr(e, ctx)
    if not r.type.numeric:
        raise type_error(
            call, f"{call.name} needs numbers (degrees) here, but got a {r.type.kind} value"
        )
    return f"vo_adql.deg({as_double(r)})"


def _integer(tr: Translator, call: ast.FunctionCall, e: ast.Expr, ctx: ExprContext) -> str:
    r = tr.expr(e, ctx)
    if not (r.type.integer or r.type.kind in ("unknown", "null")):
        raise type_error(call, f"the HEALPix order of {call.name.lower()} must be an integer")
    return f"CAST({r.sql} AS integer)"


def _geometry(
    tr: Translator, call: ast.FunctionCall, e: ast.Expr, ctx: ExprContext, kinds: tuple[str, ...]
) -> Rendered:
    r = tr.expr(e, ctx)
    k = r.type.kind
    if k not in _GEOMETRY or (k in ("point", "circle", "polygon") and k not in kinds):
        want = " or ".join(x.upper() for x in kinds)
        raise type_error(call, f"{call.name} needs a {want} here, but got a {k} value")
    return r


def _point_coords(
    tr: Translator, call: ast.FunctionCall, e: ast.Expr, ctx: ExprContext
) -> tuple[str, str]:
    """(ra, dec) SQL of a point: the arguments of POINT(...) itself, else subscripts."""
    if _is_point_call(e):
        assert isinstance(e, ast.FunctionCall)
        ra, dec = (_number(tr, call, a, ctx) for a in e.args)
        return ra, dec
    p = _geometry(tr, call, e, ctx, ("point",))
    return f"({p.sql})[1]", f"({p.sql})[2]"


__all__ = ["render_geometry", "DOUBLE", "LONG"]
