"""vo.db.pgcopy decodes binary COPY streams whatever the chunking and the data's bytes.

The streams are built here from the PostgreSQL binary COPY format (header, per row a
field count, then length-prefixed fields, trailer), with numbers chosen so that their
bytes imitate row starts: the vectorised row search must then fall back correctly.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from vo.db.pgcopy import SIGNATURE, TRAILER, CopyDecoder, wire_types
from vo.errors import DatabaseError
from vo.meta import ColumnMeta

METAS = [ColumnMeta("a", "long"), ColumnMeta("s", "char", arraysize="*"),
         ColumnMeta("b", "long"), ColumnMeta("t", "unicodeChar", arraysize="*")]


def _stream(rows: list[tuple]) -> bytes:
    """COPY of the wrapper's select list: flags, then a and b (non-NULL), then s and t."""
    out = [SIGNATURE, struct.pack(">ii", 0, 0)]
    for a, s, b, t in rows:
        flags = (a is None) | ((b is None) << 1)
        row = [struct.pack(">hiq", 5, 8, flags), struct.pack(">iq", 8, a or 0),
               struct.pack(">iq", 8, b or 0)]
        for text in (s, t):
            if text is None:
                row.append(struct.pack(">i", -1))
            else:
                data = text.encode()
                row.append(struct.pack(">i", len(data)) + data)
        out.append(b"".join(row))
    out.append(TRAILER)
    return b"".join(out)


def _decode(stream: bytes, cuts: list[int]) -> list[tuple]:
    decoder = CopyDecoder(wire_types(METAS) or [])
    got: list[tuple] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        batch = decoder.feed(stream[lo:hi])
        if batch is not None:
            got += list(zip(*(c.to_pylist() for c in batch.columns), strict=True))
    decoder.finish()
    return got


def _rows(rng: np.random.Generator, n: int) -> list[tuple]:
    # numbers whose bytes look like a row start: field count 5, then 8 (flag length)
    lookalike = [int.from_bytes(b"\x00\x05\x00\x00\x00\x08\x00\x00", "big", signed=True),
                 int.from_bytes(b"\x00\x00\x00\x08\x00\x05\x00\x00", "big", signed=True), 8, 5]
    rows = []
    for i in range(n):
        a = None if i % 7 == 0 else int(rng.choice(lookalike + [i]))
        b = None if i % 5 == 0 else int(rng.choice(lookalike + [-i]))
        s = None if i % 3 == 0 else "x" * int(rng.integers(0, 20))
        t = None if i % 4 == 0 else rng.choice(["", "é", "\U0001F600", "Ω" * 9])
        rows.append((a, s, b, t))
    return rows


@pytest.mark.parametrize("seed", range(8))
def test_decode_any_chunking(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = _rows(rng, 500)
    stream = _stream(rows)
    cuts = sorted(set(rng.integers(1, len(stream), int(rng.integers(0, 40))).tolist()))
    assert _decode(stream, cuts) == rows


def test_vectorised_row_search_equals_following_rows() -> None:
    rng = np.random.default_rng(99)
    decoder = CopyDecoder(wire_types(METAS) or [])
    body = _stream(_rows(rng, 2000))[19:-2]
    for end in (len(body), len(body) - 1, len(body) // 2):
        fast, fast_end = decoder._row_starts(body[:end])
        slow, slow_end = decoder._follow_rows(body[:end])
        assert fast.tolist() == slow.tolist() and fast_end == slow_end


def test_truncated_stream_is_an_error() -> None:
    stream = _stream([(1, "a", 2, "b")] * 3)
    decoder = CopyDecoder(wire_types(METAS) or [])
    decoder.feed(stream[:-5])
    with pytest.raises(DatabaseError, match="ended mid-row"):
        decoder.finish()


def test_a_false_row_start_falls_back_to_following_rows() -> None:
    # PostgreSQL text never holds NUL, so a whole fake row prefix can only hide in a
    # string written here by hand: it passes every check of the vectorised search, and
    # the rows read from the candidates then do not chain
    fake = (struct.pack(">hiq", 5, 8, 0) + struct.pack(">iq", 8, 1) + struct.pack(">iq", 8, 2)
            ).decode("latin-1")
    rows = [(1, "a", 2, "b"), (3, fake, 4, None), (5, None, 6, "c")]
    stream = _stream(rows).replace(fake.encode(), fake.encode("latin-1"))
    body = stream[19:-2]
    followed = []

    class Decoder(CopyDecoder):
        def _follow_rows(self, buf: bytes):  # type: ignore[no-untyped-def]
            followed.append(len(buf))
            return super()._follow_rows(buf)

    decoder = Decoder(wire_types(METAS) or [])
    starts, end = decoder._row_starts(body)
    assert followed == [len(body)]
    assert starts.tolist() == [0, 48, 48 + 38 + 4 + 38 + 4] and end == len(body)
    assert _decode(stream, [50, 51]) == [(1, "a", 2, "b"), (3, fake, 4, None), (5, None, 6, "c")]
