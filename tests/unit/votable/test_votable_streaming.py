"""The writer streams: it pulls one chunk, hands out its bytes, then pulls the next."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vo.meta import ColumnMeta
from vo.votable import Serialization, VOTableWriter

COLS = [ColumnMeta("n", "long"), ColumnMeta("name", "char", "*"), ColumnMeta("x", "double")]


class CountingCursor:
    """Chunks of 2,000 rows, counting how many were pulled (like fetchmany on a cursor)."""

    def __init__(self, chunks: int) -> None:
        self.total = chunks
        self.pulled = 0
        self.closed = False

    def __iter__(self) -> Iterator[list[tuple[int, str, float]]]:
        try:
            for c in range(self.total):
                self.pulled += 1
                yield [(i, f"row {i}", i / 3) for i in range(c * 2000, (c + 1) * 2000)]
        finally:
            self.closed = True


@pytest.mark.parametrize("serialization", list(Serialization))
def test_bytes_leave_before_the_next_chunk_is_fetched(serialization: Serialization) -> None:
    cursor = CountingCursor(5)
    stream = VOTableWriter(COLS, serialization=serialization).stream(iter(cursor))
    head = next(stream)
    assert head.startswith(b"<?xml") and cursor.pulled == 0
    first_data = next(stream)
    assert len(first_data) > 2000 * 10 and cursor.pulled == 1
    rest = list(stream)
    assert cursor.pulled == 5 and rest[-1].endswith(b"</VOTABLE>\n")


def test_overflow_stops_pulling_and_closes_the_source() -> None:
    cursor = CountingCursor(50)
    writer = VOTableWriter(COLS, maxrec=3000)
    b"".join(writer.stream(iter(cursor)))
    assert cursor.pulled == 2 and cursor.closed
    assert (writer.rows_written, writer.overflowed) == (3000, True)
