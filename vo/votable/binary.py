"""BINARY and BINARY2 row packing (VOTable 1.4 sec. 5.3, 5.4) and the base64 STREAM encoding.

Rows are laid out a whole batch at a time: when every cell has a fixed width a numpy
structured array is filled column by column; with variable-length cells (a 4-byte
big-endian element count, then the elements) each run of fixed cells and each variable
column become Arrow binary columns that Arrow concatenates row by row in C++. BINARY2
prefixes each row with the null flags, one bit per column, most significant bit first.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vo.votable.cells import Cells, column_cells
from vo.votable.columns import ColumnType

LINE_CHARS = 76  # RFC 2045 sec. 6.8: base64 lines of at most 76 characters
LINE_BYTES = LINE_CHARS // 4 * 3


def null_flags(cells: Sequence[Cells], rows: int) -> np.ndarray[Any, Any]:
    """BINARY2 null flags (VOTable 1.4 sec. 5.4): (rows, ceil(ncols/8)) uint8."""
    bits = np.zeros((rows, (len(cells) + 7) // 8 * 8), dtype=bool)
    for i, c in enumerate(cells):
        if c.mask is not None:
            bits[:, i] = c.mask
    return np.packbits(bits, axis=1, bitorder="big")


def pack_batch(types: Sequence[ColumnType], batch: pa.RecordBatch, *, binary2: bool) -> bytes:
    """One batch as BINARY (``binary2=False``, integer nulls as magic values) or BINARY2."""
    rows = batch.num_rows
    cells = [
        column_cells(t, batch.column(i), integer_nulls=not binary2) for i, t in enumerate(types)
    ]
    parts: list[tuple[str, Any]] = []
    if binary2:
        parts.append(("fixed", null_flags(cells, rows)))
    for c in cells:
        if c.fixed:
            parts.append(("fixed", c.data))
        else:
            assert c.counts is not None
            parts.append(("fixed", c.counts.astype(">i4")))
            parts.append(("var", c))
    if all(kind == "fixed" for kind, _ in parts):
        return record_array([p for _, p in parts], rows).tobytes()
    return _pack_mixed(parts, rows)


def record_array(blocks: Sequence[np.ndarray[Any, Any]], rows: int) -> np.ndarray[Any, Any]:
    """Fixed-width blocks side by side as one unaligned structured array (also FITS rows)."""
    fields = [(f"f{i}", b.dtype.str, b.shape[1:]) for i, b in enumerate(blocks)]
    rec = np.empty(rows, dtype=np.dtype(fields, align=False))
    for i, b in enumerate(blocks):
        rec[f"f{i}"] = b
    return rec


def _pack_mixed(parts: list[tuple[str, Any]], rows: int) -> bytes:
    """Rows with variable-length cells: every run of fixed blocks and every variable cell
    becomes an Arrow binary column, and Arrow concatenates them row by row in C++."""
    columns: list[pa.Array] = []
    run: list[np.ndarray[Any, Any]] = []
    for kind, value in parts:
        if kind == "fixed":
            run.append(value)
            continue
        if run:
            columns.append(_fixed_binary(_bytes_matrix(run, rows)))
            run = []
        columns.append(_var_binary(value, rows))
    if run:
        columns.append(_fixed_binary(_bytes_matrix(run, rows)))
    joined = pc.binary_join_element_wise(*columns, b"")
    bufs = joined.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=rows + 1, offset=joined.offset * 4)
    if bufs[2] is None:
        return b""
    return bytes(memoryview(bufs[2])[offsets[0] : offsets[-1]])


def _fixed_binary(matrix: np.ndarray[Any, Any]) -> pa.Array:
    rows, width = matrix.shape
    data = pa.py_buffer(np.ascontiguousarray(matrix))
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, data]).cast(
        pa.binary()
    )


def _var_binary(cells: Cells, rows: int) -> pa.Array:
    assert cells.counts is not None
    sizes = cells.counts * cells.item
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    flat = np.ascontiguousarray(cells.data).view(np.uint8)
    return pa.BinaryArray.from_buffers(
        pa.binary(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(flat)]
    )


def _bytes_matrix(blocks: Sequence[np.ndarray[Any, Any]], rows: int) -> np.ndarray[Any, Any]:
    rec = record_array(blocks, rows)
    return rec.view(np.uint8).reshape(rows, rec.dtype.itemsize)


class Base64Lines:
    """Incremental base64 (RFC 2045) of a byte stream in 76-character lines."""

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, data: bytes) -> bytes:
        data = self._rest + data if self._rest else data
        cut = len(data) // LINE_BYTES * LINE_BYTES
        self._rest = data[cut:]
        if not cut:
            return b""
        encoded = np.frombuffer(base64.b64encode(data[:cut]), dtype=np.uint8)
        lines = encoded.reshape(-1, LINE_CHARS)
        out = np.empty((lines.shape[0], LINE_CHARS + 1), dtype=np.uint8)
        out[:, :LINE_CHARS] = lines
        out[:, LINE_CHARS] = ord("\n")
        return out.tobytes()

    def finish(self) -> bytes:
        rest, self._rest = self._rest, b""
        return base64.b64encode(rest) + b"\n" if rest else b""
