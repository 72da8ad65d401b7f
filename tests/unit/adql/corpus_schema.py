"""A schema synthesised from a query's own names, so corpus queries (whose tables we do
not have) can go through the whole translator: every table the query names exists,
with every column the query uses (double precision unless the name suggests a
geometry), unqualified columns on the first table only."""

from __future__ import annotations

from vo.adql import StaticSchema, ast
from vo.meta import ColumnMeta, TableMeta


def _walk(node: object, out: list[object]) -> None:
    out.append(node)
    if isinstance(node, tuple):
        for x in node:
            _walk(x, out)
        return
    slots = getattr(type(node), "__slots__", ())
    for name in slots:
        _walk(getattr(node, name), out)


def _tap(i: ast.Ident) -> str:
    return '"' + i.name.replace('"', '""') + '"' if i.delimited else i.name.lower()


GEOMETRY_NAMES = {
    "s_region": "polygon",
    "coverage": "polygon",
    "pos": "point",
    "p": "point",
    "region": "polygon",
    "center": "point",
}


def schema_for(query: ast.Query) -> StaticSchema:
    nodes: list[object] = []
    _walk(query, nodes)
    tables: dict[tuple[str, ...], dict[str, ColumnMeta]] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    ctes = {_tap(c.name).lower() for c in query.with_}
    first: tuple[str, ...] | None = None
    for n in nodes:
        if isinstance(n, ast.TableRef):
            parts = tuple(_tap(p) for p in n.parts[-2:])
            if len(parts) == 1 and parts[0].lower() in ctes:
                continue
            tables.setdefault(parts, {})
            first = first or parts
            aliases[_tap(n.alias) if n.alias else parts[-1]] = parts
    for n in nodes:
        if isinstance(n, ast.ColumnRef):
            name = _tap(n.column)
            xtype = GEOMETRY_NAMES.get(name.lower())
            meta = ColumnMeta(
                name, "double", arraysize="*" if xtype else None, xtype=xtype, unit="deg"
            )
            q = n.qualifier
            target = aliases.get(_tap(q[-1])) if q else first
            if target is not None and target in tables:
                tables[target].setdefault(name, meta)
    metas = []
    for parts, cols in tables.items():
        schema = parts[0] if len(parts) == 2 else "public_schema"
        metas.append(
            TableMeta(
                schema_name=schema,
                table_name=".".join((schema, parts[-1])),
                columns=tuple(cols.values()),
            )
        )
    return StaticSchema(tuple(metas), version=f"corpus-{id(query)}")
