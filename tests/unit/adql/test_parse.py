"""Syntax: the AST shape, identifiers, literals and syntax errors (ADQL 2.1 sec. 2)."""

from __future__ import annotations

import pytest

from vo.adql import ADQLSyntaxError, UnknownFunctionError, ast, parse


def test_case_insensitive_keywords_and_identifier_kinds() -> None:
    q = parse('sElEcT TOP 3 "Dec", ra FrOm hipparcos.hip2 AS h')
    s = q.body.body
    assert isinstance(s, ast.Select)
    assert s.top == 3
    first, second = s.items
    assert isinstance(first, ast.SelectItem) and first.expr == ast.ColumnRef(
        (ast.Ident("Dec", True),)
    )
    assert isinstance(second, ast.SelectItem) and second.expr == ast.ColumnRef((ast.Ident("ra"),))
    table = s.from_[0]
    assert isinstance(table, ast.TableRef)
    assert table.parts == (ast.Ident("hipparcos"), ast.Ident("hip2"))
    assert table.alias == ast.Ident("h")


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("'it''s'", "string", "it's"),
        ("'a\\b'", "string", "a\\b"),
        ("42", "integer", 42),
        ("4.5", "decimal", "4.5"),
        (".5", "decimal", ".5"),
        ("1e-3", "real", "1E-3"),
        ("2.5E+10", "real", "2.5E+10"),
        ("NULL", "null", None),
    ],
)
def test_literal_forms(text: str, kind: str, value: object) -> None:
    item = parse(f"SELECT {text} FROM t").body.body.items[0]  # type: ignore[union-attr]
    assert item.expr == ast.Literal(kind, value)  # type: ignore[arg-type, union-attr]


def test_operator_precedence() -> None:
    item = parse("SELECT -a * b + c || d FROM t").body.body.items[0]  # type: ignore[union-attr]
    e = item.expr  # type: ignore[union-attr]
    assert isinstance(e, ast.Binary) and e.op == "||"
    add = e.left
    assert isinstance(add, ast.Binary) and add.op == "+"
    mul = add.left
    assert isinstance(mul, ast.Binary) and mul.op == "*"
    assert isinstance(mul.left, ast.Unary)


def test_intersect_binds_tighter_than_union() -> None:
    body = parse("SELECT a FROM x UNION SELECT a FROM y INTERSECT SELECT a FROM z").body.body
    assert isinstance(body, ast.SetOperation) and body.op == "UNION"
    assert isinstance(body.right, ast.SetOperation) and body.right.op == "INTERSECT"


def test_coordinate_system_argument_is_kept_aside() -> None:
    e = parse("SELECT POINT('ICRS', ra, dec) FROM t").body.body.items[0].expr  # type: ignore[union-attr]
    assert isinstance(e, ast.FunctionCall) and e.coordsys == "ICRS" and len(e.args) == 2


@pytest.mark.parametrize(
    ("text", "line", "column", "offending", "expected_word"),
    [
        ("SELECT FROM t", 1, 8, "FROM", "expression"),
        ("SELECT a\nFROM t\nWHERE", 3, 6, "", "expression"),
        ("SELECT a FROM t WHERE x IN (1, 2,)", 1, 34, ")", "expression"),
        ("SELECT a FROM t; DROP TABLE t", 1, 18, "DROP", "end of the query"),
        ("SELECT TOP -1 a FROM t", 1, 12, "-", "integer"),
        ("SELECT _x FROM t", 1, 8, "_", ""),
    ],
)
def test_syntax_errors_say_where_and_what(
    text: str, line: int, column: int, offending: str, expected_word: str
) -> None:
    with pytest.raises(ADQLSyntaxError) as info:
        parse(text)
    err = info.value
    assert (err.line, err.column, err.offending) == (line, column, offending)
    assert expected_word in err.expected
    assert err.code == "ADQL-SYNTAX"
    assert f"line {line}, column {column}" in err.message


def test_reserved_word_needs_quotes() -> None:
    with pytest.raises(ADQLSyntaxError, match='"distance"'):
        parse("SELECT distance FROM stars")
    parse('SELECT "distance" FROM stars')


@pytest.mark.parametrize(
    "text",
    [
        "SELECT ABS() FROM t",
        "SELECT ABS(a, b) FROM t",
        "SELECT TAN2(x) FROM t",
        "SELECT pg_sleep(10) FROM t",
        "SELECT DISTANCE(1, 2, 3) FROM t",
        "SELECT SUM(*) FROM t",
        "SELECT CIRCLE('ICRS', 2, 3) FROM t",
    ],
)
def test_function_whitelist_and_arity(text: str) -> None:
    with pytest.raises(UnknownFunctionError):
        parse(text)


def test_declared_udfs_are_accepted_in_syntax_mode() -> None:
    parse("SELECT my_udf(1) FROM t", udfs=["my_udf"])
    with pytest.raises(UnknownFunctionError, match="my_udf"):
        parse("SELECT my_udf(1) FROM t")


def test_too_many_name_parts() -> None:
    with pytest.raises(ADQLSyntaxError, match="at most 4"):
        parse("SELECT a.b.c.d.e FROM t")
    with pytest.raises(ADQLSyntaxError, match="at most 3"):
        parse("SELECT x FROM a.b.c.d")


def test_natural_join_rejects_condition_and_cast_target_checked() -> None:
    with pytest.raises(ADQLSyntaxError, match="NATURAL"):
        parse("SELECT * FROM a NATURAL JOIN b ON a.x = b.x")
    with pytest.raises(ADQLSyntaxError, match="CAST"):
        parse("SELECT CAST(1 AS FLOAT) FROM t")


def test_with_only_at_top() -> None:
    parse("WITH a AS (SELECT x FROM t) SELECT * FROM a")
    with pytest.raises(ADQLSyntaxError):
        parse("SELECT * FROM (WITH a AS (SELECT x FROM t) SELECT * FROM a) AS q")


def test_messages_for_common_mistakes() -> None:
    with pytest.raises(ADQLSyntaxError, match=r"CONTAINS\(POINT\(ra,dec\),CIRCLE\(1,2,3\)\) = 1"):
        parse("SELECT * FROM t WHERE CONTAINS(POINT(ra,dec), CIRCLE(1,2,3))")
    with pytest.raises(ADQLSyntaxError, match="string is not closed"):
        parse("SELECT * FROM t WHERE name = 'abc")
    with pytest.raises(ADQLSyntaxError, match="quoted name is not closed"):
        parse('SELECT "abc FROM t')
