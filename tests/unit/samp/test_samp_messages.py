"""Message and response encodings (SAMP 1.3 sec. 3; the SAMP MTypes list)."""

from __future__ import annotations

from vo.samp import Delivery, Reply
from vo.samp import messages as m


def test_floats_travel_as_strings_that_round_trip_exactly() -> None:
    msg = m.point_at(10.684000000000001, -41.26999999999)
    ra, dec = msg["samp.params"]["ra"], msg["samp.params"]["dec"]
    assert isinstance(ra, str) and float(ra) == 10.684000000000001
    assert float(dec) == -41.26999999999
    assert msg["samp.mtype"] == "coord.pointAt.sky"


def test_table_load_uses_hyphenated_names_and_drops_none() -> None:
    msg = m.table_load("http://h/t.vot", "tid-1", None)
    assert msg == {
        "samp.mtype": "table.load.votable",
        "samp.params": {"url": "http://h/t.vot", "table-id": "tid-1"},
    }


def test_row_messages_carry_zero_based_rows_as_strings() -> None:
    assert m.highlight_row("t", "u", 7)["samp.params"] == {"table-id": "t", "url": "u", "row": "7"}
    assert m.select_rows("t", "u", [0, 3])["samp.params"]["row-list"] == ["0", "3"]
    assert m.image_load("u", "i", "n")["samp.params"] == {"url": "u", "image-id": "i", "name": "n"}


def test_reply_from_error_response_keeps_the_error_text() -> None:
    r = Reply.from_response(
        "c2",
        "topcat",
        {"samp.status": "samp.error", "samp.error": {"samp.errortxt": "Duplicate table-id"}},
    )
    assert not r.ok and r.error == "Duplicate table-id"
    assert str(r) == "topcat (c2): samp.error: Duplicate table-id"


def test_warning_counts_as_done_but_error_and_timeout_do_not() -> None:
    ok = Reply("c1", "a", "samp.ok")
    warn = Reply("c2", "b", "samp.warning", error="not used")
    late = Reply("c3", "c", "timeout", error="no answer in 30 s")
    assert Delivery("x", None, None, (ok, warn)).ok
    d = Delivery("x", None, None, (ok, warn, late))
    assert not d.ok and d.failures == (late,)
