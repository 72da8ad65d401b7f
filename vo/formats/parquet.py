"""Apache Parquet result writer: pyarrow ParquetWriter, one row group per ~100k rows, streamed.

Column metadata (VOTable datatype, arraysize, xtype, unit, UCD, utype, description)
goes into each Parquet field's key-value metadata, so nothing TAP_SCHEMA knows is lost.
Text keeps every Unicode character; timestamps are the DALI 1.1 sec. 3.3.3 strings the
VOTable would carry; arrays are Parquet lists.

Overflow and failure: Parquet's footer is written last, so both are reported there, as
file key-value metadata ``QUERY_STATUS`` = ``OK``/``OVERFLOW``/``ERROR`` and
``QUERY_STATUS_MESSAGE`` (the names DALI 1.1 sec. 4.4 uses in VOTable). A failure
mid-stream still ends in a readable file holding the rows written so far.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from vo.formats.writer import FormatWriter
from vo.meta import ColumnMeta
from vo.votable import ColumnType, RowStream

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


class _Drain:
    """A write-only file object whose written bytes are collected until taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


def field_metadata(t: ColumnType) -> dict[str, str]:
    m = t.meta
    values = {
        "datatype": t.datatype,
        "arraysize": t.declared_arraysize,
        "xtype": m.xtype,
        "unit": m.unit,
        "ucd": m.ucd,
        "utype": m.utype,
        "description": m.description,
    }
    return {k: v for k, v in values.items() if v is not None}


class ParquetResultWriter(FormatWriter):
    """Stream a result as a Parquet file (row groups of ``row_group_rows``)."""

    media_type = PARQUET_MEDIA_TYPE

    def __init__(
        self,
        columns: Sequence[ColumnMeta],
        *,
        maxrec: int | None = None,
        row_group_rows: int = 100_000,
        compression: str = "snappy",
    ) -> None:
        super().__init__(columns, maxrec=maxrec)
        self.row_group_rows = row_group_rows
        self.compression = compression
        self.schema = pa.schema(
            [pa.field(t.name, t.arrow, metadata=field_metadata(t)) for t in self.types]
        )

    def _stream(self, rows: RowStream) -> Iterator[bytes]:
        sink = _Drain()
        # Dictionary encoding only for text: on numbers it costs ~10x the write time of
        # 100k rows (measured) and the file came out larger.
        text = [t.name for t in self.types if t.is_text]
        writer = pq.ParquetWriter(
            pa.PythonFile(sink, mode="w"),
            self.schema,
            compression=self.compression,
            use_dictionary=text,
        )
        pending: list[pa.RecordBatch] = []
        pending_rows = 0

        def flush() -> bytes:
            nonlocal pending, pending_rows
            if pending:
                table = pa.Table.from_batches(pending, schema=self.schema)
                writer.write_table(table, row_group_size=max(pending_rows, 1))
                pending, pending_rows = [], 0
            return sink.take()

        def add(batch: pa.RecordBatch) -> bytes:
            nonlocal pending_rows
            pending.append(pa.RecordBatch.from_arrays(batch.columns, schema=self.schema))
            pending_rows += batch.num_rows
            return flush() if pending_rows >= self.row_group_rows else b""

        yield from self._encoded(rows, add)
        try:
            block = flush()
        except Exception as exc:  # noqa: BLE001 - reported in the footer
            rows.fail(exc, unwritten=pending_rows)
            block = sink.take()
        if block:
            yield block
        status = "ERROR" if rows.error else ("OVERFLOW" if rows.overflowed else "OK")
        meta = {"QUERY_STATUS": status}
        if rows.error:
            meta["QUERY_STATUS_MESSAGE"] = rows.error
        elif rows.overflowed:
            meta["QUERY_STATUS_MESSAGE"] = "The result was truncated at MAXREC rows."
        writer.add_key_value_metadata(meta)
        writer.close()
        yield sink.take()
