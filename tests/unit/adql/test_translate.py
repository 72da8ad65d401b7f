"""Semantic analysis and translation: names, types, metadata, clauses (ADQL 2.1 sec. 2-4)."""

from __future__ import annotations

import re

import pytest

from tests.unit.adql.schema_fixture import GAIA, HIP2, ODD, SCHEMA
from vo.adql import (
    ADQLError,
    ADQLTypeError,
    AmbiguousNameError,
    StaticSchema,
    UnknownColumnError,
    UnknownTableError,
    UnsupportedFeatureError,
    features,
    translate,
)
from vo.meta import ColumnMeta


def sql(q: str, **kw: object) -> str:
    return translate(q, SCHEMA, **kw).sql  # type: ignore[arg-type]


def cols(q: str) -> tuple[ColumnMeta, ...]:
    return translate(q, SCHEMA).columns


def test_regular_names_match_case_insensitively_and_use_physical_names() -> None:
    assert (
        sql("SELECT RA FROM HIPPARCOS.HIP2")
        == 'SELECT "t1"."ra" AS "ra" FROM "hipparcos"."hip2" AS "t1"'
    )
    assert sql("SELECT hip2.ra FROM hip2") == sql("SELECT h.ra FROM hipparcos.hip2 AS h")


def test_delimited_names_are_exact() -> None:
    s = sql('SELECT "Dec", "size" FROM "Odd Schema"."MixedCase"')
    assert s == 'SELECT "t1"."dec_phys" AS "Dec", "t1"."size" AS "size" FROM "odd"."mixed" AS "t1"'
    assert cols('SELECT "Dec" FROM "Odd Schema"."MixedCase"')[0] == ODD.columns[0]
    with pytest.raises(UnknownColumnError, match='"Dec"'):
        sql('SELECT "dec" FROM "Odd Schema"."MixedCase"')
    with pytest.raises(UnknownTableError):
        sql('SELECT * FROM "odd schema"."MixedCase"')


def test_ambiguous_and_unknown_names_with_suggestions() -> None:
    with pytest.raises(
        AmbiguousNameError, match="hipparcos.hip2.*gaia.dr3_bright|gaia.dr3_bright.*hip2"
    ):
        sql("SELECT ra FROM hipparcos.hip2, gaia.dr3_bright")
    with pytest.raises(UnknownTableError, match="did you mean hipparcos.hip2"):
        sql("SELECT * FROM hipparcos.hip3")
    with pytest.raises(UnknownColumnError, match="did you mean hpmag"):
        sql("SELECT hpmeg FROM hipparcos.hip2")
    with pytest.raises(UnknownColumnError, match="no table or alias x"):
        sql("SELECT x.ra FROM hipparcos.hip2 AS h")
    with pytest.raises(AmbiguousNameError, match="alias"):
        sql("SELECT hip2.ra FROM hipparcos.hip2, hipparcos.hip2")


def test_star_expansion_in_tap_schema_order_without_hidden_columns() -> None:
    c = cols("SELECT * FROM hipparcos.hip2")
    assert c == HIP2.columns
    s = sql("SELECT g.*, h.hip FROM gaia.dr3_bright AS g, hipparcos.hip2 AS h")
    assert "hpx" not in s and '"cx"' not in s
    assert [
        x.name for x in cols("SELECT g.*, h.hip FROM gaia.dr3_bright AS g, hipparcos.hip2 AS h")
    ] == [x.name for x in GAIA.columns] + ["hip"]


def test_natural_join_uses_visible_columns_only() -> None:
    s = sql("SELECT * FROM hipparcos.hip2 NATURAL JOIN gaia.dr3_bright")
    assert 'ON ("t1"."ra" = "t2"."ra" AND "t1"."dec" = "t2"."dec")' in s
    names = [c.name for c in cols("SELECT * FROM hipparcos.hip2 NATURAL JOIN gaia.dr3_bright")]
    assert names.count("ra") == 1 and "source_id" in names
    s = sql("SELECT ra FROM hipparcos.hip2 FULL JOIN gaia.dr3_bright USING (ra, dec)")
    assert s.startswith('SELECT COALESCE("t1"."ra", "t2"."ra") AS "ra"')


