"""Name scopes of a query: the range variables of FROM and how columns resolve.

Every table in FROM becomes a ``RangeVar`` with a generated SQL alias (``t1``,
``t2``...), so no name the user wrote ever reaches the SQL text: columns are
written as ``"t1"."<physical name>"`` from metadata (vo.meta.quote_ident).
Correlated subqueries see the enclosing scopes (ADQL 2.1 sec. 2.2.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vo.adql.ast import ColumnRef, Ident
from vo.adql.errors import AmbiguousNameError, UnknownColumnError
from vo.adql.schema import name_matches, split_table_name, suggest_names
from vo.adql.types import ValueType
from vo.meta import TableMeta, quote_ident


@dataclass
class ScopeColumn:
    """A column a range variable offers: TAP name, SQL name within the range, type."""

    name: str  # TAP_SCHEMA spelling (quoted if delimited) or the output name of a subquery
    sql_name: str  # physical (base table) or output name (derived table / CTE), unquoted
    type: ValueType


@dataclass
class RangeVar:
    """One FROM item: a base table, a derived table or a CTE reference."""

    sql_alias: str
    columns: list[ScopeColumn]
    alias: Ident | None = None  # user's correlation name
    table: TableMeta | None = None  # base tables only
    name_parts: tuple[str, ...] = ()  # TAP name parts of a base table or CTE name
    merged: set[str] = field(default_factory=set)  # sql names merged by USING/NATURAL (right side)
    merged_sql: dict[str, str] = field(default_factory=dict)  # left side: sql name -> merged value

    def matches_qualifier(self, qualifier: tuple[Ident, ...]) -> bool:
        if self.alias is not None:
            return len(qualifier) == 1 and qualifier[0].matches(
                self.alias.name, self.alias.delimited
            )
        parts = self.name_parts
        q = qualifier[-2:]
        if len(q) > len(parts):
            return False
        return all(name_matches(u, p) for u, p in zip(reversed(q), reversed(parts), strict=False))

    def find(self, ident: Ident) -> list[ScopeColumn]:
        return [c for c in self.columns if name_matches(ident, c.name)]

    def sql(self, col: ScopeColumn) -> str:
        return f"{quote_ident(self.sql_alias)}.{quote_ident(col.sql_name)}"


def base_range(table: TableMeta, sql_alias: str, alias: Ident | None) -> RangeVar:
    from vo.adql.types import column_type

    cols = [ScopeColumn(c.name, c.physical, column_type(c)) for c in table.columns]
    return RangeVar(
        sql_alias, cols, alias=alias, table=table, name_parts=split_table_name(table.table_name)
    )


@dataclass
class Resolved:
    """A resolved column reference: its SQL text and type, and where it came from."""

    sql: str
    type: ValueType
    range: RangeVar | None
    column: ScopeColumn | None


@dataclass
class Scope:
    """The range variables visible at one query level, plus the enclosing levels."""

    parent: Scope | None = None
    ranges: list[RangeVar] = field(default_factory=list)
    using_columns: dict[str, tuple[str, ValueType]] = field(default_factory=dict)  # TAP name -> sql

    def resolve(self, ref: ColumnRef) -> Resolved:
        scope: Scope | None = self
        while scope is not None:
            hit = scope._resolve_here(ref)
            if hit is not None:
                return hit
            scope = scope.parent
        raise self._unknown(ref)

    def _resolve_here(self, ref: ColumnRef) -> Resolved | None:
        col = ref.column
        if not ref.qualifier:
            for name, (sql, t) in self.using_columns.items():
                if name_matches(col, name):
                    return Resolved(sql, t, None, None)
            hits = [(r, c) for r in self.ranges for c in r.find(col)]
            if len(hits) > 1:
                where = ", ".join(sorted({_range_label(r) for r, _ in hits}))
                raise AmbiguousNameError(
                    f"column {col.text} is ambiguous: it is in {where}; qualify it, e.g. "
                    f"{_range_label(hits[0][0])}.{col.text}"
                )
            if hits:
                r, c = hits[0]
                return Resolved(r.sql(c), c.type, r, c)
            return None
        ranges = [r for r in self.ranges if r.matches_qualifier(ref.qualifier)]
        if len(ranges) > 1:
            raise AmbiguousNameError(
                f"table {'.'.join(q.text for q in ref.qualifier)} appears more than once "
                "in FROM; give each a different alias (AS name)"
            )
        if not ranges:
            return None
        cols = ranges[0].find(col)
        if len(cols) > 1:
            raise AmbiguousNameError(f"column {col.text} is ambiguous in {_range_label(ranges[0])}")
        if not cols:
            raise UnknownColumnError(
                f"table {_range_label(ranges[0])} has no column {col.text}"
                f"{suggest_names(col.name, [c.name for c in ranges[0].columns])}"
            )
        return Resolved(ranges[0].sql(cols[0]), cols[0].type, ranges[0], cols[0])

    def _unknown(self, ref: ColumnRef) -> UnknownColumnError:
        written = ".".join(p.text for p in ref.parts)
        if ref.qualifier:
            return UnknownColumnError(
                f"{written}: no table or alias {'.'.join(q.text for q in ref.qualifier)} in FROM; "
                "qualify columns with a table name or alias that the FROM clause introduces"
            )
        names = [c.name for s in self._chain() for r in s.ranges for c in r.columns]
        return UnknownColumnError(
            f"unknown column {written}{suggest_names(ref.column.name, names)}"
        )

    def _chain(self) -> list[Scope]:
        out: list[Scope] = []
        s: Scope | None = self
        while s is not None:
            out.append(s)
            s = s.parent
        return out

    def find_range(self, qualifier: tuple[Ident, ...]) -> RangeVar:
        ranges = [r for r in self.ranges if r.matches_qualifier(qualifier)]
        written = ".".join(q.text for q in qualifier)
        if not ranges:
            raise UnknownColumnError(f"{written}.*: no table or alias {written} in FROM")
        if len(ranges) > 1:
            raise AmbiguousNameError(f"{written}.*: {written} appears more than once in FROM")
        return ranges[0]


def _range_label(r: RangeVar) -> str:
    if r.alias is not None:
        return r.alias.text
    return ".".join(r.name_parts) if r.name_parts else r.sql_alias
