"""ivo_moc_contains: MOC 2.0 ASCII parsing (sec. 4.2.3), its errors, and the SQL forms
(the exact vo_adql.moc_contains call and the hpx-range fast path). No database."""

from __future__ import annotations

import numpy as np
import pytest
from mocpy import MOC

from tests.unit.adql.schema_fixture import SCHEMA
from vo.adql import translate
from vo.adql.errors import ADQLError, ADQLTypeError, UnknownFunctionError
from vo.adql.features import features
from vo.adql.moc import OR_RANGES_MAX, MOCSyntaxError, parse_moc

Q = "SELECT hip FROM hipparcos.hip2 WHERE "


def _mocpy_ranges(text: str) -> list[list[int]]:
    r = np.asarray(MOC.from_string(text, format="ascii").to_depth29_ranges, dtype=np.int64)
    return [[int(a), int(b) - 1] for a, b in r.reshape(-1, 2)]


@pytest.mark.parametrize(
    "text",
    [
        "3/1-3 5/100 7/",
        "0/0-11",
        "1/1 2 4 2/12-14 21 23 25 8/",
        "s2/1 29/5-9",
        "  4/7\n5/200-203\r\n6/ ",
        "29/0 29/3221225471",
        "2/4-7 3/100",  # cells next to each other merge
    ],
)
def test_ranges_equal_mocpy(text: str) -> None:
    assert parse_moc(text).tolist() == _mocpy_ranges(text.replace("s2/", "2/", 1))


def test_empty_moc_and_overlap() -> None:
    assert parse_moc("0/").shape == (0, 2)
    assert parse_moc("29/").shape == (0, 2)
    # overlapping cells (mocpy refuses them) cover their union
    assert parse_moc("1/0 2/1-3").tolist() == [[0, (1 << 56) - 1]]
    # cells in any order
    assert parse_moc("3/9 1/0").tolist() == parse_moc("1/0 3/9").tolist()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty MOC"),
        ("   ", "empty MOC"),
        ("abc", "unexpected 'abc'"),
        ("3/1-", "unexpected '-'"),
        ("3/1,2", "unexpected ',2'"),
        ("5/-1", "unexpected '-1'"),
        ("30/1", "order 30 is above 29"),
        ("0/12", "cell 12 does not exist at order 0"),
        ("3/767 3/768", "cell 768 does not exist at order 3"),
        ("3/3-1", "runs backwards"),
        ("12 3/4", "before any 'order/'"),
        ("t3/1", "unexpected 't3/1'"),
    ],
)
def test_bad_moc_text_is_a_coded_error(text: str, words: str) -> None:
    with pytest.raises(MOCSyntaxError) as exc:
        parse_moc(text)
    assert exc.value.code == "ADQL-MOC"
    assert words in exc.value.message and "MOC 2.0 ASCII" in exc.value.message
    for fast in (True, False):  # the fast path falls back, then the exact path refuses
        with pytest.raises(MOCSyntaxError):
            translate(Q + f"ivo_moc_contains('{text}', ra, dec) = 1", SCHEMA, fast_path=fast)


def test_non_constant_moc_and_bad_arguments() -> None:
    with pytest.raises(MOCSyntaxError, match="must be a string literal"):
        translate(Q + "ivo_moc_contains(LOWER('3/1'), ra, dec) = 1", SCHEMA)
    with pytest.raises(MOCSyntaxError, match="must be a string literal"):
        translate(
            'SELECT * FROM "Odd Schema"."MixedCase" WHERE ivo_moc_contains(name, 1, 2) = 1', SCHEMA
        )
    with pytest.raises(ADQLTypeError):
        translate(Q + "ivo_moc_contains('3/1', 'x', dec) = 1", SCHEMA)
    with pytest.raises(UnknownFunctionError):
        translate(Q + "ivo_moc_contains('3/1', ra) = 1", SCHEMA)
    assert issubclass(MOCSyntaxError, ADQLError)