@pytest.mark.parametrize(
    ("expr", "datatype", "extra"),
    [
        ("COUNT(*)", "long", {"ucd": "meta.number"}),
        ("SUM(nobs)", "long", {}),
        ("SUM(hip)", "long", {}),
        ("SUM(plx)", "double", {"unit": "mas"}),
        ("AVG(hip)", "double", {}),
        ("MAX(hpmag)", "float", {"unit": "mag"}),
        ("ROUND(plx, 2)", "double", {"unit": "mas"}),
        ("plx * 2.5", "double", {}),
        ("hip + 1", "int", {}),
        ("hip + 3000000000", "long", {}),
        ("CAST(hip AS SMALLINT)", "short", {}),
        ("CAST('2020-01-01' AS TIMESTAMP)", "char", {"xtype": "timestamp", "arraysize": "*"}),
        ("POINT(ra, dec)", "double", {"xtype": "point", "arraysize": "2", "unit": "deg"}),
        ("CIRCLE(ra, dec, 1)", "double", {"xtype": "circle", "arraysize": "3"}),
        ("POLYGON(1, 2, 3, 4, 5, 6)", "double", {"xtype": "polygon", "arraysize": "*"}),
        ("BOX(1, 2, 3, 4)", "double", {"xtype": "polygon"}),
        ("DISTANCE(ra, dec, 1, 2)", "double", {"unit": "deg"}),
        ("AREA(CIRCLE(1, 2, 3))", "double", {"unit": "deg**2"}),
        ("LOWER('X')", "char", {"arraysize": "*"}),
        ("IN_UNIT(plx, 'arcsec')", "double", {"unit": "arcsec"}),
        ("ivo_healpix_index(5, ra, dec)", "long", {}),
        ("ivo_healpix_center(5, 10)", "double", {"xtype": "point"}),
        ("variable", "boolean", {}),
        ("variable + 0", "int", {}),
    ],
)
def test_result_metadata(expr: str, datatype: str, extra: dict[str, str]) -> None:
    c = cols(f"SELECT {expr} FROM hipparcos.hip2")[0]
    assert c.datatype == datatype
    for k, v in extra.items():
        assert getattr(c, k) == v


def test_postgresql_type_realities_in_sql() -> None:
    assert "CAST(sum(CAST(" not in sql("SELECT SUM(nobs) FROM hipparcos.hip2")
    assert sql("SELECT SUM(source_id) FROM gaia.dr3_bright").startswith(
        'SELECT CAST(sum("t1"."source_id") AS double precision)'
    )
    assert (
        'CAST(round(CAST("t1"."plx" AS numeric), CAST(2 AS integer)) AS double precision)'
        in sql("SELECT ROUND(plx, 2) FROM hipparcos.hip2")
    )
    assert "ln(" in sql("SELECT LOG(plx) FROM hipparcos.hip2")
    assert sql("SELECT 1.5 FROM hipparcos.hip2").startswith("SELECT CAST(1.5 AS double precision)")


def test_booleans_are_integers_in_expressions_only() -> None:
    s = sql("SELECT variable FROM hipparcos.hip2 WHERE variable = 1")
    assert s == (
        'SELECT "t1"."variable" AS "variable" FROM "hipparcos"."hip2" AS "t1" '
        'WHERE (CAST("t1"."variable" AS integer) = 1)'
    )


def test_maxrec_top_offset_combinations() -> None:
    base = "SELECT hip FROM hipparcos.hip2"
    assert sql(base, maxrec=100).endswith("LIMIT 101")
    assert sql("SELECT TOP 10 hip FROM hipparcos.hip2", maxrec=100).endswith("LIMIT 10")
    assert sql("SELECT TOP 500 hip FROM hipparcos.hip2", maxrec=100).endswith("LIMIT 101")
    assert sql("SELECT TOP 5 hip FROM hipparcos.hip2 ORDER BY hip OFFSET 20", maxrec=100).endswith(
        'ORDER BY "t1"."hip" ASC LIMIT 5 OFFSET 20'
    )
    assert sql(base + " UNION SELECT hip FROM hipparcos.hip2", maxrec=0).endswith("LIMIT 1")
    assert "LIMIT" not in sql(base)


def test_order_by_alias_ordinal_and_expression() -> None:
    s = sql("SELECT hip AS h, plx FROM hipparcos.hip2 ORDER BY h DESC, 2, plx * 2")
    assert s.endswith('ORDER BY "h" DESC, 2 ASC, ("t1"."plx" * 2) ASC')
    with pytest.raises(ADQLTypeError, match="only 1 columns"):
        sql("SELECT hip FROM hipparcos.hip2 ORDER BY 2")


def test_group_by_alias_and_aggregate_placement() -> None:
    s = sql("SELECT nobs / 10 AS bin, COUNT(*) FROM hipparcos.hip2 GROUP BY bin")
    assert s.endswith('GROUP BY ("t1"."nobs" / 10)')
    with pytest.raises(ADQLTypeError, match="HAVING"):
        sql("SELECT hip FROM hipparcos.hip2 WHERE COUNT(*) > 1")
    with pytest.raises(ADQLTypeError, match="nested"):
        sql("SELECT MAX(COUNT(*)) FROM hipparcos.hip2")


