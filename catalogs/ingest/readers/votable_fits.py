"""The FITS serialisation of a VOTable (VOTable 1.4 sec. 5.2) through astropy.io.votable.

Not streamed: astropy reads the referenced (or inline) FITS table into memory, and
chunks are cut from it. FITS-serialised VOTables are rare and small in practice; a
large FITS table is better ingested directly (``vo ingest file.fits``, memory-mapped).
Types follow the FIELDs, as for the other serialisations.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from catalogs.ingest.readers.votable_fields import FieldDef
from catalogs.ingest.readers.votable_text import list_array, timestamps
from vo.errors import IngestError


def fits_columns(path: Path, fields: Sequence[FieldDef],
                 chunk_rows: int) -> Iterator[list[pa.Array]]:
    from astropy.io import votable

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = votable.parse(str(path), verify="ignore").get_first_table()
    except Exception as exc:  # noqa: BLE001 - astropy raises many types for bad input
        raise IngestError(f"{path}: the FITS-serialised table cannot be read: {exc}",
                          code="INGEST-VOTABLE") from None
    arr = table.array
    names = arr.dtype.names or ()
    if len(names) != len(fields):
        raise IngestError(f"{path}: the FITS data has {len(names)} columns where the TABLE "
                          f"declares {len(fields)} FIELDs", code="INGEST-VOTABLE")
    for start in range(0, len(arr), chunk_rows):
        part = arr[start:start + chunk_rows]
        yield [_column(f, part[name], start + 1, str(path))
               for f, name in zip(fields, names, strict=True)]


def _column(f: FieldDef, col: np.ma.MaskedArray, row0: int, where: str) -> pa.Array:
    data = np.ma.getdata(col)
    mask = np.ma.getmaskarray(col)
    if f.is_text:
        text = pa.array([v.decode() if isinstance(v, bytes) else str(v) for v in data],
                        pa.string())
        return timestamps(text, f, row0, where) if f.xtype == "timestamp" else text
    t = f.element_type
    if not f.is_array:
        return pa.array(np.asarray(data).astype(np.asarray(data).dtype.newbyteorder("=")), t,
                        mask=mask if mask.any() else None)
    rows = [np.ma.MaskedArray(v).ravel() if not isinstance(v, np.ndarray) else np.ravel(v)
            for v in data]
    counts = np.fromiter((len(v) for v in rows), np.int64, len(rows))
    flat = np.concatenate(rows) if rows else np.empty(0)
    null = np.zeros(len(rows), bool)
    values = pa.array(flat.astype(flat.dtype.newbyteorder("=")), t)
    return list_array(f, values, counts, null)
