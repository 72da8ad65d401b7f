"""FITS binary table result writer, spooled because NAXIS2 precedes the data.

The record batches are first spooled to a temporary Arrow IPC file (disk, not memory)
while the writer learns the row count, the widest string of each text column and the
heap size; then the primary header, the BINTABLE header (astropy.io.fits formats the
cards), the rows and the heap are streamed from the spool. FITS 4.0 sec. 7.3:
integers carry TNULLn, floating point nulls are NaN, booleans ``L`` with 0 for null,
text is ``nA`` (ASCII; other characters become ``?``), variable-length arrays (polygons,
bytea) use ``P``/``Q`` heap descriptors, and TUNITn, TUCDn (the STILTS convention) and
TCOMMn carry unit, UCD and description.

Overflow and failure are recorded in the primary header, which is written after the
spool is complete: HIERARCH ``QUERY_STATUS`` = OK/OVERFLOW/ERROR and
``QUERY_STATUS_MESSAGE`` (names as DALI 1.1 sec. 4.4 uses them in VOTable).
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from astropy.io import fits

from vo.formats.writer import FormatWriter
from vo.meta import ColumnMeta
from vo.votable import ColumnType, RowStream
from vo.votable.binary import record_array
from vo.votable.cells import binary_parts, column_cells, fit_fixed

FITS_MEDIA_TYPE = "application/fits"
BLOCK = 2880
_LETTER = {
    "boolean": "L",
    "unsignedByte": "B",
    "short": "I",
    "int": "J",
    "long": "K",
    "float": "E",
    "double": "D",
}
_NOT_FITS_TEXT = re.compile(r"[^\x20-\x7e]")


def _header_text(value: str) -> str:
    """FITS header strings are printable ASCII (FITS 4.0 sec. 4.2.1)."""
    return _NOT_FITS_TEXT.sub("?", value)


def _ascii(ctype: ColumnType, arr: pa.Array) -> pa.Array:
    """Text cells as printable-ASCII-or-? strings, cut to the declared arraysize."""
    arr = arr.fill_null("")
    if not pc.all(pc.string_is_ascii(arr)).as_py():
        arr = pc.replace_substring_regex(arr, pattern=r"[^\x00-\x7F]", replacement="?")
    size = ctype.arraysize
    limit = size.limit if size.variable else (size.count or 1)
    return pc.utf8_slice_codeunits(arr, 0, limit) if limit is not None else arr


@dataclass
class _Layout:
    """What the spooling pass learns about one column."""

    width: int = 1  # text: widest value in bytes
    max_count: int = 0  # variable arrays: most elements in a cell
    heap: int = 0  # variable arrays: bytes in the heap


def _variable(t: ColumnType) -> bool:
    return not t.is_text and not t.arraysize.scalar and t.arraysize.variable


def _heap_parts(t: ColumnType, arr: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(flat heap bytes, element count per cell) of a variable-length column."""
    if t.is_bytes:
        flat, sizes = binary_parts(arr.fill_null(b""))
        return flat, sizes
    cells = column_cells(t, arr, integer_nulls=True)
    assert cells.counts is not None
    return np.ascontiguousarray(cells.data).view(np.uint8), cells.counts


