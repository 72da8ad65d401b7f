"""Reading and writing TAP_SCHEMA (TAP 1.1 sec. 4) and the internal vo_meta tables.

``publish`` writes one table's metadata (TAP_SCHEMA rows, physical names, position
index facts) and grants the query role SELECT on it; ``unpublish`` removes it;
``load_tables`` reads everything back as ``vo.meta.TableMeta``. All three work in
the caller's transaction so that an ingest swaps data and metadata atomically.
Every change bumps ``vo_meta.schema_version`` so caches keyed by it (ADQL
translations) notice.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from vo.meta import ColumnMeta, ForeignKey, Position, TableMeta, quote_ident, unquote

QUERY_ROLE = "vo_query"


def _c(name: str, datatype: str, description: str, *, arraysize: str | None = None,
       std: bool = True, principal: bool = True, indexed: bool = False) -> ColumnMeta:
    return ColumnMeta(name=name, datatype=datatype, arraysize=arraysize, description=description,
                      std=std, principal=principal, indexed=indexed)


def _text(name: str, n: int, description: str, **kw: bool) -> ColumnMeta:
    return _c(name, "char", description, arraysize=f"{n}*", **kw)


def _int(name: str, description: str, *, std: bool = True, principal: bool = True,
         indexed: bool = False) -> ColumnMeta:
    return _c(name, "int", description, std=std, principal=principal, indexed=indexed)


SCHEMA_DESCRIPTION = (
    "Metadata of the tables, columns and keys this TAP service publishes (TAP 1.1 sec. 4)."
)

TAP_SCHEMA_TABLES: tuple[TableMeta, ...] = (
    TableMeta("TAP_SCHEMA", "TAP_SCHEMA.schemas", (
        _text("schema_name", 64, "Fully qualified schema name", indexed=True),
        _text("utype", 512, "UType of the schema", principal=False),
        _text("description", 2048, "Brief description of the schema"),
        _int("schema_index", "Recommended sort order when listing schemas", principal=False),
    ), "Schemas published by this service", db_schema="tap_schema", db_table="schemas",
        primary_key=("schema_name",)),
    TableMeta("TAP_SCHEMA", "TAP_SCHEMA.tables", (
        _text("schema_name", 64, "Fully qualified name of the schema containing the table"),
        _text("table_name", 128, "Fully qualified table name", indexed=True),
        _text("table_type", 8, "One of: table, view"),
        _text("utype", 512, "UType of the table", principal=False),
        _text("description", 2048, "Brief description of the table"),
        _int("table_index", "Recommended sort order when listing tables", principal=False),
    ), "Tables published by this service", db_schema="tap_schema", db_table="tables",
        primary_key=("table_name",)),
    TableMeta("TAP_SCHEMA", "TAP_SCHEMA.columns", (
        _text("table_name", 128, "Fully qualified table name", indexed=True),
        _text("column_name", 64, "Column name", indexed=True),
        _text("datatype", 64, "VOTable datatype of the column"),
        _text("arraysize", 16, "VOTable arraysize of the column", principal=False),
        _text("xtype", 64, "VOTable xtype of the column (DALI)", principal=False),
        _int('"size"', "Length of variable length datatypes (deprecated; use arraysize)",
             principal=False),
        _text("description", 2048, "Brief description of the column"),
        _text("utype", 512, "UType of the column", principal=False),
        _text("unit", 64, "Unit in VOUnit format"),
        _text("ucd", 512, "UCD of the column"),
        _int("indexed", "1 if the column is indexed, 0 otherwise"),
        _int("principal", "1 if the column is principal, 0 otherwise"),
        _int("std", "1 if the column is defined by a standard, 0 otherwise"),
        _int("column_index", "Recommended sort order when listing columns", principal=False),
    ), "Columns of the tables published by this service", db_schema="tap_schema",
        db_table="columns", primary_key=("table_name", "column_name")),
    TableMeta("TAP_SCHEMA", "TAP_SCHEMA.keys", (
        _text("key_id", 128, "Unique key identifier", indexed=True),
        _text("from_table", 128, "Fully qualified table name of the referencing table"),
        _text("target_table", 128, "Fully qualified table name of the referenced table"),
        _text("description", 2048, "Description of this key"),
        _text("utype", 512, "UType of this key", principal=False),
    ), "Foreign keys between published tables", db_schema="tap_schema", db_table="keys",
        primary_key=("key_id",)),
    TableMeta("TAP_SCHEMA", "TAP_SCHEMA.key_columns", (
        _text("key_id", 128, "Key identifier from TAP_SCHEMA.keys"),
        _text("from_column", 64, "Column name of the referencing column"),
        _text("target_column", 64, "Column name of the referenced column"),
    ), "Columns making up the foreign keys", db_schema="tap_schema", db_table="key_columns"),
)

_SELF_KEYS: tuple[ForeignKey, ...] = (
    ForeignKey("tap_schema_tables_schemas", "TAP_SCHEMA.tables", "TAP_SCHEMA.schemas",
               (("schema_name", "schema_name"),), "Schema a table belongs to"),
    ForeignKey("tap_schema_columns_tables", "TAP_SCHEMA.columns", "TAP_SCHEMA.tables",
               (("table_name", "table_name"),), "Table a column belongs to"),
    ForeignKey("tap_schema_keys_from", "TAP_SCHEMA.keys", "TAP_SCHEMA.tables",
               (("from_table", "table_name"),), "Table holding the foreign key"),
    ForeignKey("tap_schema_keys_target", "TAP_SCHEMA.keys", "TAP_SCHEMA.tables",
               (("target_table", "table_name"),), "Table the foreign key points to"),
    ForeignKey("tap_schema_key_columns_keys", "TAP_SCHEMA.key_columns", "TAP_SCHEMA.keys",
               (("key_id", "key_id"),), "Key a column pair belongs to"),
)


def _size(arraysize: str | None) -> int | None:
    """TAP 1.1 sec. 4.3: "size" is arraysize's integer without '*', null if multi-dimensional."""
    if not arraysize or "x" in arraysize:
        return None
    digits = arraysize.rstrip("*")
    return int(digits) if digits.isdigit() else None


