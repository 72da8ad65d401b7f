"""Queries of one shape (the same but for their numbers) filled in from a template give
exactly the AST a full parse gives: values and every node's position."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vo.adql import ast
from vo.adql.builder import AstBuilder
from vo.adql.parser import SHAPES, parse, parse_tree


def _full_parse(text: str) -> ast.Query:
    return AstBuilder(()).query(parse_tree(text))


def _nodes(node: Any, out: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    """(type, pos, value) of every node, in order (pos is not part of AST equality)."""
    if isinstance(node, tuple):
        for item in node:
            _nodes(item, out)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        out.append((type(node).__name__, getattr(node, "pos", None),
                    getattr(node, "value", None)))
        for f in dataclasses.fields(node):
            if f.name != "pos":
                _nodes(getattr(node, f.name), out)
    return out


def _same_as_full_parse(text: str) -> None:
    got, want = parse(text), _full_parse(text)
    assert got == want
    assert _nodes(got, []) == _nodes(want, [])


number = st.one_of(
    st.integers(0, 10**12).map(str),
    st.floats(0, 1e6, allow_nan=False).map(lambda f: f"{f:.{len(repr(f))}f}".rstrip("0")),
    st.floats(1e-9, 1e9).map(lambda f: f"{f:e}"),
)


@settings(max_examples=150, deadline=None)
@given(ra=number, dec=number, r=number, neg=st.booleans(), order=st.integers(0, 29))
def test_cone_shapes_equal_full_parses(ra: str, dec: str, r: str, neg: bool, order: int) -> None:
    sign = "-" if neg else ""
    _same_as_full_parse(
        f"SELECT source_id, ivo_healpix_index({order}, ra, dec) AS p FROM gaia.dr3_bright\n"
        f"WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {sign}{dec}, {r}))"
        f" AND phot_g_mean_mag < {r} + {order}"
    )


@pytest.mark.parametrize(
    "first, second, check",
    [
        ("SELECT TOP 10 ra FROM gaia.dr3_bright", "SELECT TOP 20 ra FROM gaia.dr3_bright",
         lambda q: q.body.body.top == 20),
        ("SELECT ra FROM gaia.dr3_bright OFFSET 5", "SELECT ra FROM gaia.dr3_bright OFFSET 50",
         lambda q: q.body.offset == 50),
        ("SELECT CAST(ra AS CHAR(3)) FROM gaia.dr3_bright",
         "SELECT CAST(ra AS CHAR(30)) FROM gaia.dr3_bright", lambda q: "30" in repr(q)),
    ],
)
def test_numbers_outside_literals_keep_full_parses(first: str, second: str, check: Any) -> None:
    SHAPES.clear()
    parse(first)
    q = parse(second)
    assert q == _full_parse(second) and check(q)


def test_a_shape_is_filled_in_not_parsed() -> None:
    SHAPES.clear()
    first = "SELECT ra FROM gaia.dr3_bright WHERE ra BETWEEN 1 AND 2.5"
    parse(first)
    second = "SELECT ra FROM gaia.dr3_bright WHERE ra BETWEEN 10000 AND 0.0025"
    from vo.adql import parser

    parsed: list[str] = []
    real = parser.parse_tree
    parser.parse_tree = lambda text: parsed.append(text) or real(text)  # type: ignore[assignment]
    try:
        q = parse(second)
    finally:
        parser.parse_tree = real
    assert parsed == []  # no parse of its own
    assert q == _full_parse(second) and _nodes(q, []) == _nodes(_full_parse(second), [])