class FITSWriter(FormatWriter):
    """A FITS file: empty primary HDU with the query status, then one BINTABLE."""

    media_type = FITS_MEDIA_TYPE

    def __init__(
        self,
        columns: Sequence[ColumnMeta],
        *,
        maxrec: int | None = None,
        table_name: str | None = None,
        spool_dir: str | None = None,
    ) -> None:
        super().__init__(columns, maxrec=maxrec)
        self.table_name = table_name
        self.spool_dir = spool_dir

    def _stream(self, rows: RowStream) -> Iterator[bytes]:
        layouts = [_Layout() for _ in self.types]
        schema = pa.schema([pa.field(f"c{i}", t.arrow) for i, t in enumerate(self.types)])
        with tempfile.NamedTemporaryFile(dir=self.spool_dir, suffix=".arrow") as spool:
            with pa.OSFile(spool.name, "wb") as sink, pa.ipc.new_stream(sink, schema) as ipc:

                def observe(batch: pa.RecordBatch) -> bytes:
                    batch = pa.RecordBatch.from_arrays(batch.columns, schema=schema)
                    self._observe(layouts, batch)
                    ipc.write_batch(batch)
                    return b""

                for _ in self._encoded(rows, observe):
                    pass
            large = sum(lay.heap for lay in layouts) >= 2**31
            yield self._primary_header(rows)
            yield self._table_header(layouts, rows.rows_written, large)
            size = 0
            heap_pos = 0
            with pa.OSFile(spool.name, "rb") as source:  # not mmap: keeps RSS flat
                for batch in pa.ipc.open_stream(source):
                    block, heap_pos = self._rows_bytes(layouts, batch, heap_pos, large)
                    size += len(block)
                    yield block
            with pa.OSFile(spool.name, "rb") as source:  # not mmap: keeps RSS flat
                for batch in pa.ipc.open_stream(source):
                    for i, t in enumerate(self.types):
                        if _variable(t):
                            heap, _ = _heap_parts(t, batch.column(i))
                            size += heap.size
                            yield heap.tobytes()
            yield b"\0" * (-size % BLOCK)

    def _observe(self, layouts: list[_Layout], batch: pa.RecordBatch) -> None:
        for i, t in enumerate(self.types):
            arr, lay = batch.column(i), layouts[i]
            if t.is_text:
                widest = pc.max(pc.binary_length(_ascii(t, arr))).as_py() or 0
                lay.width = max(lay.width, widest)
            elif _variable(t):
                heap, counts = _heap_parts(t, arr)
                lay.heap += heap.size
                if counts.size:
                    lay.max_count = max(lay.max_count, int(counts.max()))

    def _rows_bytes(
        self, layouts: list[_Layout], batch: pa.RecordBatch, heap_pos: int, large: bool
    ) -> tuple[bytes, int]:
        n = batch.num_rows
        blocks: list[np.ndarray[Any, Any]] = []
        for i, t in enumerate(self.types):
            arr = batch.column(i)
            if t.is_text:
                flat, sizes = binary_parts(_ascii(t, arr))
                blocks.append(fit_fixed(flat, sizes, layouts[i].width, 0))
            elif _variable(t):
                heap, counts = _heap_parts(t, arr)
                nbytes = counts * (1 if t.is_bytes else t.numpy_dtype.itemsize)
                offsets = heap_pos + np.cumsum(nbytes) - nbytes
                heap_pos += int(nbytes.sum())
                desc = np.empty((n, 2), dtype=">i8" if large else ">i4")
                desc[:, 0] = counts
                desc[:, 1] = offsets
                blocks.append(desc)
            else:
                cells = column_cells(t, arr, integer_nulls=True)
                data = cells.data
                if t.datatype == "boolean":
                    data = np.where(data == ord("?"), np.uint8(0), data).astype(np.uint8)
                blocks.append(data)
        return record_array(blocks, n).tobytes(), heap_pos

    def _primary_header(self, rows: RowStream) -> bytes:
        h = fits.Header()
        h["SIMPLE"] = True
        h["BITPIX"] = 8
        h["NAXIS"] = 0
        h["EXTEND"] = True
        status = "ERROR" if rows.error else ("OVERFLOW" if rows.overflowed else "OK")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # HIERARCH cards are intended
            h["HIERARCH QUERY_STATUS"] = status
            if rows.error:
                h["HIERARCH QUERY_STATUS_MESSAGE"] = _header_text(rows.error)
            elif rows.overflowed:
                h["HIERARCH QUERY_STATUS_MESSAGE"] = "The result was truncated at MAXREC rows."
        return h.tostring(padding=True).encode("ascii")

    def _table_header(self, layouts: list[_Layout], nrows: int, large: bool) -> bytes:
        h = fits.Header()
        h["XTENSION"] = "BINTABLE"
        h["BITPIX"] = 8
        h["NAXIS"] = 2
        h["NAXIS1"] = 0  # set below
        h["NAXIS2"] = nrows
        h["PCOUNT"] = sum(lay.heap for lay in layouts)
        h["GCOUNT"] = 1
        h["TFIELDS"] = len(self.types)
        row_bytes = 0
        for i, (t, lay) in enumerate(zip(self.types, layouts, strict=True), start=1):
            tform, nbytes, tdim = self._tform(t, lay, large)
            row_bytes += nbytes
            h[f"TTYPE{i}"] = _header_text(t.name)
            h[f"TFORM{i}"] = tform
            m = t.meta
            if t.integer_null is not None and not _variable(t):
                # also marks null elements of fixed arrays; astropy cannot apply TNULL
                # to P/Q columns, whose null elements keep the magic value
                h[f"TNULL{i}"] = t.integer_null
            if tdim:
                h[f"TDIM{i}"] = tdim
            if m.unit:
                h[f"TUNIT{i}"] = _header_text(m.unit)
            if m.ucd:
                h[f"TUCD{i}"] = _header_text(m.ucd)
            if m.description:
                h[f"TCOMM{i}"] = _header_text(m.description)
        h["NAXIS1"] = row_bytes
        h["EXTNAME"] = _header_text(self.table_name or "RESULT")
        return h.tostring(padding=True).encode("ascii")

    @staticmethod
    def _tform(t: ColumnType, lay: _Layout, large: bool) -> tuple[str, int, str | None]:
        """(TFORM, bytes in the row, TDIM) of a column (FITS 4.0 sec. 7.3.1, 7.3.5)."""
        if t.is_text:
            return f"{lay.width}A", lay.width, None
        letter = _LETTER[t.datatype]
        if _variable(t):
            return f"{'Q' if large else 'P'}{letter}({lay.max_count})", 16 if large else 8, None
        size = 1 if t.arraysize.scalar else (t.arraysize.count or 1)
        itemsize = 1 if letter in "LB" else np.dtype(t.numpy_dtype).itemsize
        tdim = None
        text = t.arraysize.text
        if text and "x" in text:
            tdim = "(" + ",".join(text.split("x")) + ")"
        return f"{size}{letter}", size * itemsize, tdim
