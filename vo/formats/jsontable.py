"""A simple JSON result form: ``{"metadata": [...], "data": [[...], ...]}`` (as DaCHS and TAP-JSON).

``metadata`` lists each column's name, datatype, arraysize, xtype, unit, ucd, utype and
description; ``data`` holds one array per row. Floating-point NaN and infinities, which
JSON cannot express, become null, as does SQL NULL; arrays are JSON arrays, bytea an
array of byte values, timestamps DALI 1.1 sec. 3.3.3 strings.

Overflow and failure: the document is closed validly in every case and ends with
``"status": {"QUERY_STATUS": "OK"|"OVERFLOW"|"ERROR", "message": ...}``, mirroring the
trailing INFO of DALI 1.1 sec. 4.4.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vo.formats.parquet import field_metadata
from vo.formats.writer import FormatWriter
from vo.votable import ColumnType, RowStream

JSON_MEDIA_TYPE = "application/json"


def _json_values(t: ColumnType, arr: pa.Array) -> list[Any]:
    if pa.types.is_floating(arr.type):
        arr = pc.if_else(pc.is_finite(arr), arr, None)
    elif pa.types.is_list(arr.type) and pa.types.is_floating(arr.type.value_type):
        values = arr.values
        clean = pc.if_else(pc.is_finite(values), values, None)
        arr = pa.ListArray.from_arrays(arr.offsets, clean, mask=arr.is_null())
    elif pa.types.is_binary(arr.type):
        return [None if v is None else list(v) for v in arr.to_pylist()]
    return arr.to_pylist()


class JSONWriter(FormatWriter):
    """Stream the result as one JSON object, rows as arrays."""

    media_type = JSON_MEDIA_TYPE

    def _metadata(self) -> str:
        meta = [{"name": t.name, **field_metadata(t)} for t in self.types]
        return json.dumps(meta, ensure_ascii=False)

    def encode(self, batch: pa.RecordBatch) -> bytes:
        if batch.num_rows == 0:
            return b""
        columns = [_json_values(t, batch.column(i)) for i, t in enumerate(self.types)]
        rows = json.dumps(list(zip(*columns, strict=True)), ensure_ascii=False, allow_nan=False)
        return rows[1:-1].encode("utf-8")  # the rows without the enclosing brackets

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
