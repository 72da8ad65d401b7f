"""FITS binary table reader: memory-mapped, read in row chunks.

TNULLn marks integer NULLs, NaN float NULLs (FITS 4.0 sec. 7.3.2/7.3.3); TUNITn,
TUCDn (a widespread convention) and TCOMMn give column metadata; a repeat count > 1
makes a fixed-size array column (TDIMn shapes are flattened).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from catalogs.ingest.readers.base import Reader, nan_to_null
from catalogs.ingest.spec import ColumnSpec
from vo.errors import IngestError


class FitsReader(Reader):
    def __init__(self, path: Path, *, chunk_rows: int = 200_000) -> None:
        from astropy.io import fits

        self.path = path
        self.chunk_rows = chunk_rows
        try:
            self._hdul = fits.open(path, memmap=True)
        except (OSError, ValueError) as exc:
            raise IngestError(
                f"{path}: not a readable FITS file: {exc}", code="INGEST-FITS"
            ) from None
        hdu = next((h for h in self._hdul if isinstance(h, fits.BinTableHDU)), None)
        if hdu is None:
            raise IngestError(f"{path}: no binary table extension found", code="INGEST-FITS")
        self.hdu = hdu
        self.rows_hint = hdu.header.get("NAXIS2", 0)
        h = hdu.header
        self.specs = []
        self._nulls: dict[str, int] = {}
        for i, col in enumerate(hdu.columns, start=1):
            arr = hdu.data[col.name][:0]
            t = self._arrow_type(col, arr)
            spec = ColumnSpec(col.name, t, unit=col.unit or None, ucd=h.get(f"TUCD{i}"),
                              description=h.get(f"TCOMM{i}"))
            if col.format.format == "A":
                spec.width = col.format.repeat
            if col.null is not None and np.issubdtype(arr.dtype, np.integer):
                self._nulls[col.name] = int(col.null)
            self.specs.append(spec)

    def _arrow_type(self, col: object, arr: np.ndarray) -> pa.DataType:
        fmt = col.format  # type: ignore[attr-defined]
        if fmt.format == "A":
            return pa.string()
        if fmt.format == "L":
            base: pa.DataType = pa.bool_()
        elif fmt.format in ("P", "Q"):
            raise IngestError(f"{self.path}, column {col.name}: variable-length arrays are not "  # type: ignore[attr-defined]
                              "supported", code="INGEST-FITS")
        else:
            base = pa.from_numpy_dtype(arr.dtype.newbyteorder("="))
        n = int(np.prod(arr.shape[1:])) if arr.ndim > 1 else 1
        return pa.list_(base, n) if n > 1 else base

    def batches(self) -> Iterator[pa.RecordBatch]:
        data = self.hdu.data
        schema = pa.schema([(s.source_name, s.arrow_type) for s in self.specs])
        n = len(data)
        for start in range(0, n, self.chunk_rows):
            part = data[start:start + self.chunk_rows]
            arrays = []
            for spec in self.specs:
                values = np.asarray(part[spec.source_name])
                arrays.append(self._to_arrow(spec, values, start))
            yield nan_to_null(pa.RecordBatch.from_arrays(arrays, schema=schema))
        self._hdul.close()

    def _to_arrow(self, spec: ColumnSpec, values: np.ndarray, start: int) -> pa.Array:
        t = spec.arrow_type
        if pa.types.is_string(t):
            text = np.char.rstrip(values.astype(bytes))
            try:
                strs = [v.decode("ascii") for v in text]
            except UnicodeDecodeError as exc:
                raise IngestError(f"{self.where(start + 1, spec.source_name)}: non-ASCII bytes in "
                                  f"a FITS character column ({exc.reason})",
                                  code="INGEST-FITS") from None
            return pa.array(strs, pa.string())
        values = values.astype(values.dtype.newbyteorder("="))
        if pa.types.is_fixed_size_list(t):
            flat = values.reshape(len(values), -1)
            inner = pa.array(flat.ravel(), t.value_type)
            return pa.FixedSizeListArray.from_arrays(inner, t.list_size)
        mask = None
        if spec.source_name in self._nulls:
            mask = values == self._nulls[spec.source_name]
        return pa.array(values, t, mask=mask)
