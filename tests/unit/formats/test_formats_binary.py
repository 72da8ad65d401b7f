"""FITS, Parquet and JSON output read back with astropy, pyarrow and json, value for value."""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from astropy.table import Table
from typed_sample import COLUMNS, NAMES, ROWS, assert_same, expected, normalise_read

from vo.errors import LimitError
from vo.formats import FITSWriter, JSONWriter, ParquetResultWriter
from vo.meta import ColumnMeta

INTS = [ColumnMeta("n", "int"), ColumnMeta("x", "double")]


def stream(writer: Any, chunks: Any) -> bytes:
    return b"".join(writer.stream(chunks))


def failing() -> Iterator[list[tuple[int, float]]]:
    yield [(1, 0.5), (2, 1.5)]
    raise LimitError("the query ran past its 60 s limit; narrow it or use async")


# --- FITS -------------------------------------------------------------------------


def read_fits(data: bytes) -> tuple[fits.HDUList, Table]:
    assert len(data) % 2880 == 0, "FITS files are whole 2880-byte blocks"
    hdus = fits.open(io.BytesIO(data))
    hdus.verify("exception")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy warns that null booleans read as False
        return hdus, Table.read(io.BytesIO(data), hdu=1)


def test_fits_round_trips_every_datatype() -> None:
    w = FITSWriter(COLUMNS, table_name="result")
    hdus, table = read_fits(stream(w, [ROWS[:1], ROWS[1:3], ROWS[3:]]))
    assert table.colnames == NAMES and len(table) == len(ROWS)
    for r, row in enumerate(ROWS):
        for c, col in enumerate(COLUMNS):
            got = normalise_read(table.columns[c][r])
            want = expected(col, row[c], text="fits")
            if col.name == "flag" and want is None:
                want = False  # FITS logical null reads as False in astropy
            if col.name == "ints" and got is not None:
                got = [None if v == -(2**31) else v for v in got]  # no TNULL on P columns
            assert_same(col, got, want)
    assert hdus[0].header["QUERY_STATUS"] == "OK"
    assert hdus[1].header["EXTNAME"] == "result"


def test_fits_column_keywords() -> None:
    hdus, _ = read_fits(stream(FITSWriter(COLUMNS), [ROWS]))
    h = hdus[1].header
    i = NAMES.index("Ra") + 1
    assert (h[f"TUNIT{i}"], h[f"TUCD{i}"]) == ("deg", "pos.eq.ra;meta.main")
    j = NAMES.index("small") + 1
    assert (h[f"TFORM{j}"], h[f"TNULL{j}"]) == ("1I", -32768)
    k = NAMES.index("mag") + 1
    assert h[f"TCOMM{k}"] == 'a <float> & "quoted" magnitude'
    m = NAMES.index("matrix") + 1
    assert (h[f"TFORM{m}"], h[f"TDIM{m}"]) == ("4D", "(2,2)")
    p = NAMES.index("footprint") + 1
    assert h[f"TFORM{p}"] == "PD(8)"


def test_fits_overflow_and_error_are_in_the_primary_header() -> None:
    w = FITSWriter(INTS, maxrec=2)
    hdus, table = read_fits(stream(w, [[(1, 0.5), (2, 1.5), (3, 2.5)]]))
    assert len(table) == 2 and w.overflowed
    assert hdus[0].header["QUERY_STATUS"] == "OVERFLOW"
    w = FITSWriter(INTS)
    hdus, table = read_fits(stream(w, failing()))
    assert list(table["n"]) == [1, 2]
    assert hdus[0].header["QUERY_STATUS"] == "ERROR"
    assert "60 s limit" in hdus[0].header["QUERY_STATUS_MESSAGE"]


def test_fits_empty_result_is_a_valid_zero_row_table() -> None:
    _, table = read_fits(stream(FITSWriter(COLUMNS), []))
    assert len(table) == 0 and table.colnames == NAMES


# --- Parquet ----------------------------------------------------------------------


