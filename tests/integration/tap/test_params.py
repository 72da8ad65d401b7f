"""DALI/TAP parameter parsing and table-name lookup (no HTTP)."""

from __future__ import annotations

import pytest

from vo.config import load_settings
from vo.db.lookup import TapSchemaLookup, split_name
from vo.meta import TableMeta
from vo.tap.params import TapParameterError, parse_params

S = load_settings(env={}, maxrec_default=100, maxrec_hard=1000)


def test_names_case_insensitive_values_not():
    p = parse_params(
        {"query": "SELECT a FROM T", "LaNg": "ADQL-2.0", "MaxRec": "5", "runid": "Run1"}, S
    )
    assert (p.query, p.adql_version, p.maxrec, p.runid) == ("SELECT a FROM T", "2.0", 5, "Run1")


def test_maxrec_default_and_hard_limit():
    assert parse_params({"QUERY": "x"}, S).maxrec == 100
    p = parse_params({"QUERY": "x", "MAXREC": "99999"}, S)
    assert p.maxrec == 1000 and p.maxrec_requested == 99999


@pytest.mark.parametrize(
    "raw,code",
    [
        ({"QUERY": ["a", "b"]}, "TAP-PARAM-REPEATED"),
        ({"QUERY": "a", "LANG": "PQL"}, "TAP-PARAM-LANG"),
        ({"QUERY": " "}, "TAP-PARAM-QUERY"),
        ({"QUERY": "a", "MAXREC": "-1"}, "TAP-PARAM-MAXREC"),
        ({"QUERY": "a", "REQUEST": "getTableMetadata"}, "TAP-PARAM-REQUEST"),
        ({"QUERY": "a", "FORMAT": "csv", "RESPONSEFORMAT": "fits"}, "TAP-PARAM-FORMAT"),
        ({"QUERY": "a", "UPLOAD": "t,ftp://x/y"}, "TAP-UPLOAD-URI"),
        ({"QUERY": "a", "UPLOAD": "t"}, "TAP-UPLOAD-SYNTAX"),
        ({"QUERY": "a", "UPLOAD": "t,param:a;T,param:b"}, "TAP-UPLOAD-NAME"),
    ],
)
def test_errors(raw, code):
    with pytest.raises(TapParameterError) as ei:
        parse_params(raw, S)
    assert ei.value.code == code and ei.value.http_status == 400


def test_uploads_several_pairs():
    p = parse_params({"QUERY": "a", "UPLOAD": ["a,param:x;b,http://h/t.vot", "c,https://h/u"]}, S)
    assert [(u.name, u.uri) for u in p.uploads] == [
        ("a", "param:x"),
        ("b", "http://h/t.vot"),
        ("c", "https://h/u"),
    ]
    assert p.uploads[0].inline_part == "x"


def test_lookup_rules():
    assert split_name('a."B.c"') == [("a", False), ("B.c", True)]
    tabs = [
        TableMeta("hipparcos", "hipparcos.hip2"),
        TableMeta("TAP_SCHEMA", "TAP_SCHEMA.tables"),
        TableMeta("x", 'x."Mixed"'),
        TableMeta("y", "y.tables"),
    ]
    lk = TapSchemaLookup(tabs, "1")
    assert lk.table("HIPPARCOS.HIP2").table_name == "hipparcos.hip2"
    assert lk.table("hip2").table_name == "hipparcos.hip2"
    assert lk.table("tap_schema.tables").table_name == "TAP_SCHEMA.tables"
    assert lk.table("tables") is None  # ambiguous without schema
    assert lk.table('x."Mixed"') is not None and lk.table("x.mixed") is None
    over = lk.with_tables([TableMeta("TAP_UPLOAD", "TAP_UPLOAD.t")])
    assert over.version != lk.version and over.table("tap_upload.t") is not None
