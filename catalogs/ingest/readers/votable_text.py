"""TABLEDATA cells (text of TD elements) -> Arrow arrays, one column of a chunk at a time.

VOTable 1.4 sec. 5.1 and sec. 6: numbers in decimal (integers also as 0x hex), floats
with NaN/Inf, booleans as T/F/1/0/true/false (? or blank: NULL), bits as 0/1, arrays
as whitespace-separated elements. An empty TD is NULL (sec. 5.5) except in char
columns, where empty and NULL strings are not distinguished (sec. 5.5) and astropy
reads an empty string; a VALUES null magic value is NULL (sec. 4.7). Values are
converted column by column with pyarrow; only a column that fails that fast parse is
walked value by value, to accept what Python reads (``+5``, `` 7``) or to name the bad
row and column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalogs.ingest.readers.votable_fields import FieldDef
from vo.errors import IngestError

_TRUE = {"t": True, "true": True, "1": True, "f": False, "false": False, "0": False,
         "?": None, "": None}


def text_column(f: FieldDef, cells: Sequence[str], row0: int, where: str) -> pa.Array:
    """The Arrow array of one column; ``row0`` is the 1-based number of the first row."""
    if f.is_text:
        if f.xtype != "timestamp":
            return pa.array(cells, pa.string())
        return timestamps(pa.array(cells, pa.string()), f, row0, where)
    if not f.is_array:
        stripped = [c.strip() for c in cells]
        if f.datatype in ("boolean", "bit"):
            return _booleans(stripped, f, row0, where)
        return numbers(stripped, f, row0, where)
    return _arrays(f, cells, row0, where)


def timestamps(text: pa.Array, f: FieldDef, row0: int, where: str) -> pa.Array:
    """ISO 8601 text (DALI 1.1 sec. 3.3.3) -> timestamp[us]; a trailing Z is UTC."""
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), False)
    if pc.any(blank).as_py():
        text = pc.if_else(blank, pa.scalar(None, pa.string()), text)
    try:
        return text.cast(pa.timestamp("us"))
    except pa.ArrowInvalid:
        pass
    import datetime as dt

    out = []
    for i, v in enumerate(text.to_pylist()):
        if v is None:
            out.append(None)
            continue
        try:
            t = dt.datetime.fromisoformat(v.strip())
        except ValueError:
            raise IngestError(f"{where}, row {row0 + i}, column {f.name}: {v!r} is not an ISO 8601 "
                              "timestamp (e.g. 2020-01-31T12:00:00)", code="INGEST-VALUE") from None
        if t.tzinfo is not None:
            t = t.astimezone(dt.UTC).replace(tzinfo=None)
        out.append(t)
    return pa.array(out, pa.timestamp("us"))


def numbers(tokens: Sequence[str], f: FieldDef, row0: int, where: str,
            rows: np.ndarray | None = None) -> pa.Array:
    """Numeric tokens ('' is NULL) -> Arrow array of ``f``'s element type, VALUES null applied.

    ``rows`` maps each token to its row offset when tokens are array elements."""
    t = f.element_type
    text = pa.array([v if v else None for v in tokens], pa.string())
    try:
        arr = text.cast(t)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        arr = _numbers_slowly(tokens, f, row0, where, rows)
    return apply_magic_null(arr, f.null_value(where))


def apply_magic_null(arr: pa.Array, magic: int | float | None) -> pa.Array:
    """Elements equal to the VALUES null value (VOTable 1.4 sec. 4.7) become NULL."""
    if magic is None or not len(arr):
        return arr
    hit = pc.fill_null(pc.equal(arr, pa.scalar(magic)), False)
    if not pc.any(hit).as_py():
        return arr
    return pc.if_else(hit, pa.scalar(None, arr.type), arr)


def _numbers_slowly(tokens: Sequence[str], f: FieldDef, row0: int, where: str,
                    rows: np.ndarray | None) -> pa.Array:
    floating = f.datatype in ("float", "double")
    out: list[int | float | None] = []
    for i, v in enumerate(tokens):
        if not v:
            out.append(None)
            continue
        try:
            if floating:
                out.append(float(v))
            else:
                s = v.strip().lower()
                out.append(int(s, 16) if s.lstrip("+-").startswith("0x") else int(s))
        except ValueError:
            row = row0 + (int(rows[i]) if rows is not None else i)
            raise IngestError(f"{where}, row {row}, column {f.name}: {v!r} is not a valid "
                              f"{f.datatype} (VOTable 1.4 sec. 6)", code="INGEST-VALUE") from None
        if not floating:
            info = np.iinfo(f.element_dtype)
            if not info.min <= out[-1] <= info.max:  # type: ignore[operator]
                row = row0 + (int(rows[i]) if rows is not None else i)
                raise IngestError(f"{where}, row {row}, column {f.name}: {v!r} is out of range for "
                                  f"{f.datatype} [{info.min}, {info.max}]", code="INGEST-VALUE")
    return pa.array(out, f.element_type)


def _booleans(tokens: Sequence[str], f: FieldDef, row0: int, where: str,
              rows: np.ndarray | None = None) -> pa.Array:
    out = []
    for i, v in enumerate(tokens):
        try:
            out.append(_TRUE[v.lower()])
        except KeyError:
            row = row0 + (int(rows[i]) if rows is not None else i)
            raise IngestError(f"{where}, row {row}, column {f.name}: {v!r} is not a {f.datatype} "
                              "(T, F, 1, 0, true, false or ?)", code="INGEST-VALUE") from None
    return pa.array(out, pa.bool_())


def _arrays(f: FieldDef, cells: Sequence[str], row0: int, where: str) -> pa.Array:
    if f.datatype == "bit":  # '0110' or '0 1 1 0'
        per_row = [list("".join(c.split())) for c in cells]
    else:
        per_row = [c.split() for c in cells]
    counts = np.fromiter((len(r) for r in per_row), dtype=np.int64, count=len(per_row))
    empty = counts == 0
    if f.variable:
        bad = counts % f.fixed_items != 0
        expect = f"a multiple of {f.fixed_items}"
    else:
        bad = ~empty & (counts != f.fixed_items)
        expect = str(f.fixed_items)
    if bad.any():
        i = int(np.argmax(bad))
        raise IngestError(f"{where}, row {row0 + i}, column {f.name}: {counts[i]} values where "
                          f"arraysize {f.arraysize!r} needs {expect}", code="INGEST-VALUE")
    if not f.variable and empty.any():  # NULL rows of a fixed-size column: NULL elements
        per_row = [r or [""] * f.fixed_items for r in per_row]
        counts = np.where(empty, f.fixed_items, counts)
    flat = [v for r in per_row for v in r]
    rows = np.repeat(np.arange(len(per_row)), counts)
    if f.datatype in ("boolean", "bit"):
        values = _booleans(flat, f, row0, where, rows)
    else:
        values = numbers(flat, f, row0, where, rows)
    return list_array(f, values, counts, empty)


def list_array(f: FieldDef, values: pa.Array, counts: np.ndarray, null: np.ndarray) -> pa.Array:
    """A list column (fixed-size when ``f`` declares one) from flat element values and
    per-row element counts; rows flagged in ``null`` are NULL."""
    mask = pa.array(null) if null.any() else None
    if pa.types.is_fixed_size_list(f.arrow_type):
        return pa.FixedSizeListArray.from_arrays(values, f.fixed_items, mask=mask)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=mask)
