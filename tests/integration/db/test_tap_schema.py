"""TAP_SCHEMA is exactly TAP 1.1 sec. 4, describes itself, and publish/unpublish keep it in sync."""

from __future__ import annotations

from sqlalchemy import text

from vo.db import tap_schema
from vo.meta import ColumnMeta, Position, TableMeta

TAP11_COLUMNS = {
    "schemas": ["schema_name", "utype", "description", "schema_index"],
    "tables": ["schema_name", "table_name", "table_type", "utype", "description", "table_index"],
    "columns": ["table_name", "column_name", "datatype", "arraysize", "xtype", "size",
                "description", "utype", "unit", "ucd", "indexed", "principal", "std",
                "column_index"],
    "keys": ["key_id", "from_table", "target_table", "description", "utype"],
    "key_columns": ["key_id", "from_column", "target_column"],
}


def test_physical_tables_match_tap11(engine):
    with engine.connect() as c:
        for table, expected in TAP11_COLUMNS.items():
            got = [r[0] for r in c.execute(text(
                "SELECT column_name FROM information_schema.columns WHERE table_schema ="
                " 'tap_schema' AND table_name = :t ORDER BY ordinal_position"), {"t": table})]
            assert got == expected, table


def test_self_description_matches_physical_tables(engine):
    with engine.connect() as c:
        described = {(r.table_name, r.column_name) for r in c.execute(text(
            "SELECT table_name, column_name FROM tap_schema.columns"
            " WHERE table_name LIKE 'TAP_SCHEMA.%'"))}
        expected = {(f"TAP_SCHEMA.{t}", '"size"' if col == "size" else col)
                    for t, cols in TAP11_COLUMNS.items() for col in cols}
        assert described == expected
        keys = {(r.from_table, r.target_table, r.from_column, r.target_column) for r in c.execute(
            text("SELECT from_table, target_table, from_column, target_column"
                 " FROM tap_schema.keys JOIN tap_schema.key_columns USING (key_id)"))}
        assert keys == {
            ("TAP_SCHEMA.tables", "TAP_SCHEMA.schemas", "schema_name", "schema_name"),
            ("TAP_SCHEMA.columns", "TAP_SCHEMA.tables", "table_name", "table_name"),
            ("TAP_SCHEMA.keys", "TAP_SCHEMA.tables", "from_table", "table_name"),
            ("TAP_SCHEMA.keys", "TAP_SCHEMA.tables", "target_table", "table_name"),
            ("TAP_SCHEMA.key_columns", "TAP_SCHEMA.keys", "key_id", "key_id"),
        }
        size = c.execute(text("SELECT datatype, arraysize, \"size\" FROM tap_schema.columns"
                              " WHERE column_name = 'table_name'"
                              " AND table_name = 'TAP_SCHEMA.tables'")).one()
        assert tuple(size) == ("char", "128*", 128)


def test_publish_roundtrip_and_unpublish(engine):
    meta = TableMeta(
        "demo", "demo.stars",
        (ColumnMeta("id", "long", description="identifier", principal=True, indexed=True),
         ColumnMeta("ra", "double", unit="deg", ucd="pos.eq.ra;meta.main"),
         ColumnMeta("dec", "double", unit="deg", ucd="pos.eq.dec;meta.main"),
         ColumnMeta('"size"', "char", arraysize="8*", db_name="size")),
        "Stars", db_schema="demo", db_table="stars", primary_key=("id",),
        position=Position("ra", "dec", epoch="J2000.0", rows=3, density_order=1,
                          density=(1, 2, 0)))
    with engine.begin() as c:
        c.execute(text("CREATE SCHEMA demo; CREATE TABLE demo.stars"
                       " (id bigint, ra float8, dec float8, size text)"))
        v0 = tap_schema.schema_version(c)
        tap_schema.publish(c, meta)
        assert tap_schema.schema_version(c) != v0
    with engine.connect() as c:
        (got,) = tap_schema.load_tables(c, ["demo.stars"])
        assert [col.name for col in got.columns] == ["id", "ra", "dec", '"size"']
        assert got.columns[1].unit == "deg" and got.columns[1].ucd == "pos.eq.ra;meta.main"
        assert got.position is not None and got.position.epoch == "J2000.0"
        assert got.position.density == (1, 2, 0) and got.primary_key == ("id",)
        c.execute(text("SET ROLE vo_query"))
        assert c.execute(text("SELECT count(*) FROM demo.stars")).scalar_one() == 0
        c.rollback()
    with engine.begin() as c:
        tap_schema.unpublish(c, "demo.stars")
    with engine.connect() as c:
        assert tap_schema.load_tables(c, ["demo.stars"]) == []
        assert c.execute(text("SELECT count(*) FROM tap_schema.schemas WHERE schema_name ="
                              " 'demo'")).scalar_one() == 0


def test_query_role_cannot_read_internal_tables(engine):
    import pytest
    from sqlalchemy.exc import ProgrammingError

    with engine.connect() as c:
        c.execute(text("SET ROLE vo_query"))
        assert c.execute(text("SELECT count(*) FROM tap_schema.tables")).scalar_one() >= 5
        with pytest.raises(ProgrammingError, match="permission denied"):
            c.execute(text("SELECT * FROM vo_meta.tables"))