def test_subqueries_ctes_and_correlation() -> None:
    s = sql(
        "WITH b AS (SELECT hip, hpmag FROM hipparcos.hip2 WHERE hpmag < 2) "
        "SELECT b.hip FROM b WHERE EXISTS (SELECT 1 FROM gaia.dr3_bright g WHERE g.source_id = "
        "b.hip)"
    )
    assert re.match(r'WITH "w\d" AS \(SELECT "t1"."hip" AS "hip"', s)
    assert re.search(
        r'FROM "w\d" AS "t3" WHERE \(EXISTS \(SELECT 1 AS "expr" FROM "gaia"."dr3_bright" AS "t4" '
        r'WHERE \("t4"."source_id" = "t3"."hip"\)\)\)$',
        s,
    )
    c = cols("SELECT q.m FROM (SELECT MAX(plx) AS m FROM hipparcos.hip2) AS q")
    assert c[0].unit == "mas" and c[0].datatype == "double"
    with pytest.raises(ADQLTypeError, match="one column"):
        sql("SELECT hip FROM hipparcos.hip2 WHERE hip IN (SELECT hip, ra FROM hipparcos.hip2)")


def test_type_errors() -> None:
    with pytest.raises(ADQLTypeError, match="compared"):
        sql("SELECT hip FROM hipparcos.hip2 WHERE POINT(ra, dec) = POINT(1, 2)")
    with pytest.raises(ADQLTypeError):
        sql("SELECT ABS('x') FROM hipparcos.hip2")
    with pytest.raises(ADQLTypeError, match="CONTAINS"):
        sql("SELECT CONTAINS(POINT(1, 2), POINT(ra, dec)) FROM hipparcos.hip2")
    with pytest.raises(ADQLTypeError, match="unit"):
        sql("SELECT IN_UNIT(hip, 'm') FROM hipparcos.hip2")
    with pytest.raises(ADQLTypeError, match="cannot convert"):
        sql("SELECT IN_UNIT(plx, 'kg') FROM hipparcos.hip2")
    with pytest.raises(ADQLTypeError, match="same number"):
        sql("SELECT hip, ra FROM hipparcos.hip2 UNION SELECT hip FROM hipparcos.hip2")


def test_geometry_translation_contract() -> None:
    s = sql(
        "SELECT INTERSECTS(CIRCLE(1, 2, 3), POINT(ra, dec)), INTERSECTS(s_region, CIRCLE(1, 2, "
        "3)), "
        "DISTANCE(center, POINT(1, 2)), DISTANCE(POINT(ra, dec), POINT(1, 2)), COORD2(center), "
        'COORDSYS(center) FROM "Odd Schema"."MixedCase", hipparcos.hip2'
    )
    # coordinates pass through vo_adql.deg (tiny magnitudes flushed to 0)
    assert 'vo_adql.contains(ARRAY[vo_adql.deg("t2"."ra"), vo_adql.deg("t2"."dec")], ARRAY[' in s
    assert 'vo_adql.intersects("t1"."s_region", ARRAY[' in s
    assert 'vo_adql.distance("t1"."center", ARRAY[' in s
    assert ('vo_adql.distance(vo_adql.deg("t2"."ra"), vo_adql.deg("t2"."dec"), '
            "vo_adql.deg(CAST(1 AS double precision))") in s
    assert '("t1"."center")[2]' in s and "'ICRS'" in s
    with pytest.raises(UnsupportedFeatureError, match="REGION"):
        sql(
            "SELECT * FROM hipparcos.hip2 WHERE CONTAINS(POINT(ra, dec), REGION('Circle ICRS 1 "
            "2 3')) = 1"
        )


def test_fast_path_only_for_positive_recognised_forms() -> None:
    cone = "CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 0.5)) = 1"
    assert translate(f"SELECT hip FROM hipparcos.hip2 WHERE {cone}", SCHEMA).fast_paths == 1
    assert translate(f"SELECT hip FROM hipparcos.hip2 WHERE NOT {cone}", SCHEMA).fast_paths == 0
    assert (
        translate(
            f"SELECT hip FROM hipparcos.hip2 WHERE {cone}", SCHEMA, fast_path=False
        ).fast_paths
        == 0
    )
    # a non-positional table, a computed centre, a column radius, CONTAINS(...) = 0: exact path
    for q in [
        'SELECT * FROM "Odd Schema"."MixedCase" WHERE CONTAINS(center, CIRCLE(10, 20, 1)) = 1',
        "SELECT hip FROM hipparcos.hip2 WHERE CONTAINS(POINT(ra, dec), CIRCLE(10 + hip, 20, "
        "1)) = 1",
        "SELECT hip FROM hipparcos.hip2 WHERE DISTANCE(POINT(ra, dec), POINT(1, 2)) < plx",
        "SELECT hip FROM hipparcos.hip2 WHERE CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 1)) = 0",
        "SELECT hip FROM hipparcos.hip2 WHERE CONTAINS(POINT(dec, ra), CIRCLE(10, 20, 1)) = 1",
    ]:
        assert translate(q, SCHEMA).fast_paths == 0, q
    s = sql(f"SELECT hip FROM hipparcos.hip2 WHERE {cone} OR DISTANCE(ra, dec, 100, -30) < 0.1")
    assert s.count('"t1"."hpx" BETWEEN') >= 2 and "vo_adql" not in s


