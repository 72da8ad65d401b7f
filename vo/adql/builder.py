# mypy: disable-error-code="no-untyped-call"
"""Build the typed AST (vo.adql.ast) from the ANTLR parse tree.

Besides translating node by node, this is where the grammar's deliberate looseness
is tightened back to ADQL 2.1: name part counts (BNF <column_reference>,
<table_name>), reserved words as regular identifiers (sec. 2.1.3), the function
whitelist and argument counts (vo.adql.functions), CAST targets (sec. 4.9), join
specifications (sec. 2.2.3), and geometry constructors in arithmetic or ``||``
(sec. 4.2: geometries are not numbers or strings).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, cast

from antlr4 import ParserRuleContext

from vo.adql import ast
from vo.adql._generated.ADQLParser import ADQLParser as P
from vo.adql.callbuilder import CallBuilder, _fail, _pos
from vo.adql.errors import ADQLTypeError, UnknownFunctionError
from vo.adql.functions import GEOMETRY_CONSTRUCTORS
from vo.adql.reserved import RESERVED

SetOp = Literal["UNION", "EXCEPT", "INTERSECT"]


class AstBuilder(CallBuilder):
    """Turns one parse tree into an ``ast.Query``; ``udfs`` are extra UDF names allowed
    (syntax-only checks of corpora that declare their own UDFs)."""

    def __init__(self, udfs: Sequence[str] = ()) -> None:
        self.udfs = frozenset(u.upper() for u in udfs)

    # ------------------------------------------------------------------ query
    def query(self, ctx: P.QueryContext) -> ast.Query:
        with_: tuple[ast.CommonTable, ...] = ()
        if ctx.withClause() is not None:
            with_ = tuple(self.with_query(w) for w in ctx.withClause().withQuery())
        return ast.Query(body=self.select_expression(ctx.selectExpression()), with_=with_)

    def with_query(self, ctx: P.WithQueryContext) -> ast.CommonTable:
        idents = [self.identifier(i) for i in ctx.identifier()]
        return ast.CommonTable(
            name=idents[0],
            columns=tuple(idents[1:]),
            query=self.select_expression(ctx.selectExpression()),
            pos=_pos(ctx),
        )

    def select_expression(self, ctx: P.SelectExpressionContext) -> ast.QueryExpression:
        order: tuple[ast.OrderTerm, ...] = ()
        if ctx.orderByClause() is not None:
            order = tuple(
                ast.OrderTerm(self.expr(t.expr()), descending=t.DESC() is not None)
                for t in ctx.orderByClause().orderTerm()
            )
        offset = None
        if ctx.offsetClause() is not None:
            offset = int(ctx.offsetClause().UNSIGNED_INT().getText())
        return ast.QueryExpression(
            body=self.set_expression(ctx.querySetExpression()),
            order_by=order,
            offset=offset,
            pos=_pos(ctx),
        )

    def set_expression(self, ctx: P.QuerySetExpressionContext) -> ast.QueryBody:
        if isinstance(ctx, P.SetPrimaryContext):
            prim = ctx.querySetPrimary()
            if prim.selectQuery() is not None:
                return self.select(prim.selectQuery())
            inner = self.select_expression(prim.selectExpression())
            if not inner.order_by and inner.offset is None:
                return inner.body
            return inner
        assert isinstance(ctx, (P.SetIntersectContext, P.SetUnionContext))
        op = cast(
            SetOp,
            "INTERSECT"
            if isinstance(ctx, P.SetIntersectContext)
            else str(getattr(ctx.op, "text", "")).upper(),
        )
        return ast.SetOperation(
            op=op,
            all=ctx.ALL() is not None,
            left=self.set_expression(ctx.querySetExpression(0)),
            right=self.set_expression(ctx.querySetExpression(1)),
            pos=_pos(ctx),
        )

    def select(self, ctx: P.SelectQueryContext) -> ast.Select:
        sq = ctx.setQuantifier()
        top = int(ctx.UNSIGNED_INT().getText()) if ctx.TOP() is not None else None
        items: list[ast.SelectItem | ast.StarItem] = []
        sl = ctx.selectList()
        if sl.selectItem():
            for it in sl.selectItem():
                items.append(self.select_item(it))
        else:
            items.append(ast.StarItem(pos=_pos(sl)))
        return ast.Select(
            items=tuple(items),
            from_=tuple(self.table_reference(t) for t in ctx.fromClause().tableReference()),
            distinct=sq is not None and sq.DISTINCT() is not None,
            top=top,
            where=self.condition(ctx.whereClause().searchCondition())
            if ctx.whereClause()
            else None,
            group_by=tuple(self.expr(e) for e in ctx.groupByClause().expr())
            if ctx.groupByClause()
            else (),
            having=self.condition(ctx.havingClause().searchCondition())
            if ctx.havingClause()
            else None,
            pos=_pos(ctx),
        )

    def select_item(self, ctx: P.SelectItemContext) -> ast.SelectItem | ast.StarItem:
        if isinstance(ctx, P.AllItemContext):
            return ast.StarItem(pos=_pos(ctx))
        if isinstance(ctx, P.StarItemContext):
            parts = self.qualified_name(ctx.qualifiedName(), 3, "table")
            return ast.StarItem(qualifier=parts, pos=_pos(ctx))
        assert isinstance(ctx, P.ExprItemContext)
        alias = self.identifier(ctx.identifier()) if ctx.identifier() is not None else None
        return ast.SelectItem(expr=self.expr(ctx.expr()), alias=alias, pos=_pos(ctx))

    # ------------------------------------------------------------------- FROM
    def table_reference(self, ctx: P.TableReferenceContext) -> ast.FromItem:
        if isinstance(ctx, P.PlainTableContext):
            return self.table_primary(ctx.tablePrimary())
        left = self.table_reference(ctx.tableReference())
        right = self.table_primary(ctx.tablePrimary())
        if isinstance(ctx, P.CrossJoinContext):
            return ast.Join(left, right, kind="CROSS", pos=_pos(ctx))
        assert isinstance(ctx, P.QualifiedJoinContext)
        jt = ctx.joinType()
        kind = "INNER"
        if jt is not None and jt.INNER() is None:
            kind = (jt.LEFT() or jt.RIGHT() or jt.FULL()).getText().upper()
        natural = ctx.NATURAL() is not None
        spec = ctx.joinSpecification()
        if natural and spec is not None:
            raise _fail(spec, "a NATURAL JOIN takes no ON or USING; remove it or drop NATURAL")
        # No specification on a non-natural join: the BNF (<qualified_join>) allows it;
        # it means every pair of rows matches (translated as ON TRUE).
        on = None
        using: tuple[ast.Ident, ...] = ()
        if isinstance(spec, P.JoinOnContext):
            on = self.condition(spec.searchCondition())
        elif isinstance(spec, P.JoinUsingContext):
            using = tuple(self.identifier(i) for i in spec.identifier())
        return ast.Join(
            left,
            right,
            kind=cast(ast.JoinKind, kind),
            natural=natural,
            on=on,
            using=using,
            pos=_pos(ctx),
        )

    def table_primary(self, ctx: P.TablePrimaryContext) -> ast.FromItem:
        if isinstance(ctx, P.NamedTableContext):
            parts = self.qualified_name(ctx.qualifiedName(), 3, "table")
            alias = self.identifier(ctx.identifier()) if ctx.identifier() is not None else None
            return ast.TableRef(parts=parts, alias=alias, pos=_pos(ctx))
        if isinstance(ctx, P.DerivedTableContext):
            return ast.DerivedTable(
                query=self.select_expression(ctx.selectExpression()),
                alias=self.identifier(ctx.identifier()),
                pos=_pos(ctx),
            )
        assert isinstance(ctx, P.ParenTableContext)
        return self.table_reference(ctx.tableReference())

    # ------------------------------------------------------------- conditions
    def condition(self, ctx: P.SearchConditionContext) -> ast.Condition:
        if isinstance(ctx, P.PredicateConditionContext):
            return self.predicate(ctx.predicate())
        if isinstance(ctx, P.ParenConditionContext):
            return self.condition(ctx.searchCondition())
        if isinstance(ctx, P.NotConditionContext):
            return ast.Not(self.condition(ctx.searchCondition()), pos=_pos(ctx))
        if isinstance(ctx, P.AndConditionContext):
            return ast.And(
                self.condition(ctx.searchCondition(0)),
                self.condition(ctx.searchCondition(1)),
                pos=_pos(ctx),
            )
        assert isinstance(ctx, P.OrConditionContext)
        return ast.Or(
            self.condition(ctx.searchCondition(0)),
            self.condition(ctx.searchCondition(1)),
            pos=_pos(ctx),
        )

    def predicate(self, ctx: P.PredicateContext) -> ast.Condition:
        pos = _pos(ctx)
        if isinstance(ctx, P.ComparisonContext):
            op = ctx.compOp().getText()
            left, right = self.value(ctx.expr(0)), self.value(ctx.expr(1))
            return ast.Comparison("<>" if op == "!=" else op, left, right, pos=pos)
        if isinstance(ctx, P.BetweenContext):
            return ast.Between(
                self.value(ctx.expr(0)),
                self.value(ctx.expr(1)),
                self.value(ctx.expr(2)),
                negated=ctx.NOT() is not None,
                pos=pos,
            )
        if isinstance(ctx, P.InSubqueryContext):
            return ast.InSubquery(
                self.value(ctx.expr()),
                self.select_expression(ctx.selectExpression()),
                negated=ctx.NOT() is not None,
                pos=pos,
            )
        if isinstance(ctx, P.InListContext):
            exprs = [self.value(e) for e in ctx.expr()]
            return ast.InList(exprs[0], tuple(exprs[1:]), negated=ctx.NOT() is not None, pos=pos)
        if isinstance(ctx, P.LikeContext):
            return ast.Like(
                self.value(ctx.expr(0)),
                self.value(ctx.expr(1)),
                negated=ctx.NOT() is not None,
                case_insensitive=getattr(ctx.op, "type", None) == P.ILIKE,
                pos=pos,
            )
        if isinstance(ctx, P.IsNullContext):
            return ast.IsNull(self.expr(ctx.expr()), negated=ctx.NOT() is not None, pos=pos)
        if isinstance(ctx, P.BarePredicateContext):
            text = ctx.getText()
            hint = (
                f"{text} = 1" if re.match(r"(?i)(contains|intersects)\(", text) else f"{text} = ..."
            )
            raise _fail(
                ctx,
                f"a condition is needed here, not just a value: compare it, e.g. {hint}"
                " (ADQL has no boolean values; CONTAINS and INTERSECTS return 1 or 0)",
            )
        assert isinstance(ctx, P.ExistsContext)
        return ast.Exists(self.select_expression(ctx.selectExpression()), pos=pos)

    def value(self, ctx: P.ExprContext) -> ast.Expr:
        """An operand of a comparison-like predicate (geometries are refused later, by
        type, in vo.adql.analysis: the BNF admits them syntactically)."""
        return self.expr(ctx)

    @staticmethod
    def _no_geometry(e: ast.Expr, ctx: ParserRuleContext, what: str) -> None:
        if isinstance(e, ast.FunctionCall) and e.name in GEOMETRY_CONSTRUCTORS:
            line, col = _pos(ctx)
            raise ADQLTypeError(
                f"line {line}, column {col}: a geometry ({e.name}) cannot be {what}; "
                "use CONTAINS(...) = 1, INTERSECTS(...) = 1 or DISTANCE(...) (ADQL 2.1 sec. 4.2)"
            )

    # ------------------------------------------------------------ expressions
    def expr(self, ctx: P.ExprContext) -> ast.Expr:
        if isinstance(ctx, P.PrimaryExprContext):
            return self.primary(ctx.primary())
        pos = _pos(ctx)
        if isinstance(ctx, P.SignExprContext):
            operand = self.expr(ctx.expr())
            self._no_geometry(operand, ctx, "used in arithmetic")
            return ast.Unary(str(getattr(ctx.op, "text", "")), operand, pos=pos)
        left, right = self.expr(ctx.expr(0)), self.expr(ctx.expr(1))
        if isinstance(ctx, P.ConcatExprContext):
            op = "||"
            what = "concatenated with ||"
        else:
            op = str(getattr(ctx.op, "text", ""))
            what = "used in arithmetic"
        self._no_geometry(left, ctx, what)
        self._no_geometry(right, ctx, what)
        return ast.Binary(op, left, right, pos=pos)

    def primary(self, ctx: P.PrimaryContext) -> ast.Expr:
        pos = _pos(ctx)
        if isinstance(ctx, P.LiteralPrimaryContext):
            return self.literal(ctx.literal())
        if isinstance(ctx, P.ColumnPrimaryContext):
            return ast.ColumnRef(self.qualified_name(ctx.qualifiedName(), 4, "column"), pos=pos)
        if isinstance(ctx, P.FunctionCallContext):
            return self.function_call(ctx)
        if isinstance(ctx, P.StarCallContext):
            name = ctx.REGULAR_ID().getText().upper()
            if name != "COUNT":
                raise _fail(
                    ctx, f"only COUNT accepts *; {name}(*) is not ADQL", UnknownFunctionError
                )
            return ast.FunctionCall("COUNT", (), star=True, pos=pos)
        if isinstance(ctx, P.ParenPrimaryContext):
            return self.expr(ctx.expr())
        if isinstance(ctx, P.SubqueryPrimaryContext):
            return ast.ScalarSubquery(self.select_expression(ctx.selectExpression()), pos=pos)
        if isinstance(ctx, P.CastPrimaryContext):
            return ast.Cast(self.expr(ctx.expr()), self.cast_target(ctx.castTarget()), pos=pos)
        assert isinstance(ctx, P.CasePrimaryContext)
        exprs = ctx.expr()
        operand = None
        otherwise = None
        n_else = 1 if ctx.ELSE() is not None else 0
        if ctx.getChild(1) is not None and isinstance(ctx.getChild(1), P.ExprContext):
            operand = self.expr(exprs[0])
        if n_else:
            otherwise = self.expr(exprs[-1])
        whens: list[tuple[ast.Expr | ast.Condition, ast.Expr]] = []
        for w in ctx.whenClause():
            cond: ast.Expr | ast.Condition
            sc = w.searchCondition()
            if sc is not None and operand is not None:
                # CASE x WHEN 1: the grammar may read "1" as a (bare) condition; it is a value
                pred = sc.predicate() if isinstance(sc, P.PredicateConditionContext) else None
                if not isinstance(pred, P.BarePredicateContext):
                    raise _fail(w, "CASE <value> WHEN takes values to compare with, not conditions")
                cond = self.expr(pred.expr())
            elif sc is not None:
                cond = self.condition(sc)
            else:
                if operand is None:
                    raise _fail(w, "CASE WHEN needs a condition (e.g. WHEN x > 0 THEN ...)")
                cond = self.expr(w.expr(0))
            whens.append((cond, self.expr(w.expr()[-1])))
        return ast.Case(operand, tuple(whens), otherwise, pos=pos)

    def literal(self, ctx: P.LiteralContext) -> ast.Literal:
        pos = _pos(ctx)
        if isinstance(ctx, P.StringLiteralContext):
            value = "".join(s.getText()[1:-1].replace("''", "'") for s in ctx.STRING())
            return ast.Literal("string", value, pos=pos)
        if isinstance(ctx, P.IntLiteralContext):
            return ast.Literal("integer", int(ctx.getText()), pos=pos)
        if isinstance(ctx, P.DecimalLiteralContext):
            return ast.Literal("decimal", ctx.getText(), pos=pos)
        if isinstance(ctx, P.RealLiteralContext):
            return ast.Literal("real", ctx.getText().upper(), pos=pos)
        return ast.Literal("null", None, pos=pos)

    # ------------------------------------------------------------------ names
    def qualified_name(
        self, ctx: P.QualifiedNameContext, max_parts: int, what: str
    ) -> tuple[ast.Ident, ...]:
        parts = tuple(self.identifier(i) for i in ctx.identifier())
        if len(parts) > max_parts:
            raise _fail(
                ctx,
                f"a {what} name has at most {max_parts} dotted parts "
                f"({'catalog.schema.table' + ('.column' if what == 'column' else '')}); "
                f"{ctx.getText()} has {len(parts)}",
            )
        return parts

    def identifier(self, ctx: P.IdentifierContext) -> ast.Ident:
        tok = ctx.DELIMITED_ID()
        if tok is not None:
            return ast.Ident(tok.getText()[1:-1].replace('""', '"'), delimited=True)
        text = ctx.getText()
        if text.upper() in RESERVED:
            raise _fail(
                ctx,
                f"{text} is a reserved word of ADQL; to use it as a name, "
                f'write it in double quotes: "{text}" (ADQL 2.1 sec. 2.1.3)',
            )
        return ast.Ident(text, delimited=False)