def ensure_schema(conn: Connection, schema_name: str, description: str | None = None,
                  schema_index: int | None = None) -> None:
    conn.execute(text(
        "INSERT INTO tap_schema.schemas (schema_name, description, schema_index) "
        "VALUES (:n, :d, :i) ON CONFLICT (schema_name) DO UPDATE SET "
        "description = COALESCE(EXCLUDED.description, tap_schema.schemas.description), "
        "schema_index = COALESCE(EXCLUDED.schema_index, tap_schema.schemas.schema_index)"),
        {"n": schema_name, "d": description, "i": schema_index})


def publish(conn: Connection, table: TableMeta, *, schema_description: str | None = None,
            table_index: int | None = None) -> None:
    """Write ``table``'s metadata, replacing any earlier version, and grant SELECT on it."""
    unpublish(conn, table.table_name, drop_empty_schema=False)
    ensure_schema(conn, table.schema_name, schema_description)
    conn.execute(text(
        "INSERT INTO tap_schema.tables (schema_name, table_name, table_type, utype, description,"
        " table_index) VALUES (:s, :t, :ty, :u, :d, :i)"),
        {"s": table.schema_name, "t": table.table_name, "ty": table.table_type,
         "u": table.utype, "d": table.description, "i": table_index})
    conn.execute(text(
        "INSERT INTO tap_schema.columns (table_name, column_name, datatype, arraysize, xtype,"
        ' "size", description, utype, unit, ucd, indexed, principal, std, column_index)'
        " VALUES (:t, :n, :dt, :a, :x, :sz, :d, :u, :un, :ucd, :ix, :p, :std, :ci)"),
        [{"t": table.table_name, "n": c.name, "dt": c.datatype, "a": c.arraysize, "x": c.xtype,
          "sz": _size(c.arraysize), "d": c.description, "u": c.utype, "un": c.unit,
          "ucd": c.ucd, "ix": int(c.indexed), "p": int(c.principal), "std": int(c.std),
          "ci": i + 1} for i, c in enumerate(table.columns)])
    for fk in table.foreign_keys:
        conn.execute(text(
            "INSERT INTO tap_schema.keys (key_id, from_table, target_table, description, utype)"
            " VALUES (:k, :f, :t, :d, :u)"),
            {"k": fk.key_id, "f": fk.from_table, "t": fk.target_table, "d": fk.description,
             "u": fk.utype})
        conn.execute(text(
            "INSERT INTO tap_schema.key_columns (key_id, from_column, target_column)"
            " VALUES (:k, :f, :t)"),
            [{"k": fk.key_id, "f": f, "t": t} for f, t in fk.columns])
    db_schema = table.db_schema or unquote(table.schema_name).lower()
    db_table = table.db_table or unquote(table.table_name.split(".")[-1])
    conn.execute(text(
        "INSERT INTO vo_meta.tables (table_name, db_schema, db_table, primary_key)"
        " VALUES (:t, :s, :n, :pk)"),
        {"t": table.table_name, "s": db_schema, "n": db_table, "pk": list(table.primary_key)})
    if table.position is not None:
        p = table.position
        conn.execute(text(
            "INSERT INTO vo_meta.positions (table_name, ra_column, dec_column, frame, epoch,"
            " equinox, row_count, density_order, density)"
            " VALUES (:t, :ra, :dec, :f, :e, :q, :n, :o, :d)"),
            {"t": table.table_name, "ra": p.ra, "dec": p.dec, "f": p.frame, "e": p.epoch,
             "q": p.equinox, "n": p.rows, "o": p.density_order, "d": list(p.density)})
    schema_q, table_q = quote_ident(db_schema), quote_ident(db_table)
    conn.execute(text(f"GRANT USAGE ON SCHEMA {schema_q} TO {QUERY_ROLE}"))
    conn.execute(text(f"GRANT SELECT ON {schema_q}.{table_q} TO {QUERY_ROLE}"))
    bump_version(conn)