def test_uploaded_tables_come_through_the_same_lookup() -> None:
    s = sql(
        "SELECT m.id, h.hip FROM TAP_UPLOAD.mine AS m JOIN hipparcos.hip2 AS h "
        "ON DISTANCE(POINT(m.ra, m.dec), POINT(h.ra, h.dec)) < 0.001"
    )
    assert '"tap_upload_job1"."mine" AS "t1"' in s and "vo_adql.distance(" in s


def test_cache_is_keyed_by_text_version_and_options() -> None:
    q = "SELECT hip FROM hipparcos.hip2"
    assert translate(q, SCHEMA) is translate(q, SCHEMA)
    assert translate(q, SCHEMA, maxrec=5) is not translate(q, SCHEMA)
    other = StaticSchema((GAIA,), version="test-2")
    with pytest.raises(UnknownTableError):
        translate(q, other)


def test_features_list_udf_forms_and_groups() -> None:
    f = features()
    forms = {x.form for x in f.features if x.type.endswith("features-udf")}
    assert "ivo_healpix_index(hpxOrder INTEGER, ra DOUBLE, dec DOUBLE) -> BIGINT" in forms
    assert "ivo_healpix_index(hpxOrder INTEGER, p POINT) -> BIGINT" in forms
    assert "ivo_healpix_center(hpxOrder INTEGER, hpxIndex BIGINT) -> POINT" in forms
    geo = {x.form for x in f.by_type()["ivo://ivoa.net/std/TAPRegExt#features-adqlgeo"]}
    assert "CONTAINS" in geo and "REGION" not in geo
    assert f.version_ivoid == "ivo://ivoa.net/std/ADQL#v2.1"


def test_full_join_star_shows_the_merged_column_once() -> None:
    s = sql("SELECT * FROM hipparcos.hip2 FULL OUTER JOIN gaia.dr3_bright USING (ra)")
    assert s.count('COALESCE("t1"."ra", "t2"."ra") AS "ra"') == 1
    assert '"t2"."ra" AS' not in s


def test_group_by_a_boolean_column_matches_the_select_list() -> None:
    s = sql("SELECT variable, COUNT(*) FROM hipparcos.hip2 GROUP BY variable")
    assert s.endswith('GROUP BY "t1"."variable"') and s.startswith('SELECT "t1"."variable" AS')


def test_density_map_decides_the_cone_strategy() -> None:
    """A cone over an empty region of the density map takes the few-ranges plan (all in
    the boundary set); the same cone over a dense map splits off inner ranges."""
    from dataclasses import replace

    from vo.meta import Position

    def plan(density: tuple[int, ...]) -> str:
        pos = Position("ra", "dec", rows=sum(density), density_order=2, density=density)
        t = replace(HIP2, position=pos)
        return translate(
            "SELECT hip FROM hipparcos.hip2 WHERE DISTANCE(ra, dec, 40, 10) < 3",
            StaticSchema((t,), version=f"density-{density[0]}"),
        ).sql

    sparse, dense = plan((0,) * 192), plan((10**7,) * 192)
    assert sparse.count("BETWEEN") < dense.count("BETWEEN")
    assert '"t1"."cx"' in sparse and '"t1"."cx"' in dense


def test_simple_and_searched_case() -> None:
    s = sql(
        "SELECT CASE nobs WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END AS k FROM hipparcos.hip2"
    )
    assert s.startswith(
        "SELECT CASE \"t1\".\"nobs\" WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END AS \"k\""
    )
    s = sql("SELECT CASE WHEN nobs > 1 THEN hip END FROM hipparcos.hip2")
    assert 'CASE WHEN ("t1"."nobs" > 1) THEN "t1"."hip" END' in s
    assert cols("SELECT CASE WHEN nobs > 1 THEN hip END FROM hipparcos.hip2")[0].datatype == "int"
    with pytest.raises(ADQLError, match="condition"):
        sql("SELECT CASE WHEN nobs THEN 1 END FROM hipparcos.hip2")
