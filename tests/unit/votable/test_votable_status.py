"""QUERY_STATUS (DALI 1.1 sec. 4.4): OK first, trailing OVERFLOW or ERROR; error documents."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from astropy.io.votable import parse
from lxml import etree

from vo.errors import LimitError
from vo.meta import ColumnMeta
from vo.votable import CooSys, Info, Serialization, VOTableWriter, error_document

NS = {"v": "http://www.ivoa.net/xml/VOTable/v1.3"}
COLS = [ColumnMeta("ra", "double", unit="deg"), ColumnMeta("dec", "double"), ColumnMeta("n", "int")]
ALL = list(Serialization)


def rows(n: int, start: int = 0) -> list[tuple[float, float, int]]:
    return [(float(i), -float(i) / 10, i) for i in range(start, start + n)]


def statuses(doc: bytes) -> list[tuple[str, str, str]]:
    """(position relative to TABLE, value, text) of every QUERY_STATUS INFO."""
    res = etree.parse(io.BytesIO(doc)).find("v:RESOURCE", NS)
    out, seen_table = [], False
    for el in res:
        tag = etree.QName(el).localname
        if tag == "TABLE":
            seen_table = True
        elif tag == "INFO" and el.get("name") == "QUERY_STATUS":
            out.append(
                ("after" if seen_table else "before", el.get("value"), (el.text or "").strip())
            )
    return out


def stream(writer: VOTableWriter, chunks: Any) -> bytes:
    return b"".join(writer.stream(chunks))


@pytest.mark.parametrize("serialization", ALL)
def test_overflow_truncates_at_maxrec_and_says_so_after_the_table(
    serialization: Serialization, assert_valid: Any
) -> None:
    w = VOTableWriter(COLS, serialization=serialization, maxrec=10)
    doc = stream(w, [rows(4), rows(4, 4), rows(3, 8)])  # 11 rows = maxrec + 1
    assert_valid(doc)
    assert (w.rows_written, w.overflowed, w.error) == (10, True, None)
    assert statuses(doc) == [
        ("before", "OK", ""),
        ("after", "OVERFLOW", statuses(doc)[1][2]),
    ]
    assert [r[2] for r in parse(io.BytesIO(doc)).get_first_table().array] == list(range(10))


@pytest.mark.parametrize("serialization", ALL)
def test_exactly_maxrec_rows_is_not_an_overflow(serialization: Serialization) -> None:
    w = VOTableWriter(COLS, serialization=serialization, maxrec=10)
    doc = stream(w, [rows(10)])
    assert (w.rows_written, w.overflowed) == (10, False)
    assert statuses(doc) == [("before", "OK", "")]


@pytest.mark.parametrize("chunks", [[rows(1)], []])
def test_maxrec_zero_writes_metadata_and_overflow(chunks: Any, assert_valid: Any) -> None:
    """DALI 1.1 sec. 3.4.2: metadata, no rows, an overflow indicator, query run or not."""
    w = VOTableWriter(COLS, maxrec=0)
    doc = stream(w, chunks)
    assert_valid(doc)
    assert (w.rows_written, w.overflowed) == (0, True)
    assert statuses(doc)[-1][:2] == ("after", "OVERFLOW")
    assert len(parse(io.BytesIO(doc)).get_first_table().array) == 0


def test_no_rows_at_all_is_a_valid_empty_table(assert_valid: Any) -> None:
    for s in ALL:
        w = VOTableWriter(COLS, serialization=s)
        doc = stream(w, [])
        assert_valid(doc)
        assert w.rows_written == 0 and not w.overflowed
        assert len(parse(io.BytesIO(doc)).get_first_table().array) == 0


def failing_chunks(exc: Exception) -> Iterator[list[tuple[float, float, int]]]:
    yield rows(5)
    yield rows(5, 5)
    raise exc


@pytest.mark.parametrize("serialization", ALL)
def test_error_mid_stream_closes_the_table_and_reports_error(
    serialization: Serialization, assert_valid: Any, caplog: pytest.LogCaptureFixture
) -> None:
    w = VOTableWriter(COLS, serialization=serialization)
    with caplog.at_level(logging.ERROR, logger="vo.votable"):
        doc = stream(
            w, failing_chunks(LimitError("query ran longer than 60 s; add a TOP or narrow it"))
        )
    assert_valid(doc)
    assert w.rows_written == 10 and not w.overflowed
    assert statuses(doc) == [
        ("before", "OK", ""),
        ("after", "ERROR", "LIMIT: query ran longer than 60 s; add a TOP or narrow it"),
    ]
    assert len(parse(io.BytesIO(doc)).get_first_table().array) == 10
    assert any(r.exc_info for r in caplog.records), "the failure must be logged with its traceback"


def test_non_voerror_failure_is_reported_without_a_traceback() -> None:
    w = VOTableWriter(COLS)
    doc = stream(w, failing_chunks(RuntimeError("connection lost")))
    before, (where, value, text) = statuses(doc)
    assert before[:2] == ("before", "OK") and (where, value) == ("after", "ERROR")
    assert "RuntimeError: connection lost" in text and "Traceback" not in text


def test_bad_row_value_becomes_a_trailing_error_not_an_exception() -> None:
    w = VOTableWriter([ColumnMeta("n", "short")])
    doc = stream(w, [[(1,)], [(70000,)]])  # does not fit a short
    assert w.rows_written == 1
    assert statuses(doc)[-1][:2] == ("after", "ERROR")


def test_infos_and_coosys_come_before_the_table_and_fields_reference_coosys(
    assert_valid: Any,
) -> None:
    infos = [
        Info("QUERY_STATUS", "OK", "Successful query"),
        Info("QUERY", "SELECT ra, dec FROM t WHERE x < 3 & y > 2"),
        Info("citation", "2020A&A...1..1X", ucd="meta.bib.bibcode"),
    ]
    w = VOTableWriter(
        COLS,
        infos=infos,
        coosys=[CooSys("t_coosys", "ICRS", epoch="J2016.0")],
        coosys_refs={"ra": "t_coosys", "dec": "t_coosys"},
        table_name="result",
    )
    doc = stream(w, [rows(2)])
    assert_valid(doc)
    vot = parse(io.BytesIO(doc))
    res = vot.resources[0]
    assert [(i.name, i.value) for i in res.infos][:3] == [(i.name, i.value) for i in infos]
    assert res.coordinate_systems[0].epoch == "J2016.0"
    table = vot.get_first_table()
    assert table.get_field_by_id_or_name("ra").ref == "t_coosys"
    assert table.get_field_by_id_or_name("n").ref is None
    assert statuses(doc) == [("before", "OK", "Successful query")]


def test_error_document_is_a_dali_error_votable(assert_valid: Any) -> None:
    doc = error_document(
        "Syntax error at line 1, column 8: unexpected 'FORM' <did you mean FROM?>",
        code="QUERY",
        infos=[Info("QUERY", "SELECT * FORM t")],
    )
    tree = assert_valid(doc)
    res = tree.find("v:RESOURCE", NS)
    assert res.get("type") == "results"
    first = res.find("v:INFO", NS)
    assert (first.get("name"), first.get("value")) == ("QUERY_STATUS", "ERROR")
    assert (
        first.text
        == "QUERY: Syntax error at line 1, column 8: unexpected 'FORM' <did you mean FROM?>"
    )
    assert res.find("v:TABLE", NS) is None
    assert parse(io.BytesIO(doc)).resources[0].infos[0].value == "ERROR"


def test_text_and_attributes_are_escaped_including_forbidden_characters(assert_valid: Any) -> None:
    nasty = 'a"b<c>&d\x00e\x1ff\tg\nh\ri\ufffe'
    w = VOTableWriter(
        [ColumnMeta('"we<ird & na""me"', "char", "*", description=nasty)],
        serialization=Serialization.TABLEDATA,
        infos=[Info("QUERY", nasty, nasty)],
    )
    doc = stream(w, [[(nasty,)]])
    tree = assert_valid(doc)  # would not even parse if a forbidden character slipped through
    info = tree.find("v:RESOURCE/v:INFO[@name='QUERY']", NS)
    assert info.get("value") == 'a"b<c>&d\ufffde\ufffdf\tg\nh\ri\ufffd'
    assert info.text == 'a"b<c>&d\ufffde\ufffdf\tg\nh\ri\ufffd'
    field = tree.find(".//v:FIELD", NS)
    assert field.get("name") == 'we<ird & na"me'
    td = tree.find(".//v:TD", NS)
    assert td.text == 'a"b<c>&d?e?f\tg\nh\ri?'


def test_timestamps_given_as_text_get_the_iso_separator() -> None:
    col = ColumnMeta("t", "char", "*", xtype="timestamp")
    rows = [("2020-01-02 03:04:05.678",), ("2021-05-06",), ("2022-01-02 03:04:05+00",), (None,)]
    doc = stream(VOTableWriter([col]), [rows])
    values = list(parse(io.BytesIO(doc)).get_first_table().array["t"])
    assert values[:3] == ["2020-01-02T03:04:05.678", "2021-05-06", "2022-01-02T03:04:05"]


def test_coosys_ids_that_are_not_xml_names_are_made_valid(assert_valid: Any) -> None:
    w = VOTableWriter(
        COLS, coosys=[CooSys("2mass:icrs frame")], coosys_refs={"ra": "2mass:icrs frame"}
    )
    doc = stream(w, [rows(1)])
    assert_valid(doc)
    table = parse(io.BytesIO(doc)).get_first_table()
    assert table.get_field_by_id_or_name("ra").ref == "_2mass_icrs_frame"
