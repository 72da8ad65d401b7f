"""RESPONSEFORMAT resolution (DALI 1.1 sec. 3.4.1, TAP 1.1 sec. 2.7.2) and the writers it makes."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from astropy.io.votable import parse

from vo.errors import VOError
from vo.formats import UnknownFormatError, accepted_values, output_formats, resolve
from vo.meta import ColumnMeta
from vo.votable import CooSys, Info

COLS = [
    ColumnMeta("ra", "double", unit="deg"),
    ColumnMeta("dec", "double"),
    ColumnMeta("name", "char", "*"),
]
ROWS = [(10.0, -5.0, "a"), (11.0, -6.0, "b"), (12.0, -7.0, "c")]


@pytest.mark.parametrize(
    "value,key,content_type",
    [
        (None, "votable", "application/x-votable+xml"),
        ("", "votable", "application/x-votable+xml"),
        ("votable", "votable", "application/x-votable+xml"),
        ("VOTable", "votable", "application/x-votable+xml"),
        ("votable/td", "votable/td", "application/x-votable+xml;serialization=TABLEDATA"),
        ("votable/b", "votable/b", "application/x-votable+xml;serialization=BINARY"),
        ("votable/b2", "votable/b2", "application/x-votable+xml;serialization=BINARY2"),
        ("application/x-votable+xml", "votable", "application/x-votable+xml"),
        ("application/x-votable+xml;serialization=TABLEDATA", "votable/td",
         "application/x-votable+xml;serialization=TABLEDATA"),
        ("application/x-votable+xml; serialization=binary2", "votable/b2",
         "application/x-votable+xml; serialization=binary2"),
        ("text/xml", "votable/td", "text/xml"),
        ("csv", "csv", "text/csv;header=present"),
        ("text/csv", "csv", "text/csv"),
        ("text/csv;header=present", "csv", "text/csv;header=present"),
        ("text/csv; charset=UTF-8", "csv", "text/csv; charset=UTF-8"),
        ("text/csv;header=absent", "csv/noheader", "text/csv;header=absent"),
        ("tsv", "tsv", "text/tab-separated-values"),
        ("text/tab-separated-values", "tsv", "text/tab-separated-values"),
        ("fits", "fits", "application/fits"),
        ("application/fits", "fits", "application/fits"),
        ("parquet", "parquet", "application/vnd.apache.parquet"),
        ("application/vnd.apache.parquet", "parquet", "application/vnd.apache.parquet"),
        ("json", "json", "application/json"),
        ("application/json", "json", "application/json"),
    ],
)  # fmt: skip
def test_resolve_aliases_and_media_types(value: str | None, key: str, content_type: str) -> None:
    resolved = resolve(value)
    assert resolved.format.key == key
    assert resolved.content_type == content_type


@pytest.mark.parametrize(
    "value", ["text/html", "votable/x", "application/x-votable+xml;serialization=FITS", "xml"]
)
def test_unknown_format_is_a_bad_format_error_listing_what_is_accepted(value: str) -> None:
    with pytest.raises(UnknownFormatError) as info:
        resolve(value)
    err = info.value
    assert isinstance(err, VOError)
    assert (err.code, err.http_status) == ("BAD-FORMAT", 400)
    assert repr(value) in err.message and "votable/td" in err.message and "text/csv" in err.message


def test_every_declared_mime_and_alias_resolves_to_its_own_format() -> None:
    for f in output_formats():
        assert resolve(f.mime).format is f
        for alias in f.aliases:
            assert resolve(alias).format is f
    aliases = [a for f in output_formats() for a in f.aliases]
    assert len(aliases) == len(set(aliases))
    assert {
        "votable",
        "votable/td",
        "votable/b",
        "votable/b2",
        "csv",
        "tsv",
        "fits",
        "parquet",
        "json",
    } <= set(aliases)
    assert set(accepted_values()) >= set(aliases)
    ids = {f.ivo_id for f in output_formats() if f.ivo_id}
    assert "ivo://ivoa.net/std/TAPRegExt#output-votable-td" in ids


@pytest.mark.parametrize(
    "value",
    ["votable", "votable/td", "votable/b", "csv", "tsv", "fits", "parquet", "json", "text/xml"],
)
def test_each_format_writes_a_readable_overflowing_result(value: str) -> None:
    resolved = resolve(value)
    writer = resolved.writer(
        COLS,
        maxrec=2,
        infos=[Info("QUERY", "SELECT 1")],
        coosys=[CooSys("c", "ICRS")],
        coosys_refs={"ra": "c", "dec": "c"},
        table_name="result",
    )
    assert writer.media_type == resolved.content_type
    data = b"".join(writer.stream([ROWS]))
    assert (writer.rows_written, writer.overflowed, writer.error) == (2, True, None)
    ext = resolved.format.extension
    if ext == "vot":
        table = parse(io.BytesIO(data)).get_first_table()
        assert list(table.array["ra"]) == [10.0, 11.0]
        assert table.get_field_by_id_or_name("ra").ref == "c"
    elif ext in ("csv", "tsv"):
        rows = list(csv.reader(io.StringIO(data.decode()), delimiter="," if ext == "csv" else "\t"))
        assert rows == [["ra", "dec", "name"], ["10", "-5", "a"], ["11", "-6", "b"]]
    elif ext == "fits":
        assert list(fits.open(io.BytesIO(data))[1].data["ra"]) == [10.0, 11.0]
    elif ext == "parquet":
        assert pq.read_table(io.BytesIO(data)).column("ra").to_pylist() == [10.0, 11.0]
    else:
        assert json.loads(data)["data"] == [[10.0, -5.0, "a"], [11.0, -6.0, "b"]]
