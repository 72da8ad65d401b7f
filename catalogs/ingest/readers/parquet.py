"""Parquet reader: row groups streamed with pyarrow; units/UCDs/descriptions from field metadata.

Field metadata keys ``unit``, ``ucd``, ``description``, ``utype`` (what our own Parquet
writer emits) are read; astropy's ``table_meta_yaml`` schema metadata is read too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from catalogs.ingest.readers.base import Reader, nan_to_null
from catalogs.ingest.spec import ColumnSpec
from vo.errors import IngestError


class ParquetReader(Reader):
    def __init__(self, path: Path, *, chunk_rows: int = 200_000) -> None:
        self.path = path
        self.chunk_rows = chunk_rows
        try:
            self._file = pq.ParquetFile(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise IngestError(f"{path}: not a readable Parquet file: {exc}",
                              code="INGEST-PARQUET") from None
        schema = self._file.schema_arrow
        self.rows_hint = self._file.metadata.num_rows
        yaml_meta = _astropy_meta(schema)
        self.specs = []
        for f in schema:
            md = {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
            md = {**yaml_meta.get(f.name, {}), **md}
            t = f.type
            if pa.types.is_large_string(t):
                t = pa.string()
            self.specs.append(ColumnSpec(f.name, t, unit=md.get("unit"), ucd=md.get("ucd"),
                                         description=md.get("description"), utype=md.get("utype")))

    def batches(self) -> Iterator[pa.RecordBatch]:
        schema = pa.schema([(s.source_name, s.arrow_type) for s in self.specs])
        for batch in self._file.iter_batches(batch_size=self.chunk_rows):
            yield nan_to_null(batch.cast(schema) if batch.schema != schema else batch)


def _astropy_meta(schema: pa.Schema) -> dict[str, dict[str, str]]:
    raw = (schema.metadata or {}).get(b"table_meta_yaml")
    if not raw:
        return {}
    try:
        import yaml  # astropy depends on PyYAML

        doc = yaml.safe_load(raw.decode().replace("!astropy.table.SerializedColumn", ""))
    except Exception:  # noqa: BLE001 - metadata is optional; data still loads
        return {}
    out = {}
    for col in (doc or {}).get("datatype", []):
        if isinstance(col, dict) and "name" in col:
            out[col["name"]] = {k: str(v) for k, v in col.items()
                                if k in ("unit", "description") and v is not None}
            ucd = (col.get("meta") or {}).get("ucd")
            if ucd:
                out[col["name"]]["ucd"] = str(ucd)
    return out
