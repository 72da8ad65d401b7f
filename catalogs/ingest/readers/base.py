"""The reader interface and the normalisation every batch goes through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from catalogs.ingest.spec import ColumnSpec
from vo.errors import IngestError

_SIGNATURES = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"))  # RFC 1952 sec. 2.3.1; bzip2 "BZh"
_SUFFIXES = {".gz": "gzip", ".bz2": "bz2"}


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


def compression_of(path: Path) -> str | None:
    """``"gzip"``, ``"bz2"`` or None (not compressed), from the file's first bytes.

    The signature decides, so a compressed file without its suffix is read too; a file
    whose suffix promises compression it does not have is an error, not plain text."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(3)
    except OSError as exc:
        raise IngestError(f"{path}: cannot read: {exc.strerror}", code="INGEST-FILE") from None
    found = next((codec for sig, codec in _SIGNATURES if magic.startswith(sig)), None)
    named = _SUFFIXES.get(path.suffix.lower())
    if named is not None and found != named:
        what = "is empty" if not magic else f"does not start like {named} data ({magic!r})"
        raise IngestError(f"{path}: named {path.suffix} but {what}", code="INGEST-FILE")
    return found


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
