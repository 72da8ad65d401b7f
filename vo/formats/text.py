"""CSV (RFC 4180) and TSV (IANA text/tab-separated-values) result writers.

CSV is written by ``pyarrow.csv`` (the fastest path measured): numbers as Arrow formats
them, booleans ``true``/``false``, text always quoted (so an empty string ``""`` differs
from NULL, an empty field), arrays (points, polygons, ...) as space-separated numbers as
in DALI 1.1 sec. 3.3, timestamps ISO 8601. NaN and infinities are written as NULL, since
``nan``/``inf`` are not numbers to Java readers such as TOPCAT.

TSV has no quoting, so its cells are the VOTable TABLEDATA texts (``vo.votable.tabledata``)
without XML escaping, built with Arrow string kernels: ``NaN``/``+Inf``/``-Inf``,
booleans ``T``/``F``, NULL empty; tabs and line breaks inside text become spaces.

Overflow and failure: a CSV/TSV body cannot carry them. The writer stops after MAXREC
rows (``overflowed`` is set for the caller, who may send a header such as
``X-VO-Query-Status``); after a failure the output simply ends at the last whole row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from vo.formats.writer import FormatWriter
from vo.meta import ColumnMeta
from vo.votable import ColumnType, RowStream
from vo.votable.tabledata import cell_text

CSV_MEDIA_TYPE = "text/csv;header=present"
TSV_MEDIA_TYPE = "text/tab-separated-values"


def csv_field(text: pa.Array) -> pa.Array:
    """RFC 4180 sec. 2: quote fields holding a comma, quote or line break; double quotes."""
    needs = pc.match_substring_regex(text, '[",\r\n]')
    if not pc.any(needs).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def tsv_field(text: pa.Array) -> pa.Array:
    """IANA TSV fields cannot hold tabs or line breaks: they become spaces."""
    if pc.any(pc.match_substring_regex(text, "[\t\r\n]")).as_py():
        return pc.replace_substring_regex(text, "[\t\r\n]", " ")
    return text


def _text_buffer(rows: pa.Array) -> bytes:
    bufs = rows.buffers()
    if bufs[2] is None:
        return b""
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=len(rows) + 1, offset=rows.offset * 4)
    return bytes(memoryview(bufs[2])[offsets[0] : offsets[-1]])


class DelimitedWriter(FormatWriter):
    """Header line with the column names, then one line per row."""

    delimiter = ","
    line_end = "\r\n"

    def __init__(
        self, columns: Sequence[ColumnMeta], *, maxrec: int | None = None, header: bool = True
    ) -> None:
        super().__init__(columns, maxrec=maxrec)
        self.header = header

    def _field(self, text: pa.Array) -> pa.Array:
        raise NotImplementedError

    def header_line(self) -> bytes:
        names = self._field(pa.array([t.name for t in self.types], pa.string()))
        return (self.delimiter.join(names.to_pylist()) + self.line_end).encode("utf-8")

    def encode(self, batch: pa.RecordBatch) -> bytes:
        if batch.num_rows == 0 or not self.types:
            return b""
        texts = []
        for i, t in enumerate(self.types):
            text = cell_text(t, batch.column(i), xml=False)
            # numbers, booleans and arrays of numbers never need quoting
            texts.append(self._field(text) if t.is_text else text)
        joined = pc.binary_join_element_wise(*texts, self.delimiter)
        lines = pc.binary_join_element_wise(joined, self.line_end, "")
        return _text_buffer(lines)

    def _stream(self, rows: RowStream) -> Iterator[bytes]:
        if self.header:
            yield self.header_line()
        yield from self._encoded(rows, self.encode)


class CSVWriter(DelimitedWriter):
    """RFC 4180 CSV, ``text/csv;header=present`` (or header=absent), CRLF line ends."""

    media_type = CSV_MEDIA_TYPE

    def _field(self, text: pa.Array) -> pa.Array:
        return csv_field(text)

    def _csv_column(self, t: ColumnType, arr: pa.Array) -> pa.Array:
        if t.is_text:
            size = t.arraysize
            limit = size.limit if size.variable else (size.count or 1)
            return pc.utf8_slice_codeunits(arr, 0, limit) if limit is not None else arr
        if not t.arraysize.scalar:  # arrays and bytea as space-separated numbers
            return pc.if_else(arr.is_null(), None, cell_text(t, arr, xml=False))
        if pa.types.is_floating(arr.type) and not pc.all(pc.is_finite(arr)).as_py():
            return pc.if_else(pc.is_finite(arr), arr, None)
        return arr

    def encode(self, batch: pa.RecordBatch) -> bytes:
        if batch.num_rows == 0 or not self.types:
            return b""
        arrays = [self._csv_column(t, batch.column(i)) for i, t in enumerate(self.types)]
        table = pa.RecordBatch.from_arrays(arrays, names=[t.name for t in self.types])
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(include_header=False, eol=self.line_end)
        pacsv.write_csv(table, sink, options)
        return sink.getvalue().to_pybytes()


class TSVWriter(DelimitedWriter):
    """Tab-separated values, one line per row, ``\\n`` line ends."""

    media_type = TSV_MEDIA_TYPE
    delimiter = "\t"
    line_end = "\n"

    def _field(self, text: pa.Array) -> pa.Array:
        return tsv_field(text)
