"""Every datatype, NULLs in each, through each serialisation, read back by astropy."""

from __future__ import annotations

import io
import warnings
from typing import Any

import pytest
from astropy.io.votable import parse
from typed_sample import COLUMNS, NAMES, ROWS, assert_same, expected, normalise_read

from vo.votable import Serialization, VOTableWriter

SERIALISATIONS = [Serialization.BINARY2, Serialization.BINARY, Serialization.TABLEDATA]


def write(serialization: Serialization, chunks: list[list[tuple[Any, ...]]], **kw: Any) -> bytes:
    writer = VOTableWriter(COLUMNS, serialization=serialization, **kw)
    return b"".join(writer.stream(chunks))


def read(document: bytes) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # astropy warns on anything not per the standard
        return parse(io.BytesIO(document), verify="exception").get_first_table()


@pytest.mark.parametrize("serialization", SERIALISATIONS)
def test_every_datatype_round_trips(serialization: Serialization, assert_valid: Any) -> None:
    doc = write(serialization, [ROWS[:2], ROWS[2:]])
    assert_valid(doc)
    table = read(doc).to_table()
    assert table.colnames == NAMES
    assert len(table) == len(ROWS)
    text = "xml" if serialization is Serialization.TABLEDATA else "binary"
    for r, row in enumerate(ROWS):
        for c, col in enumerate(COLUMNS):
            got = normalise_read(table.columns[c][r])
            assert_same(col, got, expected(col, row[c], text=text))


@pytest.mark.parametrize("serialization", SERIALISATIONS)
def test_metadata_is_carried_into_fields(serialization: Serialization) -> None:
    table = read(write(serialization, [ROWS]))
    ra = table.get_field_by_id_or_name("Ra")
    assert (ra.datatype, str(ra.unit), ra.ucd, ra.utype) == (
        "double",
        "deg",
        "pos.eq.ra;meta.main",
        "x:ra",
    )
    mag = table.get_field_by_id_or_name("mag")
    assert mag.description == 'a <float> & "quoted" magnitude'
    assert table.get_field_by_id_or_name("pos").xtype == "point"
    ts = table.get_field_by_id_or_name("obs_time")
    assert (ts.datatype, ts.arraysize, ts.xtype) == ("char", "*", "timestamp")
    assert table.get_field_by_id_or_name("matrix").arraysize == "2x2"


def test_binary_declares_integer_null_values_binary2_does_not() -> None:
    b1 = write(Serialization.BINARY, [ROWS]).decode()
    b2 = write(Serialization.BINARY2, [ROWS]).decode()
    assert '<FIELD name="small" datatype="short"><VALUES null="-32768"/></FIELD>' in b1
    assert '<FIELD name="small" datatype="short"/>' in b2
    # integer array elements can only be flagged by a magic value (VOTable 1.4 sec. 5.5)
    assert '<FIELD name="ints" datatype="int" arraysize="*"><VALUES null="-2147483648"/>' in b2


def test_many_chunks_give_the_same_document_as_one() -> None:
    rows = [ROWS[i % len(ROWS)] for i in range(1000)]
    one = write(Serialization.BINARY2, [rows])
    many = write(Serialization.BINARY2, [rows[i : i + 7] for i in range(0, 1000, 7)])
    assert one == many
    assert len(read(many).array) == 1000


def test_base64_lines_are_at_most_76_characters() -> None:
    doc = write(Serialization.BINARY2, [ROWS * 50]).decode()
    body = doc.split('<STREAM encoding="base64">\n')[1].split("</STREAM>")[0]
    lines = body.splitlines()
    assert len(lines) > 10
    assert all(len(line) == 76 for line in lines[:-1]) and 0 < len(lines[-1]) <= 76
