"""CSV (RFC 4180) and TSV output read back with Python's csv module and pyarrow.csv."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from typing import Any

import pyarrow.csv as pacsv
import pytest
from typed_sample import COLUMNS, NAMES, ROWS, assert_same, expected

from vo.errors import DatabaseError
from vo.formats import CSVWriter, TSVWriter
from vo.meta import ColumnMeta


def parse_cell(col: ColumnMeta, text: str) -> Any:
    """Read one CSV cell back as the value it stands for."""
    if text == "":
        return None
    if col.xtype == "timestamp" or col.datatype in ("char", "unicodeChar"):
        return text
    if col.datatype == "boolean":
        return {"T": True, "F": False, "true": True, "false": False}[text]
    conv = float if col.datatype in ("float", "double") else int
    items = [conv(x) for x in text.split(" ")]
    items = [
        None if (isinstance(x, float) and math.isnan(x)) or x == -(2**31) else x for x in items
    ]
    if not col.arraysize:
        return items[0]
    return items if any(i is not None for i in items) else None


def test_csv_round_trips_every_datatype() -> None:
    w = CSVWriter(COLUMNS)
    body = b"".join(w.stream([ROWS[:1], ROWS[1:]])).decode("utf-8")
    assert w.media_type == "text/csv;header=present"
    records = list(csv.reader(io.StringIO(body, newline="")))
    assert records[0] == NAMES
    assert len(records) == 1 + len(ROWS)
    for r, row in enumerate(ROWS):
        for c, col in enumerate(COLUMNS):
            assert_same(
                col, parse_cell(col, records[r + 1][c]), expected(col, row[c], text="unicode")
            )


def test_csv_is_rfc4180_text_quoted_and_pyarrow_reads_it() -> None:
    cols = [ColumnMeta("s", "unicodeChar", "*"), ColumnMeta("x", "double")]
    values = ["plain", "com,ma", 'quo"te', "line\nbreak", "cr\rhere", ""]
    body = b"".join(CSVWriter(cols).stream([[(v, 1.5) for v in values]]))
    lines = body.split(b"\r\n")
    assert lines[0] == b"s,x"
    assert lines[1] == b'"plain",1.5'
    assert lines[2] == b'"com,ma",1.5'
    assert lines[3] == b'"quo""te",1.5'
    assert lines[6] == b'"",1.5'  # the empty string, unlike NULL (an empty field)
    table = pacsv.read_csv(
        io.BytesIO(body),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
    )
    assert table.column("s").to_pylist() == [*values[:-1], None]
    assert table.column("x").to_pylist() == [1.5] * len(values)


def test_csv_without_header_and_non_finite_numbers_as_null() -> None:
    cols = [ColumnMeta("n", "int"), ColumnMeta("x", "double"), ColumnMeta("b", "boolean")]
    rows = [(1, float("nan"), True), (None, float("-inf"), None), (3, 2.5, False)]
    body = b"".join(CSVWriter(cols, header=False).stream([rows]))
    assert body == b"1,,true\r\n,,\r\n3,2.5,false\r\n"


def test_tsv_has_no_tabs_or_newlines_inside_fields() -> None:
    w = TSVWriter(COLUMNS)
    body = b"".join(w.stream([ROWS])).decode("utf-8")
    assert w.media_type == "text/tab-separated-values"
    lines = body.split("\n")
    assert lines[-1] == "" and len(lines) == 2 + len(ROWS)
    assert all(len(line.split("\t")) == len(COLUMNS) for line in lines[:-1])
    name = lines[3].split("\t")[NAMES.index("name")]
    assert name == "ctrl\x01\x1fchars tab é"


def test_overflow_stops_at_maxrec() -> None:
    w = CSVWriter([ColumnMeta("n", "int")], maxrec=3)
    body = b"".join(w.stream([[(i,) for i in range(4)]]))
    assert body == b"n\r\n0\r\n1\r\n2\r\n"
    assert (w.rows_written, w.overflowed) == (3, True)


def test_failure_mid_stream_ends_after_the_last_whole_row() -> None:
    def chunks() -> Iterator[list[tuple[int]]]:
        yield [(1,), (2,)]
        raise DatabaseError("connection to the database was lost")

    w = CSVWriter([ColumnMeta("n", "int")])
    body = b"".join(w.stream(chunks()))
    assert body == b"n\r\n1\r\n2\r\n"
    assert w.rows_written == 2
    assert w.error == "DATABASE: connection to the database was lost"


@pytest.mark.parametrize("writer", [CSVWriter, TSVWriter])
def test_empty_result_is_just_the_header(writer: Any) -> None:
    assert b"".join(writer([ColumnMeta("a", "int"), ColumnMeta("b", "char", "*")]).stream([])) in (
        b"a,b\r\n",
        b"a\tb\n",
    )
