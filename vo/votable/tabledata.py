"""TABLEDATA rows (VOTable 1.4 sec. 5.1), built with Arrow string kernels a batch at a time.

Cell text follows VOTable 1.4 sec. 6: integers in decimal, floating point in the shortest
round-trip form with ``NaN``/``+Inf``/``-Inf``, booleans ``T``/``F``, arrays as
space-separated elements. A null cell is an empty ``<TD></TD>`` (sec. 5.5); so is an empty
string or variable-length array, which TABLEDATA cannot tell apart from null (sec. 5.5). A
null fixed-size array is written as its NaN / VALUES-null elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vo.votable.cells import column_cells
from vo.votable.columns import ColumnType, text_without_non_bmp
from vo.votable.xmltext import escape_text_array

_ASCII_ONLY = r"[^\x00-\x7F]"


def number_text(arr: pa.Array) -> pa.Array:
    """Numbers as VOTable text; nulls stay null."""
    text = pc.cast(arr, pa.string())
    if pa.types.is_floating(arr.type):
        special = pc.or_(pc.is_nan(arr), pc.is_inf(arr))
        if pc.any(special).as_py():
            inf = pc.if_else(pc.greater(arr, 0), "+Inf", "-Inf")
            named = pc.if_else(pc.is_nan(arr), "NaN", inf)
            text = pc.if_else(special, named, text)
    return text


def _masked(text: pa.Array, mask: np.ndarray[Any, Any] | None) -> pa.Array:
    if mask is not None:
        text = pc.if_else(pa.array(mask), "", text)
    return text.fill_null("")


def cell_text(ctype: ColumnType, arr: pa.Array, *, xml: bool = True) -> pa.Array:
    """Cell text of one column, "" for nulls: escaped for XML (TABLEDATA) or plain (CSV).

    With ``xml`` the text of ``char`` columns is restricted to ASCII (VOTable 1.4 sec. 6)
    and characters XML 1.0 forbids are replaced; plain text keeps every character.
    """
    if ctype.datatype == "boolean":
        return pc.if_else(arr, "T", "F").fill_null("")
    if ctype.is_text:
        return _string_text(ctype, arr, xml=xml).fill_null("")
    if ctype.arraysize.scalar:
        return number_text(arr).fill_null("")
    cells = column_cells(ctype, arr, integer_nulls=True)
    flat = np.asarray(cells.data).reshape(-1)
    elements = pa.array(flat.astype(flat.dtype.newbyteorder("=")))
    rows = len(arr)
    if cells.counts is None:
        k = cells.data.shape[1] if cells.data.ndim > 1 else 1
        offsets = np.arange(0, rows * k + 1, k, dtype=np.int32)
    else:
        offsets = np.concatenate([[0], np.cumsum(cells.counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), number_text(elements))
    joined = pc.binary_join(lists, " ")
    if cells.counts is None and xml:
        # A null fixed-size array keeps its NaN / magic-value elements: an empty TD would
        # have the wrong element count for validators (votlint).
        return joined
    return _masked(joined, cells.mask)


def _string_text(ctype: ColumnType, arr: pa.Array, *, xml: bool) -> pa.Array:
    size = ctype.arraysize
    limit = size.limit if size.variable else (size.count or 1)
    if ctype.datatype == "unicodeChar":
        arr = text_without_non_bmp(arr) if xml else arr
        replacement = "\ufffd"
    else:
        if xml and not pc.all(pc.string_is_ascii(arr.fill_null(""))).as_py():
            arr = pc.replace_substring_regex(arr, pattern=_ASCII_ONLY, replacement="?")
        replacement = "?"
    if limit is not None:
        arr = pc.utf8_slice_codeunits(arr, 0, limit)
    return escape_text_array(arr, replacement=replacement) if xml else arr


def tabledata_rows(types: Sequence[ColumnType], batch: pa.RecordBatch) -> bytes:
    """``<TR><TD>..</TD></TR>`` lines for every row of the batch, UTF-8."""
    texts = [cell_text(t, batch.column(i)) for i, t in enumerate(types)]
    if not texts or batch.num_rows == 0:
        return b""
    joined = pc.binary_join_element_wise(*texts, "</TD><TD>")
    rows = pc.binary_join_element_wise("<TR><TD>", joined, "</TD></TR>\n", "")
    bufs = rows.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=len(rows) + 1, offset=rows.offset * 4)
    return bytes(memoryview(bufs[2])[offsets[0] : offsets[-1]])
