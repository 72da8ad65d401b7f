"""A simple JSON result form: ``{"metadata": [...], "data": [[...], ...]}`` (as DaCHS and TAP-JSON).

``metadata`` lists each column's name, datatype, arraysize, xtype, unit, ucd, utype and
description; ``data`` holds one array per row, built with Arrow string kernels.
Floating-point NaN and infinities, which JSON cannot express, become null, as does SQL
NULL; arrays are JSON arrays, bytea an array of byte values, timestamps DALI 1.1
sec. 3.3.3 strings.

Overflow and failure: the document is closed validly in every case and ends with
``"status": {"QUERY_STATUS": "OK"|"OVERFLOW"|"ERROR", "message": ...}``, mirroring the
trailing INFO of DALI 1.1 sec. 4.4.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vo.formats.parquet import field_metadata
from vo.formats.writer import FormatWriter
from vo.votable import ColumnType, RowStream
from vo.votable.cells import binary_parts

JSON_MEDIA_TYPE = "application/json"


_CONTROL = r"[\x00-\x1f]"


def json_strings(arr: pa.Array) -> pa.Array:
    """Strings as JSON string literals (RFC 8259 sec. 7), NULL as ``null``."""
    for needle, escaped in (("\\", "\\\\"), ('"', '\\"')):
        if pc.any(pc.match_substring(arr, needle)).as_py():
            arr = pc.replace_substring(arr, pattern=needle, replacement=escaped)
    if pc.any(pc.match_substring_regex(arr, _CONTROL)).as_py():
        for code in range(0x20):
            if pc.any(pc.match_substring(arr, chr(code))).as_py():
                arr = pc.replace_substring(arr, pattern=chr(code), replacement=f"\\u{code:04x}")
    return pc.binary_join_element_wise('"', arr, '"', "").fill_null("null")


def json_numbers(arr: pa.Array) -> pa.Array:
    """Numbers as JSON; NaN and infinities, which JSON lacks, and NULL as ``null``."""
    text = pc.cast(arr, pa.string())
    if pa.types.is_floating(arr.type) and not pc.all(pc.is_finite(arr)).as_py():
        text = pc.if_else(pc.is_finite(arr), text, "null")
    return text.fill_null("null")


def json_cells(t: ColumnType, arr: pa.Array) -> pa.Array:
    """One column of a batch as JSON value texts."""
    if t.is_text:
        return json_strings(arr)
    if t.datatype == "boolean":
        return pc.if_else(arr, "true", "false").fill_null("null")
    if t.arraysize.scalar:
        return json_numbers(arr)
    if t.is_bytes:  # bytea: an array of byte values
        filled = arr.fill_null(b"")
        flat, sizes = binary_parts(filled)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
        elements = pa.array(flat)
    else:
        offsets = arr.offsets.to_numpy() - arr.offsets[0].as_py()
        elements = pc.list_flatten(arr)
    lists = pa.ListArray.from_arrays(pa.array(offsets), json_numbers(elements))
    text = pc.binary_join_element_wise("[", pc.binary_join(lists, ","), "]", "")
    return pc.if_else(arr.is_null(), "null", text)


class JSONWriter(FormatWriter):
    """Stream the result as one JSON object, rows as arrays."""

    media_type = JSON_MEDIA_TYPE

    def _metadata(self) -> str:
        meta = [{"name": t.name, **field_metadata(t)} for t in self.types]
        return json.dumps(meta, ensure_ascii=False)

    def encode(self, batch: pa.RecordBatch) -> bytes:
        """The batch's rows as ``[...]`` lines separated by ",\n" (no trailing comma)."""
        if batch.num_rows == 0:
            return b""
        cells = [json_cells(t, batch.column(i)) for i, t in enumerate(self.types)]
        joined = (
            pc.binary_join_element_wise(*cells, ",") if cells else pa.array([""] * batch.num_rows)
        )
        rows = pc.binary_join_element_wise("[", joined, "],\n", "")
        bufs = rows.buffers()
        offsets = np.frombuffer(
            bufs[1], dtype=np.int32, count=len(rows) + 1, offset=rows.offset * 4
        )
        return bytes(memoryview(bufs[2])[offsets[0] : offsets[-1] - 2])

    def _stream(self, rows: RowStream) -> Iterator[bytes]:
        yield f'{{"metadata": {self._metadata()},\n"data": [\n'.encode()
        first = True
        for block in self._encoded(rows, self.encode):
            yield block if first else b",\n" + block
            first = False
        status: dict[str, str] = {"QUERY_STATUS": "OK"}
        if rows.error:
            status = {"QUERY_STATUS": "ERROR", "message": rows.error}
        elif rows.overflowed:
            status = {
                "QUERY_STATUS": "OVERFLOW",
                "message": "The result was truncated at MAXREC rows.",
            }
        yield f'\n],\n"status": {json.dumps(status, ensure_ascii=False)}}}\n'.encode()