def test_fast_path_is_hpx_ranges_only() -> None:
    for cond in (
        "ivo_moc_contains('3/1-3 5/100 7/', ra, dec) = 1",
        "1 = ivo_moc_contains('3/1-3 5/100 7/', h.ra, h.dec)",
        "ivo_moc_contains('3/1-3 5/100 7/', ra, dec) = 1 AND plx > 1",
    ):
        t = translate("SELECT hip FROM hipparcos.hip2 AS h WHERE " + cond, SCHEMA)
        assert t.fast_paths == 1
        where = t.sql.split("WHERE", 1)[1]
        assert '"t1"."hpx" BETWEEN 4503599627370496 AND 18014398509481983' in where
        assert '"t1"."hpx" BETWEEN 28147497671065600 AND 28428972647776255' in where
        assert "moc_contains" not in where and "healpix_index" not in where


def test_many_ranges_take_spans_and_the_array_test() -> None:
    cells = " ".join(str(2 * i) for i in range(OR_RANGES_MAX)) + " 1000 3000"
    t = translate(Q + f"ivo_moc_contains('8/{cells}', ra, dec) = 1", SCHEMA)
    assert t.fast_paths == 1
    assert t.sql.count("BETWEEN") == OR_RANGES_MAX and "vo_adql.moc_has_pixel" in t.sql
    # the two largest gaps (before 1000 and 3000) are kept: those cells keep their own spans
    shift = 2 * (29 - 8)
    assert f"BETWEEN {1000 << shift} AND {(1001 << shift) - 1} OR" in t.sql
    assert f"BETWEEN {3000 << shift} AND {(3001 << shift) - 1})" in t.sql
    few = " ".join(str(2 * i) for i in range(OR_RANGES_MAX))
    t = translate(Q + f"ivo_moc_contains('8/{few}', ra, dec) = 1", SCHEMA)
    assert t.sql.count("BETWEEN") == OR_RANGES_MAX and "moc_has_pixel" not in t.sql


def test_empty_moc_fast_path_is_false() -> None:
    t = translate(Q + "ivo_moc_contains('5/', ra, dec) = 1", SCHEMA)
    assert t.fast_paths == 1 and t.sql.endswith("WHERE FALSE")


@pytest.mark.parametrize(
    "cond",
    [
        "ivo_moc_contains('3/1', ra, dec) = 0",
        "NOT (ivo_moc_contains('3/1', ra, dec) = 1)",
        "ivo_moc_contains('3/1', ra, dec) = 1 OR plx > 1",  # not under NOT: still fast
        "ivo_moc_contains('3/1', ra + 1, dec) = 1",  # not the table's own position
        "ivo_moc_contains('3/1', dec, ra) = 1",
    ],
)
def test_other_forms_take_the_exact_path(cond: str) -> None:
    t = translate(Q + cond, SCHEMA)
    expect_fast = cond.endswith("OR plx > 1")
    assert t.fast_paths == int(expect_fast)
    if not expect_fast:
        assert "vo_adql.moc_contains(CAST(ARRAY[4503599627370496] AS bigint[])" in t.sql
        assert "CAST(ARRAY[9007199254740991] AS bigint[])" in t.sql


def test_select_list_and_no_fast_path_option() -> None:
    t = translate("SELECT ivo_moc_contains('0/0-11', ra, dec) AS m FROM hipparcos.hip2", SCHEMA)
    assert t.columns[0].datatype == "int" and "vo_adql.moc_contains(" in t.sql
    t = translate(Q + "ivo_moc_contains('3/1', ra, dec) = 1", SCHEMA, fast_path=False)
    assert t.fast_paths == 0 and "vo_adql.moc_contains(" in t.sql


def test_declared_in_capabilities_features() -> None:
    forms = [f.form for f in features().features if f.type.endswith("#features-udf")]
    assert "ivo_moc_contains(moc VARCHAR, ra DOUBLE, dec DOUBLE) -> INTEGER" in forms