def unpublish(conn: Connection, table_name: str, *, drop_empty_schema: bool = True) -> None:
    """Remove a table's metadata (the data table itself is the caller's business)."""
    row = conn.execute(text("SELECT schema_name FROM tap_schema.tables WHERE table_name = :t"),
                       {"t": table_name}).first()
    if row is None:
        return
    conn.execute(text("DELETE FROM tap_schema.key_columns WHERE key_id IN (SELECT key_id FROM"
                      " tap_schema.keys WHERE from_table = :t OR target_table = :t)"),
                 {"t": table_name})
    conn.execute(text("DELETE FROM tap_schema.tables WHERE table_name = :t"), {"t": table_name})
    if drop_empty_schema:
        conn.execute(text(
            "DELETE FROM tap_schema.schemas s WHERE schema_name = :s AND NOT EXISTS"
            " (SELECT 1 FROM tap_schema.tables t WHERE t.schema_name = s.schema_name)"),
            {"s": row.schema_name})
    bump_version(conn)


def bump_version(conn: Connection) -> None:
    conn.execute(text("SELECT nextval('vo_meta.schema_version')"))


def schema_version(conn: Connection) -> str:
    return str(conn.execute(text("SELECT last_value FROM vo_meta.schema_version")).scalar_one())


def publish_self(conn: Connection) -> None:
    """(Re)write TAP_SCHEMA's own description with its five foreign keys (TAP 1.1 sec. 4.4)."""
    existing = {r[0] for r in conn.execute(text(
        "SELECT table_name FROM tap_schema.tables WHERE schema_name = 'TAP_SCHEMA'"))}
    ensure_schema(conn, "TAP_SCHEMA", SCHEMA_DESCRIPTION, 100)
    for t in existing:
        unpublish(conn, t, drop_empty_schema=False)
    for i, t in enumerate(TAP_SCHEMA_TABLES):
        publish(conn, t, table_index=100 + i)
    for fk in _SELF_KEYS:
        conn.execute(text("INSERT INTO tap_schema.keys (key_id, from_table, target_table,"
                          " description) VALUES (:k, :f, :t, :d)"),
                     {"k": fk.key_id, "f": fk.from_table, "t": fk.target_table,
                      "d": fk.description})
        conn.execute(text("INSERT INTO tap_schema.key_columns VALUES (:k, :f, :t)"),
                     [{"k": fk.key_id, "f": f, "t": t} for f, t in fk.columns])


