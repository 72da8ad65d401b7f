"""Input readers: each yields pyarrow RecordBatches with a schema fixed for the whole file.

A reader exposes ``specs`` (one ColumnSpec per column, names as in the file), optional
table-level hints (``description``, ``frame``, ``epoch``), ``rows_hint`` for progress
bars, and ``batches()``. Errors name the file, the row or line, and the column.
"""

from __future__ import annotations

from pathlib import Path

from catalogs.ingest.readers.base import Reader
from vo.errors import IngestError

FORMATS = ("csv", "tsv", "fits", "votable", "parquet")
_SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".fits": "fits", ".fit": "fits",
    ".fts": "fits", ".vot": "votable", ".votable": "votable", ".xml": "votable",
    ".parquet": "parquet", ".pq": "parquet",
}


def detect_format(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".gz", ".bz2"):
        name = name.removesuffix(suffix)
    fmt = _SUFFIXES.get(Path(name).suffix)
    if fmt is None:
        raise IngestError(f"{path}: unknown format (suffix {path.suffix!r}); use --format with one "
                          f"of {', '.join(FORMATS)}", code="INGEST-FORMAT")
    return fmt


def open_reader(path: Path, fmt: str | None = None, *, chunk_rows: int = 200_000,
                optimistic: bool = True) -> Reader:
    """A reader for ``path``; ``optimistic=False`` makes CSV infer types from every value."""
    fmt = fmt or detect_format(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file", code="INGEST-FILE")
    if fmt in ("csv", "tsv"):
        from catalogs.ingest.readers.csv import CsvReader

        return CsvReader(path, delimiter="\t" if fmt == "tsv" else ",", optimistic=optimistic)
    if fmt == "fits":
        from catalogs.ingest.readers.fits import FitsReader

        return FitsReader(path, chunk_rows=chunk_rows)
    if fmt == "votable":
        from catalogs.ingest.readers.votable import VOTableReader

        return VOTableReader(path, chunk_rows=chunk_rows)
    if fmt == "parquet":
        from catalogs.ingest.readers.parquet import ParquetReader

        return ParquetReader(path, chunk_rows=chunk_rows)
    raise IngestError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}",
                      code="INGEST-FORMAT")
