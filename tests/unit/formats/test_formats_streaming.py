"""CSV, TSV, JSON and Parquet stream chunk by chunk; FITS must spool first (NAXIS2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from vo.formats import CSVWriter, FITSWriter, JSONWriter, ParquetResultWriter, TSVWriter
from vo.meta import ColumnMeta

COLS = [ColumnMeta("n", "long"), ColumnMeta("name", "char", "*")]


class CountingCursor:
    def __init__(self, chunks: int) -> None:
        self.total, self.pulled = chunks, 0

    def __iter__(self) -> Iterator[list[tuple[int, str]]]:
        for c in range(self.total):
            self.pulled += 1
            yield [(i, f"row {i}") for i in range(c * 1000, (c + 1) * 1000)]


@pytest.mark.parametrize("make", [CSVWriter, TSVWriter, JSONWriter])
def test_text_formats_stream(make: type) -> None:
    cursor = CountingCursor(4)
    stream = make(COLS).stream(iter(cursor))
    next(stream)  # header / metadata
    assert len(next(stream)) > 1000 and cursor.pulled == 1


def test_parquet_emits_each_row_group_when_full() -> None:
    cursor = CountingCursor(4)
    stream = ParquetResultWriter(COLS, row_group_rows=1000).stream(iter(cursor))
    first = next(stream)
    assert first.startswith(b"PAR1") and cursor.pulled == 1


def test_fits_spools_everything_before_the_first_byte(tmp_path: object) -> None:
    cursor = CountingCursor(4)
    stream = FITSWriter(COLS, spool_dir=str(tmp_path)).stream(iter(cursor))
    first = next(stream)
    assert first.startswith(b"SIMPLE  =") and cursor.pulled == 4
    rest = b"".join(stream)
    assert b"NAXIS2  =                 4000" in rest[:2880]