def load_tables(conn: Connection, names: Iterable[str] | None = None) -> list[TableMeta]:
    """Every published table (or those named), columns in column_index order."""
    where = "" if names is None else "WHERE t.table_name = ANY(:names)"
    params = {} if names is None else {"names": list(names)}
    tables = conn.execute(text(
        "SELECT t.schema_name, t.table_name, t.table_type, t.utype, t.description,"
        " m.db_schema, m.db_table, m.primary_key, p.ra_column, p.dec_column, p.frame, p.epoch,"
        " p.equinox, p.row_count, p.density_order, p.density"
        " FROM tap_schema.tables t JOIN vo_meta.tables m USING (table_name)"
        f" LEFT JOIN vo_meta.positions p USING (table_name) {where}"
        " ORDER BY t.table_index NULLS LAST, t.table_name"), params).all()
    cols: dict[str, list[ColumnMeta]] = {}
    for r in conn.execute(text(
            'SELECT table_name, column_name, datatype, arraysize, xtype, description, utype,'
            ' unit, ucd, indexed, principal, std FROM tap_schema.columns'
            ' ORDER BY table_name, column_index NULLS LAST, column_name')):
        cols.setdefault(r.table_name, []).append(ColumnMeta(
            name=r.column_name, datatype=r.datatype, arraysize=r.arraysize, xtype=r.xtype,
            unit=r.unit, ucd=r.ucd, utype=r.utype, description=r.description,
            principal=bool(r.principal), indexed=bool(r.indexed), std=bool(r.std)))
    keys: dict[str, list[ForeignKey]] = {}
    for k in conn.execute(text(
            "SELECT k.key_id, k.from_table, k.target_table, k.description, k.utype,"
            " array_agg(c.from_column ORDER BY c.from_column) AS from_cols,"
            " array_agg(c.target_column ORDER BY c.from_column) AS target_cols"
            " FROM tap_schema.keys k JOIN tap_schema.key_columns c USING (key_id)"
            " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1")):
        keys.setdefault(k.from_table, []).append(ForeignKey(
            k.key_id, k.from_table, k.target_table,
            tuple(zip(k.from_cols, k.target_cols, strict=True)), k.description, k.utype))
    out = []
    for t in tables:
        pos = None
        if t.ra_column is not None:
            pos = Position(ra=t.ra_column, dec=t.dec_column, frame=t.frame, epoch=t.epoch,
                           equinox=t.equinox, rows=t.row_count, density_order=t.density_order,
                           density=tuple(t.density))
        out.append(TableMeta(
            schema_name=t.schema_name, table_name=t.table_name,
            columns=tuple(cols.get(t.table_name, ())), description=t.description,
            table_type=t.table_type, utype=t.utype, db_schema=t.db_schema, db_table=t.db_table,
            position=pos, primary_key=tuple(t.primary_key),
            foreign_keys=tuple(keys.get(t.table_name, ()))))
    return out
