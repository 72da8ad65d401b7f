"""The reader interface and the normalisation every batch goes through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from catalogs.ingest.spec import ColumnSpec


class Reader:
    """Base of all readers (see the package docstring)."""

    path: Path
    specs: list[ColumnSpec]
    description: str | None = None
    frame: str | None = None
    epoch: str | None = None
    equinox: str | None = None
    rows_hint: int | None = None

    def batches(self) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError  # each reader defines it

    def where(self, row: int | None = None, column: str | None = None) -> str:
        out = str(self.path)
        if row is not None:
            out += f", row {row}"
        if column is not None:
            out += f", column {column}"
        return out


def nan_to_null(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Floating-point NaN means NULL in an ingested table (issue: NULLs from NaN)."""
    cols = []
    changed = False
    for col in batch.columns:
        if pa.types.is_floating(col.type) and pc.any(pc.is_nan(col)).as_py():
            col = pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col)
            changed = True
        cols.append(col)
    return pa.RecordBatch.from_arrays(cols, schema=batch.schema) if changed else batch
