"""The row stream every result writer consumes: MAXREC truncation, overflow and failure capture.

The database layer fetches at most MAXREC+1 rows and hands them over as chunks: lists
of row tuples, or Arrow record batches whose columns are in result order.
``RowStream`` passes on at most MAXREC rows as Arrow record batches, notes an
overflow when a further row arrived (DALI 1.1 sec. 4.4.1, TAP 1.1 sec. 2.7.4), and
turns an exception raised while iterating the chunks into a recorded failure, because
by then the response has started and can only be closed validly with a trailing
QUERY_STATUS=ERROR (DALI 1.1 sec. 4.4.2).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeAlias

import pyarrow as pa

from vo.errors import VOError
from vo.meta import ColumnMeta
from vo.votable.columns import ColumnType, column_type, conform_batch, record_batch

log = logging.getLogger("vo.votable")

Chunk: TypeAlias = Sequence[tuple[Any, ...]] | pa.RecordBatch


class ResultWriter(Protocol):
    """What TAP calls: stream bytes, then read the outcome (every writer implements this)."""

    media_type: str

    @property
    def overflowed(self) -> bool: ...

    @property
    def rows_written(self) -> int: ...

    @property
    def error(self) -> str | None: ...

    def stream(self, chunks: Iterable[Chunk]) -> Iterator[bytes]: ...


def failure_message(exc: BaseException) -> str:
    """The text for a trailing QUERY_STATUS=ERROR: a VOError's own message, else its kind."""
    if isinstance(exc, VOError):
        return f"{exc.code}: {exc.message}"
    return (
        f"The result is incomplete: the service failed while writing it "
        f"({type(exc).__name__}: {exc}). The rows before this message are valid."
    )


class RowStream:
    """Batches of at most ``maxrec`` rows from chunks of row tuples, with the outcome kept."""

    def __init__(
        self, columns: Sequence[ColumnMeta], chunks: Iterable[Chunk], maxrec: int | None
    ) -> None:
        if maxrec is not None and maxrec < 0:
            raise ValueError("maxrec must be >= 0 or None")
        self.types: list[ColumnType] = [column_type(c) for c in columns]
        self._chunks = chunks
        self.maxrec = maxrec
        self.rows_written = 0
        self.overflowed = False
        self.error: str | None = None

    def fail(self, exc: BaseException, *, unwritten: int = 0) -> None:
        """Record a mid-stream failure (logged with its traceback, reported by message)."""
        log.error("result stream failed after %d rows", self.rows_written, exc_info=exc)
        self.rows_written -= unwritten
        self.error = failure_message(exc)

    def batches(self) -> Generator[pa.RecordBatch, None, None]:
        """Yield record batches; stops at MAXREC, at the end of data, or at a failure.

        MAXREC=0 asks for metadata and an overflow indicator whatever the data (DALI 1.1
        sec. 3.4.2): the chunks are then not read at all.
        """
        if self.maxrec == 0:
            self.overflowed = True
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
            return
        iterator = iter(self._chunks)
        try:
            while True:
                try:
                    chunk = next(iterator)
                except StopIteration:
                    return
                except Exception as exc:  # noqa: BLE001 - reported in-band, see module doc
                    self.fail(exc)
                    return
                if not len(chunk):
                    continue
                if self.maxrec is not None and self.rows_written + len(chunk) > self.maxrec:
                    keep = self.maxrec - self.rows_written
                    if isinstance(chunk, pa.RecordBatch):
                        chunk = chunk.slice(0, keep)
                    else:
                        chunk = chunk[:keep]
                    self.overflowed = True
                if len(chunk):
                    try:
                        if isinstance(chunk, pa.RecordBatch):
                            batch = conform_batch(self.types, chunk)
                        else:
                            batch = record_batch(self.types, chunk)
                    except Exception as exc:  # noqa: BLE001
                        self.fail(exc)
                        return
                    self.rows_written += batch.num_rows
                    yield batch
                if self.overflowed:
                    return
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()


class StreamingWriter:
    """What every result writer shares: the columns and their wire types (checked when
    the writer is built), ``maxrec``, and what the last ``stream()`` saw."""

    def __init__(self, columns: Sequence[ColumnMeta], maxrec: int | None) -> None:
        self.columns = list(columns)
        self.types = [column_type(c) for c in self.columns]  # fails early on bad metadata
        self.maxrec = maxrec
        self._rows: RowStream | None = None

    def _open(self, chunks: Iterable[Chunk]) -> RowStream:
        self._rows = RowStream(self.columns, chunks, self.maxrec)
        return self._rows

    @property
    def rows_written(self) -> int:
        return self._rows.rows_written if self._rows else 0

    @property
    def overflowed(self) -> bool:
        return self._rows.overflowed if self._rows else False

    @property
    def error(self) -> str | None:
        return self._rows.error if self._rows else None
