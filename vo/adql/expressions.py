"""Per-node rewrite functions for ADQL value expressions and search conditions.

Each AST node type has one method that returns PostgreSQL text and the value's
type (ADQL 2.1 sec. 2.2-2.3, 3). Identifiers come only from resolved metadata,
literals only from vo.adql.literals, functions only from the whitelist
(vo.adql.calls, vo.adql.geometry), so every SQL token is produced here on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from vo.adql import ast
from vo.adql.errors import ADQLTypeError, UnsupportedFeatureError
from vo.adql.literals import INT4_MAX, INT8_MAX, sql_decimal, sql_integer, sql_string
from vo.adql.scope import Scope
from vo.adql.types import DOUBLE, INT, LONG, NULL, STRING, UNKNOWN, ValueType, wider_numeric

if TYPE_CHECKING:
    from vo.adql.crossmatch import LateralSite
    from vo.adql.scope import Resolved


@dataclass(frozen=True)
class Rendered:
    """SQL text of an expression and its type; ``exact`` = PostgreSQL numeric, to be
    cast to double precision wherever it becomes a result column."""

    sql: str
    type: ValueType
    exact: bool = False


@dataclass(frozen=True)
class ExprContext:
    """Where an expression stands: its scope and what is allowed there."""

    scope: Scope
    aggregates: bool = False  # aggregates allowed (select list, HAVING, ORDER BY)
    select_item: bool = False  # top of a select item: boolean columns stay boolean
    in_aggregate: bool = False
    positive: bool = True  # not under NOT: the HEALPix fast path may apply
    where: bool = False  # a WHERE or ON condition (fast path only there)
    conjunct: bool = False  # a top-level AND term of WHERE / INNER JOIN ON (crossmatch plan)

    def inner(self) -> ExprContext:
        return replace(self, select_item=False) if self.select_item else self


def _where(e: ast.Expr | ast.Condition) -> str:
    pos = getattr(e, "pos", (0, 0))
    return f"line {pos[0]}, column {pos[1]}: " if pos[0] else ""


def type_error(node: ast.Expr | ast.Condition, message: str) -> ADQLTypeError:
    return ADQLTypeError(_where(node) + message)


def as_double(r: Rendered) -> str:
    return (
        r.sql if r.type.kind == "double" and not r.exact else f"CAST({r.sql} AS double precision)"
    )


class ExpressionTranslator:
    """Mixin of ``Translator``: expressions and conditions. The query-level methods it
    needs (subqueries, bookkeeping) are the Translator's."""

    fast_path: bool
    fast_paths_taken: int
    lateral_sites: list[LateralSite]

    def subquery(self, qe: ast.QueryExpression, scope: Scope) -> tuple[str, list[ValueType]]:
        raise NotImplementedError

    def note_column(self, res: Resolved) -> None:
        raise NotImplementedError

    def next_alias(self, prefix: str = "t") -> str:
        raise NotImplementedError

    # ------------------------------------------------------------ expressions
    def expr(self, e: ast.Expr, ctx: ExprContext) -> Rendered:
        if isinstance(e, ast.Literal):
            return self.literal(e)
        if isinstance(e, ast.ColumnRef):
            return self.column(e, ctx)
        if isinstance(e, ast.FunctionCall):
            from vo.adql.calls import render_call

            return render_call(self, e, ctx)
        if isinstance(e, ast.Unary):
            r = self.expr(e.operand, ctx.inner())
            self.need_numeric(e, r, "a sign")
            return Rendered(f"({e.op}{r.sql})", replace(r.type, column=None), r.exact)
        if isinstance(e, ast.Binary):
            return self.binary(e, ctx.inner())
        if isinstance(e, ast.Cast):
            return self.cast(e, ctx.inner())
        if isinstance(e, ast.Case):
            return self.case(e, ctx.inner())
        if isinstance(e, ast.ScalarSubquery):
            sql, cols = self.subquery(e.query, ctx.scope)
            if len(cols) != 1:
                raise type_error(
                    e, f"a subquery used as a value must select one column, not {len(cols)}"
                )
            return Rendered(f"({sql})", replace(cols[0], column=None))
        raise AssertionError(f"unexpected node {e!r}")

    def literal(self, e: ast.Literal) -> Rendered:
        if e.kind == "string":
            assert isinstance(e.value, str)
            return Rendered(sql_string(e.value), STRING)
        if e.kind == "integer":
            assert isinstance(e.value, int)
            t = INT if e.value <= INT4_MAX else LONG if e.value <= INT8_MAX else DOUBLE
            return Rendered(sql_integer(e.value), t)
        if e.kind in ("decimal", "real"):
            assert isinstance(e.value, str)
            return Rendered(sql_decimal(e.value), DOUBLE, exact=True)
        return Rendered("NULL", NULL)

    def column(self, e: ast.ColumnRef, ctx: ExprContext) -> Rendered:
        res = ctx.scope.resolve(e)
        self.note_column(res)
        if res.type.kind == "boolean" and not ctx.select_item:
            # ADQL has no boolean type: in expressions a boolean column is 0/1 (ADQL 2.1 sec. 3)
            return Rendered(f"CAST({res.sql} AS integer)", ValueType("short", ucd=res.type.ucd))
        return Rendered(res.sql, res.type)

    def need_numeric(self, node: ast.Expr, r: Rendered, what: str) -> None:
        if not r.type.numeric:
            raise type_error(node, f"{what} needs a number, but got a {r.type.kind} value")

    def binary(self, e: ast.Binary, ctx: ExprContext) -> Rendered:
        left, right = self.expr(e.left, ctx), self.expr(e.right, ctx)
        if e.op == "||":
            for r in (left, right):
                if r.type.kind in ("point", "circle", "polygon", "geometry"):
                    raise type_error(e, "|| joins strings; a geometry cannot be concatenated")
            return Rendered(f"(CAST({left.sql} AS text) || CAST({right.sql} AS text))", STRING)
        self.need_numeric(e, left, f"the operator {e.op}")
        self.need_numeric(e, right, f"the operator {e.op}")
        t = wider_numeric(left.type, right.type)
        if e.op in "+-" and left.type.unit == right.type.unit:
            t = replace(t, unit=left.type.unit)
        exact = (
            (left.exact or right.exact)
            and t.kind not in ("double", "float")
            and all(r.exact or r.type.integer for r in (left, right))
        )
        if exact:
            t = DOUBLE
        return Rendered(f"({left.sql} {e.op} {right.sql})", t, exact)

    def cast(self, e: ast.Cast, ctx: ExprContext) -> Rendered:
        r = self.expr(e.operand, ctx)
        name = e.target.name
        if name in ("POINT", "CIRCLE", "POLYGON"):
            if r.type.kind == "string":
                raise UnsupportedFeatureError(
                    _where(e) + f"CAST of a string to {name} (STC-S) is not "
                    f"supported; build the value with {name}(...) instead"
                )
            if r.type.kind not in (name.lower(), "geometry", "unknown", "null"):
                raise type_error(e, f"cannot CAST a {r.type.kind} to {name}")
            return Rendered(
                f"CAST({r.sql} AS double precision[])", ValueType(name.lower(), unit="deg")
            )
        if r.type.kind in ("point", "circle", "polygon", "geometry"):
            raise type_error(e, f"cannot CAST a geometry to {name}")
        sql_type, kind = {
            "SMALLINT": ("smallint", "short"),
            "INTEGER": ("integer", "int"),
            "BIGINT": ("bigint", "long"),
            "REAL": ("real", "float"),
            "DOUBLE PRECISION": ("double precision", "double"),
            "TIMESTAMP": ("timestamp", "timestamp"),
            "CHAR": ("char", "string"),
            "VARCHAR": ("varchar", "string"),
        }[name]
        if e.target.length is not None:
            sql_type += f"({int(e.target.length)})"
        return Rendered(f"CAST({r.sql} AS {sql_type})", ValueType(kind))

    def case(self, e: ast.Case, ctx: ExprContext) -> Rendered:
        parts = ["CASE"]
        if e.operand is not None:
            parts.append(self.expr(e.operand, ctx).sql)
        results: list[Rendered] = []
        for cond, result in e.whens:
            if e.operand is not None:
                assert not isinstance(cond, (ast.Comparison, ast.And, ast.Or, ast.Not))
                when_sql = self.expr(cond, ctx).sql  # type: ignore[arg-type]
            else:
                when_sql = self.condition(cond, replace(ctx, positive=False, where=False))  # type: ignore[arg-type]
            r = self.expr(result, ctx)
            results.append(r)
            parts.append(f"WHEN {when_sql} THEN {r.sql}")
        if e.otherwise is not None:
            r = self.expr(e.otherwise, ctx)
            results.append(r)
            parts.append(f"ELSE {r.sql}")
        parts.append("END")
        return Rendered(" ".join(parts), _common_type(e, results), any(r.exact for r in results))

    # ------------------------------------------------------------- conditions
    def condition(self, c: ast.Condition, ctx: ExprContext) -> str:
        if isinstance(c, ast.And):
            return f"({self.condition(c.left, ctx)} AND {self.condition(c.right, ctx)})"
        if isinstance(c, ast.Or):
            alt = replace(ctx, conjunct=False)
            return f"({self.condition(c.left, alt)} OR {self.condition(c.right, alt)})"
        if isinstance(c, ast.Not):
            inner = replace(ctx, positive=False, conjunct=False)
            return f"(NOT {self.condition(c.operand, inner)})"
        if isinstance(c, ast.Comparison):
            if ctx.positive and ctx.where and ctx.conjunct and self.lateral_sites:
                from vo.adql.crossmatch import crossmatch_predicate

                xmatch = crossmatch_predicate(self, c, ctx, self.lateral_sites[-1])
                if xmatch is not None:
                    return xmatch
            if ctx.positive and ctx.where:
                from vo.adql.fastpath import fast_predicate

                fast = fast_predicate(self, c, ctx)
                if fast is not None:
                    return fast
            left, right = self.expr(c.left, ctx), self.expr(c.right, ctx)
            self.comparable(c, left, right)
            return f"({left.sql} {c.op} {right.sql})"
        if isinstance(c, ast.Between):
            vals = [self.expr(x, ctx) for x in (c.operand, c.low, c.high)]
            self.comparable(c, vals[0], vals[1])
            self.comparable(c, vals[0], vals[2])
            neg = "NOT " if c.negated else ""
            return f"({vals[0].sql} {neg}BETWEEN {vals[1].sql} AND {vals[2].sql})"
        if isinstance(c, ast.InList):
            left = self.expr(c.operand, ctx)
            vals = [self.expr(v, ctx) for v in c.values]
            for v in vals:
                self.comparable(c, left, v)
            neg = "NOT " if c.negated else ""
            return f"({left.sql} {neg}IN ({', '.join(v.sql for v in vals)}))"
        if isinstance(c, ast.InSubquery):
            left = self.expr(c.operand, ctx)
            sql, cols = self.subquery(c.query, ctx.scope)
            if len(cols) != 1:
                raise type_error(c, f"the subquery of IN must select one column, not {len(cols)}")
            self.comparable(c, left, Rendered("", cols[0]))
            neg = "NOT " if c.negated else ""
            return f"({left.sql} {neg}IN ({sql}))"
        if isinstance(c, ast.Like):
            left, pat = self.expr(c.operand, ctx), self.expr(c.pattern, ctx)
            for r in (left, pat):
                if r.type.kind not in ("string", "unknown", "null"):
                    raise type_error(c, f"LIKE compares strings, but got a {r.type.kind} value")
            op = ("NOT " if c.negated else "") + ("ILIKE" if c.case_insensitive else "LIKE")
            return f"({left.sql} {op} {pat.sql})"
        if isinstance(c, ast.IsNull):
            r = self.expr(c.operand, ctx)
            return f"({r.sql} IS {'NOT ' if c.negated else ''}NULL)"
        assert isinstance(c, ast.Exists)
        sql, _ = self.subquery(c.query, ctx.scope)
        return f"(EXISTS ({sql}))"

    def comparable(self, node: ast.Condition, a: Rendered, b: Rendered) -> None:
        ka, kb = a.type.kind, b.type.kind
        for k in (ka, kb):
            if k in ("point", "circle", "polygon", "geometry"):
                raise type_error(
                    node,
                    "geometries cannot be compared with = < > or BETWEEN; use "
                    "CONTAINS(...) = 1, INTERSECTS(...) = 1 or DISTANCE(...) (ADQL 2.1 sec. 4.2)",
                )
        if "unknown" in (ka, kb) or "null" in (ka, kb):
            return
        groups = [
            (
                "number"
                if k in ("short", "int", "long", "float", "double")
                else "text"
                if k in ("string", "timestamp")
                else k
            )
            for k in (ka, kb)
        ]
        if groups[0] != groups[1]:
            raise type_error(node, f"cannot compare a {ka} value with a {kb} value")


def _common_type(node: ast.Expr, results: list[Rendered]) -> ValueType:
    kinds = [r.type for r in results if r.type.kind != "null"]
    if not kinds:
        return NULL
    t = kinds[0]
    for other in kinds[1:]:
        if t.numeric and other.numeric:
            t = wider_numeric(t, other)
        elif other.kind != t.kind and "unknown" not in (t.kind, other.kind):
            raise type_error(node, f"the branches of CASE mix {t.kind} and {other.kind} values")
    return (
        replace(t, column=None) if t.column is not None else (t if t.kind != "unknown" else UNKNOWN)
    )
