# mypy: disable-error-code="no-untyped-call"
"""Function calls and CAST targets of the AST builder: the whitelist, argument counts,
the deprecated coordinate-system argument and the shapes of geometry constructors
(ADQL 2.1 sec. 2.3, 4.2, 4.9; vo.adql.functions holds the whitelist as data)."""

from __future__ import annotations

from antlr4 import ParserRuleContext
from antlr4.Token import Token

from vo.adql import ast
from vo.adql._generated.ADQLParser import ADQLParser as P
from vo.adql.errors import ADQLSyntaxError, UnknownFunctionError
from vo.adql.functions import COORDSYS_FUNCTIONS, FUNCTIONS

CAST_TYPES = frozenset(
    {
        "CHAR",
        "VARCHAR",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "REAL",
        "DOUBLE PRECISION",
        "TIMESTAMP",
        "POINT",
        "CIRCLE",
        "POLYGON",
    }
)


def _pos(ctx: ParserRuleContext) -> ast.Pos:
    tok: Token = ctx.start
    return (tok.line, tok.column + 1)


def _fail(
    ctx: ParserRuleContext, message: str, cls: type[ADQLSyntaxError] = ADQLSyntaxError
) -> ADQLSyntaxError:
    line, col = _pos(ctx)
    return cls(message, line=line, column=col, offending=ctx.getText())


class CallBuilder:
    """Mixin of ``AstBuilder`` for function calls and CAST targets."""

    udfs: frozenset[str]

    def expr(self, ctx: P.ExprContext) -> ast.Expr:
        raise NotImplementedError

    def cast_target(self, ctx: P.CastTargetContext) -> ast.CastType:
        name = " ".join(t.getText().upper() for t in ctx.REGULAR_ID())
        length = int(ctx.UNSIGNED_INT().getText()) if ctx.UNSIGNED_INT() is not None else None
        if name not in CAST_TYPES or (length is not None and name not in ("CHAR", "VARCHAR")):
            raise _fail(
                ctx,
                f"cannot CAST to {ctx.getText()}: ADQL 2.1 sec. 4.9 allows CHAR(n), VARCHAR(n), "
                "SMALLINT, INTEGER, BIGINT, REAL, DOUBLE PRECISION, TIMESTAMP, "
                "POINT, CIRCLE, POLYGON",
            )
        return ast.CastType(name, length)

    def function_call(self, ctx: P.FunctionCallContext) -> ast.FunctionCall:
        name = ctx.REGULAR_ID().getText().upper()
        args = [self.expr(e) for e in ctx.expr()]
        sq = ctx.setQuantifier()
        spec = FUNCTIONS.get(name)
        if spec is None and name not in self.udfs:
            raise _fail(
                ctx,
                f"unknown function {name.lower()}(): it is neither an ADQL 2.1 function nor a "
                "user-defined function of this service (see the service capabilities)",
                UnknownFunctionError,
            )
        if sq is not None and (spec is None or not spec.aggregate):
            raise _fail(
                ctx, f"{sq.getText()} is only allowed inside an aggregate such as COUNT or SUM"
            )
        coordsys = None
        if name in COORDSYS_FUNCTIONS and args:
            first = args[0]
            deprecated_cs = isinstance(first, ast.Literal) and first.kind in ("string", "null")
            if (
                deprecated_cs
                or (name == "POINT" and len(args) == 3)
                or (name == "CIRCLE" and len(args) == 4)
                or (name == "BOX" and len(args) == 5)
            ):
                if not deprecated_cs:
                    raise _fail(
                        ctx, f"the first argument of {name} must be a coordinate system string"
                    )
                assert isinstance(first, ast.Literal)
                coordsys = first.value if isinstance(first.value, str) else ""
                args = args[1:]
        if name in ("CIRCLE", "BOX", "POLYGON") and args:
            self._check_geometry_form(ctx, name, args)
        if spec is not None:
            n = len(args)
            if (
                n < spec.min_args
                or (spec.max_args is not None and n > spec.max_args)
                or (name == "DISTANCE" and n == 3)
            ):
                want = (
                    str(spec.min_args)
                    if spec.min_args == spec.max_args
                    else f"{spec.min_args} or more"
                    if spec.max_args is None
                    else f"{spec.min_args} to {spec.max_args}"
                )
                if name == "DISTANCE":
                    want = "2 (points) or 4 (ra1, dec1, ra2, dec2)"
                noun = "argument" if want == "1" else "arguments"
                raise _fail(ctx, f"{name} takes {want} {noun}, not {n}", UnknownFunctionError)
        return ast.FunctionCall(
            name,
            tuple(args),
            distinct=sq is not None and sq.DISTINCT() is not None,
            coordsys=coordsys,
            pos=_pos(ctx),
        )

    @staticmethod
    def _check_geometry_form(ctx: P.FunctionCallContext, name: str, args: list[ast.Expr]) -> None:
        """CIRCLE(point, r) / BOX(point, w, h) / POLYGON(p1, p2, p3, ...) take points where
        a number literal cannot stand; with coordinates they need ra, dec pairs (sec. 4.2)."""

        def is_number(e: ast.Expr) -> bool:
            if isinstance(e, ast.Unary):
                return is_number(e.operand)
            return isinstance(e, ast.Literal) and e.kind in ("integer", "decimal", "real")

        n = len(args)
        point_form = {"CIRCLE": n == 2, "BOX": n == 3, "POLYGON": n < 6 or n % 2 == 1}[name]
        if point_form and is_number(args[0]):
            want = {
                "CIRCLE": "CIRCLE(ra, dec, radius) or CIRCLE(point, radius)",
                "BOX": "BOX(ra, dec, width, height) or BOX(point, width, height)",
                "POLYGON": "POLYGON(ra1, dec1, ra2, dec2, ra3, dec3, ...) "
                "with at least 3 vertices, "
                "or POLYGON(point1, point2, point3, ...)",
            }[name]
            raise _fail(ctx, f"wrong arguments for {name}: write {want}", UnknownFunctionError)