def test_parquet_round_trips_every_datatype_with_metadata() -> None:
    w = ParquetResultWriter(COLUMNS, row_group_rows=2)
    data = stream(w, [ROWS[:1], ROWS[1:3], ROWS[3:]])
    f = pq.ParquetFile(io.BytesIO(data))
    assert f.metadata.num_row_groups == 2
    assert f.metadata.metadata[b"QUERY_STATUS"] == b"OK"
    table = f.read()
    assert table.column_names == NAMES
    for r, row in enumerate(ROWS):
        for c, col in enumerate(COLUMNS):
            value = table.column(c)[r].as_py()
            got = (list(value) or None) if isinstance(value, bytes) else normalise_read(value)
            assert_same(col, got, expected(col, row[c], text="unicode", truncate=False))
    ra = table.schema.field("Ra").metadata
    assert ra[b"unit"] == b"deg" and ra[b"ucd"] == b"pos.eq.ra;meta.main"
    assert table.schema.field("pos").metadata[b"xtype"] == b"point"


def test_parquet_overflow_and_error_are_in_the_footer() -> None:
    w = ParquetResultWriter(INTS, maxrec=2)
    f = pq.ParquetFile(io.BytesIO(stream(w, [[(1, 0.5), (2, 1.5), (3, 2.5)]])))
    assert f.metadata.num_rows == 2
    assert f.metadata.metadata[b"QUERY_STATUS"] == b"OVERFLOW"
    w = ParquetResultWriter(INTS)
    f = pq.ParquetFile(io.BytesIO(stream(w, failing())))
    assert f.read().column("n").to_pylist() == [1, 2]
    assert f.metadata.metadata[b"QUERY_STATUS"] == b"ERROR"
    assert b"60 s limit" in f.metadata.metadata[b"QUERY_STATUS_MESSAGE"]


def test_parquet_streams_row_groups_before_the_end() -> None:
    w = ParquetResultWriter(INTS, row_group_rows=100)
    blocks = list(w.stream([[(i, float(i))] * 1 for i in range(1000)]))
    assert len([b for b in blocks if b]) >= 10  # bytes leave as row groups fill, not at close


# --- JSON -------------------------------------------------------------------------


def test_json_round_trips_every_datatype() -> None:
    w = JSONWriter(COLUMNS)
    doc = json.loads(stream(w, [ROWS[:2], ROWS[2:]]))
    assert [m["name"] for m in doc["metadata"]] == NAMES
    assert doc["metadata"][NAMES.index("pos")]["xtype"] == "point"
    assert doc["status"] == {"QUERY_STATUS": "OK"}
    for r, row in enumerate(ROWS):
        for c, col in enumerate(COLUMNS):
            got = normalise_read(doc["data"][r][c])
            assert_same(col, got, expected(col, row[c], text="unicode", truncate=False))


@pytest.mark.parametrize(
    "chunks,status", [([[(1, 0.5), (2, 1.5), (3, 2.5)]], "OVERFLOW"), (None, "ERROR")]
)
def test_json_overflow_and_error_close_the_document(chunks: Any, status: str) -> None:
    w = JSONWriter(INTS, maxrec=2)
    doc = json.loads(stream(w, chunks if chunks is not None else failing()))
    assert doc["data"] == [[1, 0.5], [2, 1.5]]
    assert doc["status"]["QUERY_STATUS"] == status


def test_json_nan_and_infinity_become_null() -> None:
    doc = json.loads(stream(JSONWriter(INTS), [[(1, float("nan")), (2, float("inf"))]]))
    assert doc["data"] == [[1, None], [2, None]]


def test_json_escapes_strings_per_rfc8259() -> None:
    nasty = 'back\\slash "quote" tab\t nl\n nul\x00 bell\x07 é 日本 𝄞'
    cols = [ColumnMeta("s", "unicodeChar", "*"), ColumnMeta("a", "int", "*")]
    doc = json.loads(stream(JSONWriter(cols), [[(nasty, [1, None, 3]), (None, None)]]))
    assert doc["data"] == [[nasty, [1, None, 3]], [None, None]]
