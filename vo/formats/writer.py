"""The common shape of the non-VOTable result writers.

Every writer takes the same input as ``vo.votable.VOTableWriter`` (ColumnMeta sequence,
chunks of row tuples, ``maxrec``; the caller fetches maxrec+1 rows), streams bytes, and
afterwards tells ``rows_written``, ``overflowed`` and ``error``. How a format reports an
overflow or a failure after its first byte depends on what the format can carry; each
writer's docstring says what it does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import pyarrow as pa

from vo.meta import ColumnMeta
from vo.votable import RowStream
from vo.votable.rows import Chunk, StreamingWriter

BatchEncoder = Callable[[pa.RecordBatch], bytes]


class FormatWriter(StreamingWriter):
    """Base of the CSV/TSV, FITS, Parquet and JSON writers (implement ``_stream``)."""

    media_type = "application/octet-stream"

    def __init__(self, columns: Sequence[ColumnMeta], *, maxrec: int | None = None) -> None:
        super().__init__(columns, maxrec)

    def stream(self, chunks: Iterable[Chunk]) -> Iterator[bytes]:
        return self._stream(self._open(chunks))

    def _stream(self, rows: RowStream) -> Iterator[bytes]:
        raise NotImplementedError

    def _encoded(self, rows: RowStream, encode: BatchEncoder) -> Iterator[bytes]:
        """Encode batch by batch; an encoding failure ends the stream like a source failure."""
        batches = rows.batches()
        for batch in batches:
            try:
                block = encode(batch)
            except Exception as exc:  # noqa: BLE001 - reported through .error
                rows.fail(exc, unwritten=batch.num_rows)
                batches.close()
                return
            if block:
                yield block
