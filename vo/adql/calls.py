"""Rewrite functions for function calls: math, trigonometry, aggregates, strings,
COALESCE, IN_UNIT and the UDFs (ADQL 2.1 sec. 2.3, 4.3-4.10; RegTAP 1.1 sec. 9).

PostgreSQL realities handled here: ADQL LOG is the natural logarithm (``ln``);
``round(double, n)``/``trunc(double, n)``/``mod(double, double)`` do not exist, so
they go through numeric and back; SUM of bigint and AVG return numeric, cast to
double precision; COUNT is bigint (VOTable long).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from vo.adql import ast
from vo.adql.errors import ADQLTypeError
from vo.adql.expressions import ExprContext, Rendered, as_double, type_error
from vo.adql.functions import FUNCTIONS
from vo.adql.literals import sql_float
from vo.adql.types import DOUBLE, INT, LONG, NULL, POINT, STRING, ValueType, wider_numeric

if TYPE_CHECKING:
    from vo.adql.expressions import ExpressionTranslator as Translator

_DOUBLE_FUNCTIONS = {
    "DEGREES": "degrees",
    "RADIANS": "radians",
    "EXP": "exp",
    "LOG": "ln",
    "LOG10": "log10",
    "SQRT": "sqrt",
    "CEILING": "ceil",
    "FLOOR": "floor",
    "ACOS": "acos",
    "ASIN": "asin",
    "ATAN": "atan",
    "COS": "cos",
    "COT": "cot",
    "SIN": "sin",
    "TAN": "tan",
}
_UNITS = {"DEGREES": "deg", "RADIANS": "rad"}


def render_call(tr: Translator, call: ast.FunctionCall, ctx: ExprContext) -> Rendered:
    name = call.name
    spec = FUNCTIONS.get(name)
    if spec is None:
        raise type_error(call, f"the function {name.lower()}() is not available in this service")
    if spec.group == "geometry" or name in ("IVO_HEALPIX_INDEX", "IVO_HEALPIX_CENTER"):
        from vo.adql.geometry import render_geometry

        return render_geometry(tr, call, ctx.inner())
    if spec.aggregate:
        return _aggregate(tr, call, ctx)
    if name == "IVO_MOC_CONTAINS":
        return _moc_contains(tr, call, ctx)
    args = [tr.expr(a, ctx.inner()) for a in call.args]
    if name in _DOUBLE_FUNCTIONS:
        _numeric(call, args)
        unit = _UNITS.get(name)
        return Rendered(
            f"{_DOUBLE_FUNCTIONS[name]}({as_double(args[0])})", replace(DOUBLE, unit=unit)
        )
    if name == "ABS":
        _numeric(call, args)
        a = args[0]
        return Rendered(f"abs({a.sql})", replace(a.type, column=None, unit=a.type.unit), a.exact)
    if name in ("ATAN2", "POWER"):
        _numeric(call, args)
        return Rendered(f"{name.lower()}({as_double(args[0])}, {as_double(args[1])})", DOUBLE)
    if name == "PI":
        return Rendered("pi()", DOUBLE)
    if name == "RAND":
        _numeric(call, args)
        # ADQL 2.1 sec. 2.3: RAND([seed]); seeded: a repeatable sequence per query (vo_adql.sql)
        if args:
            return Rendered(f"vo_adql.rand({as_double(args[0])})", DOUBLE)
        return Rendered("random()", DOUBLE)
    if name == "MOD":
        _numeric(call, args)
        if all(a.type.integer and not a.exact for a in args):
            return Rendered(
                f"mod({args[0].sql}, {args[1].sql})", wider_numeric(args[0].type, args[1].type)
            )
        return Rendered(
            f"CAST(mod(CAST({args[0].sql} AS numeric), CAST({args[1].sql} AS numeric)) "
            "AS double precision)",
            DOUBLE,
        )
    if name in ("ROUND", "TRUNCATE"):
        _numeric(call, args)
        fn = "round" if name == "ROUND" else "trunc"
        a = args[0]
        if len(args) == 1:
            if a.type.integer and not a.exact:
                return Rendered(a.sql, replace(a.type, column=None))
            return Rendered(f"{fn}({as_double(a)})", replace(DOUBLE, unit=a.type.unit))
        if not args[1].type.integer:
            raise type_error(call, f"the number of decimals of {name} must be an integer")
        return Rendered(
            f"CAST({fn}(CAST({a.sql} AS numeric), CAST({args[1].sql} AS integer)) "
            "AS double precision)",
            replace(DOUBLE, unit=a.type.unit),
        )
    if name in ("LOWER", "UPPER"):
        if args[0].type.kind not in ("string", "unknown", "null"):
            raise type_error(call, f"{name} needs a string, but got a {args[0].type.kind} value")
        return Rendered(f"{name.lower()}({args[0].sql})", STRING)
    if name == "COALESCE":
        t = next((a.type for a in args if a.type.kind != "null"), NULL)
        for a in args:
            if a.type.kind not in ("null", "unknown") and t.kind != "unknown":
                if a.type.numeric != t.numeric:
                    raise type_error(call, "the arguments of COALESCE must all have the same type")
                if a.type.numeric:
                    t = wider_numeric(t, a.type)
        exact = any(a.exact for a in args)
        return Rendered(
            f"COALESCE({', '.join(a.sql for a in args)})",
            replace(t, column=None, unit=args[0].type.unit),
            exact,
        )
    if name == "IN_UNIT":
        return _in_unit(call, args)
    if name in ("IVO_HASWORD", "IVO_HASHLIST_HAS", "IVO_NOCASEMATCH"):
        for a in args:
            if a.type.kind not in ("string", "unknown", "null"):
                raise type_error(
                    call, f"{name.lower()} takes strings, but got a {a.type.kind} value"
                )
        return Rendered(f"vo_adql.{name.lower()}({args[0].sql}, {args[1].sql})", INT)
    if name == "IVO_INTERVAL_OVERLAPS":
        _numeric(call, args)
        return Rendered(
            f"vo_adql.ivo_interval_overlaps({', '.join(as_double(a) for a in args)})", INT
        )
    raise AssertionError(f"no rewrite for {name}")


def _moc_contains(tr: Translator, call: ast.FunctionCall, ctx: ExprContext) -> Rendered:
    """ivo_moc_contains(moc, ra, dec): 1 if (ra, dec) lies in the constant MOC, 0 if not,
    NULL for a NULL position (vo.adql.moc; the fast path is in vo.adql.fastpath)."""
    from vo.adql.moc import exact_sql, moc_argument

    first = call.args[0]
    literal = isinstance(first, ast.Literal) and first.kind == "string"
    ranges = moc_argument(first.value if literal else None)  # type: ignore[union-attr]
    ra, dec = (tr.expr(a, ctx.inner()) for a in call.args[1:])
    _numeric(call, [ra, dec])
    return Rendered(exact_sql(ranges, as_double(ra), as_double(dec)), INT)


def _numeric(call: ast.FunctionCall, args: list[Rendered]) -> None:
    for a in args:
        if not a.type.numeric:
            raise type_error(call, f"{call.name} needs numbers, but got a {a.type.kind} value")


def _aggregate(tr: Translator, call: ast.FunctionCall, ctx: ExprContext) -> Rendered:
    if not ctx.aggregates:
        raise type_error(
            call,
            f"{call.name} is an aggregate: it is not allowed in WHERE, ON or GROUP BY "
            "(filter groups with HAVING)",
        )
    if ctx.in_aggregate:
        raise type_error(
            call, f"aggregates cannot be nested ({call.name} inside another aggregate)"
        )
    inner = replace(ctx, in_aggregate=True, select_item=False)
    distinct = "DISTINCT " if call.distinct else ""
    if call.star:
        return Rendered("count(*)", replace(LONG, ucd="meta.number"))
    args = [tr.expr(a, inner) for a in call.args]
    a = args[0]
    name = call.name
    if name == "COUNT":
        return Rendered(f"count({distinct}{a.sql})", replace(LONG, ucd="meta.number"))
    if name == "IVO_STRING_AGG":
        if args[1].type.kind not in ("string", "unknown"):
            raise type_error(call, "the delimiter of ivo_string_agg must be a string")
        return Rendered(f"string_agg({distinct}CAST({a.sql} AS text), {args[1].sql})", STRING)
    if name in ("MIN", "MAX"):
        if a.type.kind in ("point", "circle", "polygon", "geometry"):
            raise type_error(call, f"{name} of a geometry is not defined")
        t = ValueType(a.type.kind, unit=a.type.unit, ucd=a.type.ucd)
        return Rendered(f"{name.lower()}({distinct}{a.sql})", t, a.exact)
    if not a.type.numeric:
        raise type_error(call, f"{name} needs numbers, but got a {a.type.kind} value")
    unit = a.type.unit
    if name == "AVG":
        return Rendered(
            f"CAST(avg({distinct}{a.sql}) AS double precision)", replace(DOUBLE, unit=unit)
        )
    # SUM: smallint/integer -> bigint; bigint and numeric -> numeric (cast to double)
    if a.type.kind in ("short", "int") and not a.exact:
        return Rendered(f"sum({distinct}{a.sql})", replace(LONG, unit=unit))
    if a.type.kind in ("float", "double") and not a.exact:
        return Rendered(f"sum({distinct}{a.sql})", ValueType(a.type.kind, unit=unit))
    return Rendered(f"CAST(sum({distinct}{a.sql}) AS double precision)", replace(DOUBLE, unit=unit))


def _in_unit(call: ast.FunctionCall, args: list[Rendered]) -> Rendered:
    """ADQL 2.1 sec. 4.10: IN_UNIT(value, 'unit') converts by the factor astropy finds."""
    value, target = args
    target_node = call.args[1]
    if not (isinstance(target_node, ast.Literal) and target_node.kind == "string"):
        raise type_error(
            call, "the unit of IN_UNIT must be a string literal, e.g. IN_UNIT(plx, 'arcsec')"
        )
    if not value.type.numeric:
        raise type_error(call, f"IN_UNIT converts numbers, not {value.type.kind} values")
    source_unit = value.type.unit
    if not source_unit:
        raise ADQLTypeError(
            f"IN_UNIT: the value has no unit in the table metadata, so it cannot be "
            f"converted to {target_node.value!r}"
        )
    from astropy import units as u  # imported on first use: it is slow to import

    try:
        factor = u.Unit(source_unit, format="vounit", parse_strict="raise").to(
            u.Unit(str(target_node.value), format="vounit", parse_strict="raise")
        )
    except Exception:
        try:
            factor = u.Unit(source_unit).to(u.Unit(str(target_node.value)))
        except Exception as exc:
            raise ADQLTypeError(
                f"IN_UNIT cannot convert {source_unit!r} to {target_node.value!r}: {exc}".split(
                    "\n"
                )[0]
            ) from None
    return Rendered(
        f"({as_double(value)} * {sql_float(float(factor))})",
        replace(DOUBLE, unit=str(target_node.value), ucd=value.type.ucd),
    )


__all__ = ["render_call", "INT", "POINT"]
