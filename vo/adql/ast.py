"""The typed ADQL 2.1 abstract syntax tree (ADQL 2.1 sec. 2.2 query syntax).

Immutable dataclasses built from the ANTLR parse tree by ``vo.adql.builder``.
Keywords and function names are normalised to upper case; identifiers keep their
spelling and whether they were delimited (ADQL 2.1 sec. 2.1.3-2.1.4: regular
identifiers match case-insensitively, delimited ones exactly). ``pos`` is the
(line, column) of the node's first token, for error messages; it does not take
part in equality, so equal queries give equal trees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

Pos = tuple[int, int]


def _pos() -> Pos:
    return field(default=(0, 0), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Ident:
    """An identifier: a regular one (case-insensitive) or a delimited one (exact)."""

    name: str  # without the double quotes, doubled quotes undone
    delimited: bool = False

    def matches(self, other_name: str, other_delimited: bool) -> bool:
        """ADQL 2.1 sec. 2.1.4: regular identifiers compare case-insensitively."""
        if self.delimited and other_delimited:
            return self.name == other_name
        if not self.delimited and not other_delimited:
            return self.name.lower() == other_name.lower()
        regular, exact = (self.name, other_name) if not self.delimited else (other_name, self.name)
        return regular.lower() == exact

    @property
    def text(self) -> str:
        """How the user wrote it (for messages)."""
        return '"' + self.name.replace('"', '""') + '"' if self.delimited else self.name


# ---------------------------------------------------------------- expressions

LiteralKind = TypingLiteral["string", "integer", "decimal", "real", "null"]


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal value; ``value`` is the decoded string, int, text of a decimal, or None."""

    kind: LiteralKind
    value: str | int | None
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """``[[[catalog.]schema.]table.]column`` (ADQL 2.1 BNF <column_reference>)."""

    parts: tuple[Ident, ...]
    pos: Pos = _pos()

    @property
    def column(self) -> Ident:
        return self.parts[-1]

    @property
    def qualifier(self) -> tuple[Ident, ...]:
        return self.parts[:-1]


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """A call of an ADQL function, an aggregate or a UDF (name upper-cased).

    ``coordsys`` keeps the deprecated coordinate-system first argument of POINT,
    CIRCLE, BOX and POLYGON (ADQL 2.1 sec. 4.2.3), already removed from ``args``.
    """

    name: str
    args: tuple[Expr, ...]
    distinct: bool = False
    star: bool = False  # COUNT(*)
    coordsys: str | None = None
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # '+' or '-'
    operand: Expr
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / ||
    left: Expr
    right: Expr
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class CastType:
    """ADQL 2.1 sec. 4.9 CAST targets: CHAR(n), VARCHAR(n), SMALLINT, INTEGER, BIGINT,
    REAL, DOUBLE PRECISION, TIMESTAMP, POINT, CIRCLE, POLYGON."""

    name: str
    length: int | None = None


@dataclass(frozen=True, slots=True)
class Cast:
    operand: Expr
    target: CastType
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Case:
    """CASE [operand] WHEN ... THEN ... [ELSE ...] END (SQL-92 sec. 6.9; beyond ADQL 2.1)."""

    operand: Expr | None
    whens: tuple[tuple[Expr | Condition, Expr], ...]
    otherwise: Expr | None
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class ScalarSubquery:
    query: QueryExpression
    pos: Pos = _pos()


Expr = Literal | ColumnRef | FunctionCall | Unary | Binary | Cast | Case | ScalarSubquery

# ----------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class Comparison:
    op: str  # = <> < > <= >=   ('!=' is normalised to '<>')
    left: Expr
    right: Expr
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Between:
    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class InList:
    operand: Expr
    values: tuple[Expr, ...]
    negated: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class InSubquery:
    operand: Expr
    query: QueryExpression
    negated: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Like:
    operand: Expr
    pattern: Expr
    negated: bool = False
    case_insensitive: bool = False  # ILIKE, ADQL 2.1 sec. 4.8.3
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class IsNull:
    operand: Expr
    negated: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Exists:
    query: QueryExpression
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class And:
    left: Condition
    right: Condition
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Or:
    left: Condition
    right: Condition
    pos: Pos = _pos()


Condition = Comparison | Between | InList | InSubquery | Like | IsNull | Exists | Not | And | Or

# ------------------------------------------------------------- FROM and query


@dataclass(frozen=True, slots=True)
class TableRef:
    """A named table ``[[catalog.]schema.]table [AS alias]``."""

    parts: tuple[Ident, ...]
    alias: Ident | None = None
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class DerivedTable:
    query: QueryExpression
    alias: Ident
    pos: Pos = _pos()


JoinKind = TypingLiteral["INNER", "LEFT", "RIGHT", "FULL", "CROSS"]


@dataclass(frozen=True, slots=True)
class Join:
    left: FromItem
    right: FromItem
    kind: JoinKind = "INNER"
    natural: bool = False
    on: Condition | None = None
    using: tuple[Ident, ...] = ()
    pos: Pos = _pos()


FromItem = TableRef | DerivedTable | Join


@dataclass(frozen=True, slots=True)
class SelectItem:
    expr: Expr
    alias: Ident | None = None
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class StarItem:
    """``*`` (qualifier empty) or ``t.*``."""

    qualifier: tuple[Ident, ...] = ()
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Select:
    items: tuple[SelectItem | StarItem, ...]
    from_: tuple[FromItem, ...]
    distinct: bool = False
    top: int | None = None
    where: Condition | None = None
    group_by: tuple[Expr, ...] = ()
    having: Condition | None = None
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class SetOperation:
    """UNION / EXCEPT / INTERSECT [ALL] (ADQL 2.1 sec. 4.6)."""

    op: TypingLiteral["UNION", "EXCEPT", "INTERSECT"]
    all: bool
    left: QueryBody
    right: QueryBody
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class OrderTerm:
    expr: Expr
    descending: bool = False


@dataclass(frozen=True, slots=True)
class QueryExpression:
    """A query body with its ORDER BY and OFFSET (ADQL 2.1 BNF <select_expression>)."""

    body: QueryBody
    order_by: tuple[OrderTerm, ...] = ()
    offset: int | None = None
    pos: Pos = _pos()


QueryBody = Select | SetOperation | QueryExpression


@dataclass(frozen=True, slots=True)
class CommonTable:
    """One ``name [(columns)] AS (query)`` of a WITH clause (ADQL 2.1 sec. 4.5)."""

    name: Ident
    columns: tuple[Ident, ...]
    query: QueryExpression
    pos: Pos = _pos()


@dataclass(frozen=True, slots=True)
class Query:
    """A whole ADQL query: optional WITH, then the query expression."""

    body: QueryExpression
    with_: tuple[CommonTable, ...] = ()
