"""Recognising a TAP error document (DALI 1.1 sec. 4.4) in a sync query's answer."""

from __future__ import annotations

from vo.samp.query import query_error, sync_url

ERROR_DOC = b"""<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE xmlns="http://www.ivoa.net/xml/VOTable/v1.3" version="1.4">
  <RESOURCE type="results">
    <INFO name="QUERY_STATUS" value="ERROR">Unknown table 'gaia.sorce' at line 1, column 15</INFO>
  </RESOURCE>
</VOTABLE>"""

OVERFLOW_DOC = b"""<VOTABLE version="1.4"><RESOURCE type="results">
<INFO name="QUERY_STATUS" value="OK"/>
<TABLE><FIELD name="a" datatype="int"/>
<DATA><TABLEDATA><TR><TD>1</TD></TR></TABLEDATA></DATA></TABLE>
<INFO name="QUERY_STATUS" value="OVERFLOW"/>
</RESOURCE></VOTABLE>"""


def test_error_document_gives_its_message() -> None:
    assert query_error(ERROR_DOC) == "Unknown table 'gaia.sorce' at line 1, column 15"


def test_value_before_name_and_empty_message() -> None:
    doc = b'<VOTABLE><RESOURCE><INFO value="ERROR" name="QUERY_STATUS"/></RESOURCE></VOTABLE>'
    assert query_error(doc) == "the service reported an error without a message"


def test_ok_result_with_trailing_overflow_is_not_an_error() -> None:
    assert query_error(OVERFLOW_DOC) is None


def test_sync_endpoint_of_a_tap_base_url() -> None:
    assert sync_url("http://127.0.0.1:8080/tap") == "http://127.0.0.1:8080/tap/sync"
    assert sync_url("http://127.0.0.1:8080/tap/") == "http://127.0.0.1:8080/tap/sync"
    assert sync_url("http://h/tap/sync") == "http://h/tap/sync"
