"""VOTable reader (TABLEDATA, BINARY, BINARY2, FITS serialisations) through astropy.io.votable.

astropy parses the whole table into memory (no streaming parser for VOTable is at
hand); batches are then cut from it. FIELD unit/ucd/utype/DESCRIPTION become column
metadata, COOSYS gives the frame and epoch, the TABLE DESCRIPTION the description.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from catalogs.ingest.readers.base import Reader, nan_to_null
from catalogs.ingest.spec import ColumnSpec
from vo.errors import IngestError

_DT = {"boolean": pa.bool_(), "unsignedByte": pa.uint8(), "short": pa.int16(), "int": pa.int32(),
       "long": pa.int64(), "float": pa.float32(), "double": pa.float64()}


class VOTableReader(Reader):
    def __init__(self, path: Path, *, chunk_rows: int = 200_000) -> None:
        from astropy.io import votable

        self.path = path
        self.chunk_rows = chunk_rows
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                doc = votable.parse(str(path), verify="ignore")
            self._table = doc.get_first_table()
        except Exception as exc:  # noqa: BLE001 - astropy raises many types for bad XML
            raise IngestError(f"{path}: not a readable VOTable: {exc}", code="INGEST-VOTABLE") from None
        t = self._table
        self.rows_hint = len(t.array)
        self.description = t.description or None
        coosys = list(doc.iter_coosys())
        if coosys:
            self.frame = coosys[0].system
            self.epoch = str(coosys[0].epoch) if coosys[0].epoch else None
            self.equinox = str(coosys[0].equinox) if coosys[0].equinox else None
        self.specs = [self._spec(f) for f in t.fields]

    def _spec(self, f: object) -> ColumnSpec:
        dt, size, xtype = f.datatype, f.arraysize, f.xtype  # type: ignore[attr-defined]
        name = f.name  # type: ignore[attr-defined]
        if dt in ("char", "unicodeChar"):
            t: pa.DataType = pa.timestamp("us") if xtype == "timestamp" else pa.string()
        elif dt in _DT:
            base = _DT[dt]
            if size in (None, "1"):
                t = base
            elif "x" in str(size) or str(size).endswith("*"):
                t = pa.list_(base) if "x" not in str(size) else pa.list_(base)
            else:
                t = pa.list_(base, int(size))
        else:
            raise IngestError(f"{self.path}, FIELD {name}: datatype {dt} is not supported",
                              code="INGEST-VOTABLE")
        width = int(str(size).rstrip("*")) if dt in ("char", "unicodeChar") and size and \
            str(size).rstrip("*").isdigit() else None
        return ColumnSpec(name, t, unit=str(f.unit) if f.unit else None,  # type: ignore[attr-defined]
                          ucd=f.ucd, utype=f.utype, description=f.description,  # type: ignore[attr-defined]
                          ascii_only=dt != "unicodeChar", width=width)

    def batches(self) -> Iterator[pa.RecordBatch]:
        arr = self._table.array
        schema = pa.schema([(s.source_name, s.arrow_type) for s in self.specs])
        for start in range(0, len(arr), self.chunk_rows):
            part = arr[start:start + self.chunk_rows]
            cols = [self._column(s, part[s.source_name]) for s in self.specs]
            yield nan_to_null(pa.RecordBatch.from_arrays(cols, schema=schema))

    def _column(self, spec: ColumnSpec, col: np.ma.MaskedArray) -> pa.Array:
        t = spec.arrow_type
        data = np.ma.getdata(col)
        mask = np.ma.getmaskarray(col)
        if mask.ndim > 1:
            mask = mask.all(axis=tuple(range(1, mask.ndim)))
        if pa.types.is_timestamp(t):
            vals = [None if m or not str(v).strip() else str(v) for v, m in zip(data, mask,
                                                                                 strict=True)]
            return pa.array(vals, pa.string()).cast(t)
        if pa.types.is_string(t):
            vals = [None if m else (v.decode() if isinstance(v, bytes) else str(v))
                    for v, m in zip(data, mask, strict=True)]
            return pa.array(vals, t)
        if pa.types.is_list(t) or pa.types.is_fixed_size_list(t):
            vals = [None if m else np.asarray(v).ravel().tolist()
                    for v, m in zip(data, mask, strict=True)]
            return pa.array(vals, t)
        return pa.array(np.asarray(data), t, mask=mask if mask.any() else None)
