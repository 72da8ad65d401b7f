"""Per-node rewrite of ADQL queries to PostgreSQL: WITH, set operations, SELECT,
FROM/joins, GROUP BY, HAVING, ORDER BY, TOP/OFFSET and MAXREC (ADQL 2.1 sec. 2.2;
TAP 1.1 sec. 2.7.4 MAXREC: ``LIMIT maxrec+1`` lets the writer see the overflow).

Tables are written from metadata (``TableMeta.db_schema``/``db_table``), every
range gets a generated alias, NATURAL/USING joins become explicit ON equalities
over the visible columns (so the hidden hpx/cx/cy/cz columns never take part),
and ``*`` is expanded here, in TAP_SCHEMA column order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vo.adql import ast
from vo.adql.crossmatch import LateralSite
from vo.adql.errors import ADQLTypeError, AmbiguousNameError, UnknownColumnError
from vo.adql.expressions import ExprContext, ExpressionTranslator, Rendered, type_error
from vo.adql.literals import INT8_MAX
from vo.adql.schema import SchemaIndex, name_matches
from vo.adql.scope import RangeVar, Resolved, Scope, ScopeColumn, base_range
from vo.adql.types import ValueType, result_column
from vo.meta import ColumnMeta, TableMeta, quote_ident, unquote


@dataclass
class Output:
    """One result column of a query level: TAP-style name, SQL output name, type."""

    name: str
    sql_name: str
    sql: str
    type: ValueType
    exact: bool = False


@dataclass
class Translator(ExpressionTranslator):
    """Translates one query; not shared between threads (it counts aliases)."""

    index: SchemaIndex
    fast_path: bool = True
    tables_used: dict[str, TableMeta] = field(default_factory=dict)
    ctes: dict[str, tuple[str, str, list[ScopeColumn]]] = field(default_factory=dict)
    fast_paths_taken: int = 0
    lateral_sites: list[LateralSite] = field(default_factory=list)
    _n: int = 0

    def next_alias(self, prefix: str = "t") -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def note_column(self, res: Resolved) -> None:
        """Hook for column use (nothing to record yet)."""

    # ------------------------------------------------------------ top level
    def query(self, q: ast.Query, maxrec: int | None = None) -> tuple[str, list[ColumnMeta]]:
        with_sql = ""
        if q.with_:
            parts = []
            for cte in q.with_:
                if any(
                    ast.Ident(unquote(k), True).matches(cte.name.name, cte.name.delimited)
                    for k in self.ctes
                ):
                    raise AmbiguousNameError(f"the WITH query {cte.name.text} is defined twice")
                sql, outs = self.query_expression(cte.query, None)
                alias = self.next_alias("w")
                if cte.columns:
                    if len(cte.columns) != len(outs):
                        raise ADQLTypeError(
                            f"WITH {cte.name.text} names {len(cte.columns)} columns "
                            f"but its query selects {len(outs)}",
                        )
                    cols = [
                        ScopeColumn(_tap_name(c), c.name, o.type)
                        for c, o in zip(cte.columns, outs, strict=True)
                    ]
                    collist = " (" + ", ".join(quote_ident(c.sql_name) for c in cols) + ")"
                else:
                    cols = [ScopeColumn(o.name, o.sql_name, o.type) for o in outs]
                    collist = ""
                self.ctes[_tap_name(cte.name)] = (alias, cte.name.text, cols)
                parts.append(f"{quote_ident(alias)}{collist} AS ({sql})")
            with_sql = "WITH " + ", ".join(parts) + " "
        sql, outs = self.query_expression(q.body, None, maxrec=maxrec)
        return with_sql + sql, [result_column(o.name, o.type) for o in outs]

    def subquery(self, qe: ast.QueryExpression, scope: Scope) -> tuple[str, list[ValueType]]:
        sql, outs = self.query_expression(qe, scope)
        return sql, [o.type for o in outs]

    # ----------------------------------------------------- query expressions
    def query_expression(
        self,
        qe: ast.QueryExpression | ast.QueryBody,
        parent: Scope | None,
        maxrec: int | None = None,
    ) -> tuple[str, list[Output]]:
        if not isinstance(qe, ast.QueryExpression):
            qe = ast.QueryExpression(qe)
        body = qe.body
        limit: int | None = None
        if isinstance(body, ast.Select):
            sql, outs, scope, aliases = self.select(body, parent)
            limit = body.top
        else:
            sql, outs = self.body(body, parent)
            scope, aliases = None, {}
        if qe.order_by:
            sql += " ORDER BY " + ", ".join(
                self.order_term(t, outs, scope, aliases) for t in qe.order_by
            )
        if maxrec is not None:
            limit = maxrec + 1 if limit is None else min(limit, maxrec + 1)
        if limit is not None:
            sql += f" LIMIT {min(int(limit), INT8_MAX)}"
        if qe.offset is not None:
            sql += f" OFFSET {min(int(qe.offset), INT8_MAX)}"
        return sql, outs

    def body(self, b: ast.QueryBody, parent: Scope | None) -> tuple[str, list[Output]]:
        """A set-operation operand: parenthesised, with its own ORDER BY/TOP/OFFSET."""
        if isinstance(b, ast.SetOperation):
            lsql, louts = self.body(b.left, parent)
            rsql, routs = self.body(b.right, parent)
            if len(louts) != len(routs):
                raise ADQLTypeError(
                    f"{b.op} needs the same number of columns on both sides "
                    f"({len(louts)} vs {len(routs)})"
                )
            for lo, ro in zip(louts, routs, strict=True):
                if lo.type.numeric != ro.type.numeric and "null" not in (
                    lo.type.kind,
                    ro.type.kind,
                ):
                    raise ADQLTypeError(
                        f"{b.op}: column {lo.name} is {lo.type.kind} on one side and "
                        f"{ro.type.kind} on the other"
                    )
            op = b.op + (" ALL" if b.all else "")
            return f"({lsql}) {op} ({rsql})", louts
        sql, outs = self.query_expression(b, parent)
        return sql, outs

    def order_term(
        self,
        t: ast.OrderTerm,
        outs: list[Output],
        scope: Scope | None,
        aliases: dict[str, Rendered],
    ) -> str:
        direction = " DESC" if t.descending else " ASC"
        e = t.expr
        if isinstance(e, ast.Literal) and e.kind == "integer":
            assert isinstance(e.value, int)
            if not 1 <= e.value <= len(outs):
                raise type_error(
                    e, f"ORDER BY {e.value}: there are only {len(outs)} columns to sort by"
                )
            return f"{int(e.value)}{direction}"
        if isinstance(e, ast.ColumnRef) and not e.qualifier:
            hits = [o for o in outs if name_matches(e.column, o.name)]
            if len(hits) >= 1 and (scope is None or _output_named(e.column, aliases)):
                return quote_ident(hits[0].sql_name) + direction
        if scope is None:
            raise UnknownColumnError(
                _pos(e) + "ORDER BY after UNION/EXCEPT/INTERSECT can only name result "
                "columns or their positions"
            )
        plain = isinstance(e, ast.ColumnRef)  # a bare column sorts as selected (booleans too)
        r = self.expr(e, ExprContext(scope, aggregates=True, select_item=plain))
        return r.sql + direction

    # ---------------------------------------------------------------- SELECT
    def select(
        self, s: ast.Select, parent: Scope | None
    ) -> tuple[str, list[Output], Scope, dict[str, Rendered]]:
        scope = Scope(parent=parent)
        from_sql = ", ".join(self.from_item(f, scope) for f in s.from_)
        outs: list[Output] = []
        aliases: dict[str, Rendered] = {}
        used: set[str] = set()
        for item in s.items:
            if isinstance(item, ast.StarItem):
                ranges = [scope.find_range(item.qualifier)] if item.qualifier else scope.ranges
                for r in ranges:
                    for c in r.columns:
                        if not item.qualifier and c.sql_name in r.merged:
                            continue
                        value = r.merged_sql.get(c.sql_name, r.sql(c))
                        outs.append(
                            Output(c.name, self._unique(unquote(c.name), used), value, c.type)
                        )
                continue
            rendered = self.expr(item.expr, ExprContext(scope, aggregates=True, select_item=True))
            if item.alias is not None:
                name = _tap_name(item.alias)
                aliases[_key(item.alias)] = rendered
            elif isinstance(item.expr, ast.ColumnRef):
                name = (
                    rendered.type.column.name
                    if rendered.type.column is not None
                    else item.expr.column.name
                )
            elif isinstance(item.expr, ast.FunctionCall):
                name = item.expr.name.lower()
            else:
                name = "expr"
            sql_name = self._unique(unquote(name), used)
            if item.alias is None and isinstance(
                item.expr,
                (ast.FunctionCall, ast.Unary, ast.Binary, ast.Cast, ast.Case, ast.Literal),
            ):
                name = sql_name
            outs.append(Output(name, sql_name, rendered.sql, rendered.type, rendered.exact))
        cols = []
        for o in outs:
            sql = f"CAST({o.sql} AS double precision)" if o.exact else o.sql
            cols.append(f"{sql} AS {quote_ident(o.sql_name)}")
        sql = (
            "SELECT " + ("DISTINCT " if s.distinct else "") + ", ".join(cols) + " FROM " + from_sql
        )
        if s.where is not None:
            site = LateralSite(list(scope.ranges))
            self.lateral_sites.append(site)
            try:
                where = self.condition(s.where, ExprContext(scope, where=True, conjunct=True))
            finally:
                self.lateral_sites.pop()
            if site.laterals:
                # DESIGN.md HEALPix step 5: crossmatch ranges joined after the FROM items
                sql += "".join(", " + lateral for _, lateral in site.laterals)
            sql += " WHERE " + where
        if s.group_by:
            sql += " GROUP BY " + ", ".join(self.group_term(g, scope, aliases) for g in s.group_by)
        if s.having is not None:
            sql += " HAVING " + self.condition(s.having, ExprContext(scope, aggregates=True))
        for o in outs:
            o.exact = False  # already cast above
            if o.type.kind != "boolean" and o.type.column is None and o.type.kind == "unknown":
                o.type = ValueType("unknown")
        return sql, outs, scope, aliases

    @staticmethod
    def _unique(name: str, used: set[str]) -> str:
        base, n = name, 1
        while name.lower() in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name.lower())
        return name

    def group_term(self, g: ast.Expr, scope: Scope, aliases: dict[str, Rendered]) -> str:
        """A GROUP BY term; a plain column stays as in the select list (booleans too), and
        an unknown bare name may be a select-list alias (as PostgreSQL allows)."""
        plain = ExprContext(scope, select_item=True)
        if isinstance(g, ast.ColumnRef) and not g.qualifier:
            try:
                return self.expr(g, plain).sql
            except UnknownColumnError:
                hit = _output_named(g.column, aliases)
                if hit is None:
                    raise
                return hit.sql
        return self.expr(g, plain if isinstance(g, ast.ColumnRef) else ExprContext(scope)).sql

    # ------------------------------------------------------------------ FROM
    def from_item(self, f: ast.FromItem, scope: Scope) -> str:
        if isinstance(f, ast.TableRef):
            return self.table_ref(f, scope)
        if isinstance(f, ast.DerivedTable):
            sql, outs = self.query_expression(f.query, scope.parent)
            alias = self.next_alias()
            cols = [ScopeColumn(o.name, o.sql_name, o.type) for o in outs]
            scope.ranges.append(RangeVar(alias, cols, alias=f.alias))
            return f"({sql}) AS {quote_ident(alias)}"
        return self.join(f, scope)

    def table_ref(self, f: ast.TableRef, scope: Scope) -> str:
        if len(f.parts) == 1:
            for key, (cte_alias, _cte_name, cols) in self.ctes.items():
                if name_matches(f.parts[0], key):
                    alias = self.next_alias()
                    scope.ranges.append(
                        RangeVar(alias, list(cols), alias=f.alias, name_parts=(key,))
                    )
                    return f"{quote_ident(cte_alias)} AS {quote_ident(alias)}"
        meta = self.index.find(f.parts)
        self.tables_used.setdefault(meta.table_name, meta)
        alias = self.next_alias()
        scope.ranges.append(base_range(meta, alias, f.alias))
        db_schema = meta.db_schema or unquote(meta.schema_name)
        db_table = meta.db_table or unquote(meta.table_name.split(".")[-1])
        return f"{quote_ident(db_schema)}.{quote_ident(db_table)} AS {quote_ident(alias)}"

    def join(self, j: ast.Join, scope: Scope) -> str:
        n_before = len(scope.ranges)
        left_sql = self.from_item(j.left, scope)
        n_left = len(scope.ranges)
        right_sql = self.from_item(j.right, scope)
        left_ranges, right_ranges = scope.ranges[:n_left], scope.ranges[n_left:]
        kind = {
            "INNER": "INNER JOIN",
            "LEFT": "LEFT OUTER JOIN",
            "RIGHT": "RIGHT OUTER JOIN",
            "FULL": "FULL OUTER JOIN",
            "CROSS": "CROSS JOIN",
        }[j.kind]
        if j.kind == "CROSS":
            return f"({left_sql} CROSS JOIN {right_sql})"
        if j.on is not None:
            site = LateralSite(scope.ranges[n_before:])  # this join's tables only
            if j.kind == "LEFT" and isinstance(j.right, ast.TableRef):
                site.preserved, site.inner = left_ranges[n_before:], right_ranges[0]
            inner = j.kind == "INNER" or site.inner is not None
            if inner:
                self.lateral_sites.append(site)
            try:
                cond = self.condition(j.on, ExprContext(scope, where=inner, conjunct=inner))
            finally:
                if inner:
                    self.lateral_sites.pop()
            if site.inner is not None and site.laterals:
                # DESIGN.md step 5 for a LEFT JOIN: the whole ON inside a LATERAL subquery
                # driven by the preserved row's ranges; no match leaves it once, with NULLs
                ca = quote_ident(site.inner.sql_alias)
                ranges = " CROSS JOIN ".join(lateral for _, lateral in site.laterals)
                return (
                    f"({left_sql} LEFT OUTER JOIN LATERAL (SELECT {ca}.* FROM {ranges}"
                    f" CROSS JOIN {right_sql} WHERE {cond}) AS {ca} ON TRUE)"
                )
            for u, lateral in site.laterals:
                # the crossmatch ranges of u join right after u's side (DESIGN.md step 5)
                if any(r is u for r in scope.ranges[n_before:n_left]):
                    left_sql = f"({left_sql} CROSS JOIN {lateral})"
                else:
                    right_sql = f"({right_sql} CROSS JOIN {lateral})"
        elif j.natural or j.using:
            cond = self.merge_columns(j, left_ranges, right_ranges, scope)
        else:
            cond = "TRUE"  # BNF <qualified_join> without <join_specification>
        return f"({left_sql} {kind} {right_sql} ON {cond})"

    def merge_columns(
        self, j: ast.Join, left: list[RangeVar], right: list[RangeVar], scope: Scope
    ) -> str:
        """NATURAL / USING (ADQL 2.1 sec. 2.2.3): equalities over the named or common
        visible columns; the merged column is the left one (COALESCE for FULL)."""
        pairs: list[tuple[str, RangeVar, ScopeColumn, RangeVar, ScopeColumn]] = []
        if j.natural:
            for rr in right:
                for rc in rr.columns:
                    lhits = [
                        (lr, lc)
                        for lr in left
                        for lc in lr.columns
                        if name_matches(
                            ast.Ident(unquote(rc.name), rc.name.startswith('"')), lc.name
                        )
                    ]
                    if len(lhits) == 1:
                        pairs.append((rc.name, lhits[0][0], lhits[0][1], rr, rc))
        else:
            for ident in j.using:
                lhits = [(lr, c) for lr in left for c in lr.find(ident)]
                rhits = [(rr, c) for rr in right for c in rr.find(ident)]
                if len(lhits) != 1 or len(rhits) != 1:
                    side = "left" if len(lhits) != 1 else "right"
                    problem = "no" if not (lhits if side == "left" else rhits) else "more than one"
                    raise UnknownColumnError(
                        f"USING ({ident.text}): the {side} side of the join has "
                        f"{problem} column of that name"
                    )
                pairs.append((lhits[0][1].name, lhits[0][0], lhits[0][1], rhits[0][0], rhits[0][1]))
        if not pairs:
            return "TRUE"
        conds = []
        for name, lr, lc, rr, rc in pairs:
            lsql, rsql = lr.sql(lc), rr.sql(rc)
            conds.append(f"{lsql} = {rsql}")
            merged = {"FULL": f"COALESCE({lsql}, {rsql})", "RIGHT": rsql}.get(j.kind, lsql)
            scope.using_columns[name] = (merged, lc.type)
            rr.merged.add(rc.sql_name)
            lr.merged_sql[lc.sql_name] = merged
        return "(" + " AND ".join(conds) + ")"


def _tap_name(i: ast.Ident) -> str:
    return '"' + i.name.replace('"', '""') + '"' if i.delimited else i.name


def _key(i: ast.Ident) -> str:
    return i.name if i.delimited else i.name.lower()


def _output_named(i: ast.Ident, aliases: dict[str, Rendered]) -> Rendered | None:
    for k, v in aliases.items():
        if (i.delimited and k == i.name) or (not i.delimited and k.lower() == i.name.lower()):
            return v
    return None


def _pos(e: ast.Expr) -> str:
    p = getattr(e, "pos", (0, 0))
    return f"line {p[0]}, column {p[1]}: " if p[0] else ""


__all__ = ["Translator", "Output", "Rendered"]
