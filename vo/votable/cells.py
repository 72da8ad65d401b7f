"""Arrow columns as numpy cells: the shared ground of BINARY, BINARY2, TABLEDATA and FITS.

A ``Cells`` value holds one column of a batch either as fixed-width cells (a typed,
big-endian numpy array of shape (rows,) or (rows, k)) or as variable-length cells (a
flat element array plus the element count of every cell), and the null mask. Nulls are
filled as VOTable 1.4 sec. 5.4/5.5 recommend: NaN for floating point, the declared
magic value for integers where ``integer_nulls`` is asked for (BINARY, FITS TNULL, array
elements), otherwise zero bytes, and ``?`` for booleans (sec. 6 "Logical").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vo.votable.columns import ColumnType, text_without_non_bmp

_ASCII_ONLY = r"[^\x00-\x7F]"


@dataclass
class Cells:
    """One column of a batch, ready to be laid out in rows."""

    data: np.ndarray[Any, Any]  # fixed: (rows,) or (rows, k); variable: flat elements
    mask: np.ndarray[Any, Any] | None  # True where the cell is null; None = no nulls
    counts: np.ndarray[Any, Any] | None = None  # variable only: elements per cell
    item: int = 1  # variable only: bytes per counted element (2 for UCS-2 text)

    @property
    def fixed(self) -> bool:
        return self.counts is None

    @property
    def cell_bytes(self) -> int:
        """Bytes per fixed cell."""
        per_row = self.data.itemsize
        for d in self.data.shape[1:]:
            per_row *= d
        return per_row


def null_mask(arr: pa.Array) -> np.ndarray[Any, Any] | None:
    if arr.null_count == 0:
        return None
    return np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)


def column_cells(ctype: ColumnType, arr: pa.Array, *, integer_nulls: bool) -> Cells:
    """Cells of one column (``integer_nulls``: fill null integer scalars with the magic value)."""
    mask = null_mask(arr)
    if ctype.datatype == "boolean":
        values = np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        codes = np.where(values, np.uint8(ord("T")), np.uint8(ord("F")))
        if mask is not None:
            codes[mask] = ord("?")
        return Cells(codes.astype(np.uint8), mask)
    if ctype.is_text or ctype.is_bytes:
        flat, sizes = text_bytes(ctype, arr)
        width = 2 if ctype.datatype == "unicodeChar" else 1
        return _sized(ctype, flat, sizes // width, mask, pad=0, width=width)
    dtype = ctype.numpy_dtype
    int_null = ctype.integer_null
    if ctype.arraysize.scalar:
        if dtype.kind == "f":
            filled = arr.fill_null(float("nan"))
        else:
            filled = arr.fill_null(int_null if (integer_nulls and int_null is not None) else 0)
        return Cells(np.asarray(filled.to_numpy(zero_copy_only=False), dtype=dtype), mask)
    # Numeric arrays: null elements inside a cell always take NaN / the magic value.
    pad: float | int = float("nan") if dtype.kind == "f" else (int_null or 0)
    counts = np.asarray(pc.list_value_length(arr).fill_null(0).to_numpy(), dtype=np.int64)
    elements = pc.list_flatten(arr).fill_null(pad)
    flat = np.asarray(elements.to_numpy(zero_copy_only=False), dtype=dtype)
    return _sized(ctype, flat, counts, mask, pad=pad, width=1)


def text_bytes(
    ctype: ColumnType, arr: pa.Array
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Encoded bytes of a text/binary column: char as ASCII ('?' for anything else),
    unicodeChar as UCS-2 big-endian (VOTable 1.4 sec. 6), bytea as is."""
    if ctype.datatype == "unicodeChar":
        text = text_without_non_bmp(arr.fill_null("")).to_pylist()
        encoded = [s.encode("utf-16-be") for s in text]
        arr = pa.array(encoded, pa.binary())
    else:
        arr = arr.fill_null("" if ctype.is_text else b"")
        if ctype.is_text and not pc.all(pc.string_is_ascii(arr)).as_py():
            arr = pc.replace_substring_regex(arr, pattern=_ASCII_ONLY, replacement="?")
    return binary_parts(arr)


def binary_parts(arr: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(flat uint8 data, byte length per value) of a null-free string/binary array."""
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    flat = data[offsets[0] : offsets[-1]]
    return flat, np.diff(offsets).astype(np.int64)


def _sized(
    ctype: ColumnType,
    flat: np.ndarray[Any, Any],
    counts: np.ndarray[Any, Any],
    mask: np.ndarray[Any, Any] | None,
    *,
    pad: float | int,
    width: int,
) -> Cells:
    """Fit variable-length values to the declared arraysize: pad/truncate a fixed size,
    truncate at a bounded one ("10*"), leave "*" alone."""
    size = ctype.arraysize
    if width > 1:
        flat = flat.view(np.dtype(f">u{width}"))  # one element per UCS-2 character
    if not size.variable:
        k = size.count or 1
        fixed = fit_fixed(flat, counts, k, pad)
        if width > 1:
            fixed = fixed.view(np.uint8).reshape(len(counts), k * width)
        return Cells(fixed if k > 1 or width > 1 else fixed.reshape(-1), mask)
    if size.limit is not None and counts.size and counts.max() > size.limit:
        flat, counts = clip(flat, counts, size.limit)
    item = width if width > 1 else flat.itemsize
    return Cells(flat.view(np.uint8) if width > 1 else flat, mask, counts, item)


def _gather_index(
    counts: np.ndarray[Any, Any], take: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(source index, position within cell) of the first ``take`` elements of every cell."""
    starts = np.cumsum(counts) - counts
    total = int(take.sum())
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(take) - take, take)
    return np.repeat(starts, take) + within, within


def fit_fixed(
    flat: np.ndarray[Any, Any], counts: np.ndarray[Any, Any], k: int, pad: float | int
) -> np.ndarray[Any, Any]:
    """Variable cells -> (rows, k): truncated past k, padded with ``pad`` below k."""
    rows = len(counts)
    out = np.full((rows, k), pad, dtype=flat.dtype)
    if rows and np.all(counts == k):
        return flat[: rows * k].reshape(rows, k).copy()
    take = np.minimum(counts, k)
    src, within = _gather_index(counts, take)
    out[np.repeat(np.arange(rows), take), within] = flat[src]
    return out


def clip(
    flat: np.ndarray[Any, Any], counts: np.ndarray[Any, Any], limit: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Truncate every variable cell to at most ``limit`` elements."""
    take = np.minimum(counts, limit)
    src, _ = _gather_index(counts, take)
    return flat[src], take
