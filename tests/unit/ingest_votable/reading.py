"""Helpers for the streaming VOTable reader tests: read a file with it and with astropy."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from catalogs.ingest.readers.votable import VOTableReader


def plain(v: Any) -> Any:
    """NaN -> None, numpy scalars/arrays -> Python values, bytes -> str (for comparisons)."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [plain(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def read_ours(path: Path, chunk_rows: int = 200_000) -> tuple[VOTableReader, dict[str, list]]:
    r = VOTableReader(path, chunk_rows=chunk_rows)
    batches = list(r.batches())
    assert all(b.num_rows <= chunk_rows for b in batches)
    schema = pa.schema([(s.source_name, s.arrow_type) for s in r.specs])
    table = pa.Table.from_batches(batches, schema=schema)
    return r, {k: plain(v) for k, v in table.to_pydict().items()}


def read_astropy(path: Path) -> dict[str, list]:
    """Column values as astropy reads them; masked cells (all elements masked) are None."""
    from astropy.io import votable

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arr = votable.parse(str(path)).get_first_table().array
    out = {}
    for name in arr.dtype.names:
        col = arr[name]
        data, mask = np.ma.getdata(col), np.ma.getmaskarray(col)
        values = []
        for v, m in zip(data, mask, strict=True):
            if isinstance(v, np.ma.MaskedArray):  # variable-length array cell
                values.append(None if v.mask.all() and v.size else plain(v.filled(np.nan)))
            elif np.ndim(m) and np.size(m) and np.all(m):
                values.append(None)
            elif np.ndim(m) and np.any(m):
                values.append([None if mm else plain(x) for x, mm in zip(v, m, strict=True)])
            else:
                values.append(None if np.ndim(m) == 0 and m else plain(v))
        out[name] = values
    return out
