"""What a reader tells the loader about a column, and how Arrow types map to PostgreSQL and VOTable.

Readers yield ``pyarrow.RecordBatch`` chunks whose schema is fixed for the whole
file; this module turns each Arrow field into the PostgreSQL type to create and the
TAP_SCHEMA/VOTable datatype, arraysize and xtype to publish (TAP 1.1 sec. 4.3,
VOTable 1.4 sec. 2.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from vo.errors import IngestError


@dataclass
class ColumnSpec:
    """One input column: its original name, Arrow type and metadata from the file."""

    source_name: str
    arrow_type: pa.DataType
    unit: str | None = None
    ucd: str | None = None
    description: str | None = None
    utype: str | None = None
    ascii_only: bool = True  # strings: False if any value is non-ASCII (-> unicodeChar)
    width: int | None = None  # strings: declared maximum length (FITS An, VOTable arraysize)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnType:
    pg_type: str
    datatype: str
    arraysize: str | None = None
    xtype: str | None = None


_SCALARS: dict[pa.DataType, tuple[str, str]] = {
    pa.bool_(): ("boolean", "boolean"),
    pa.int8(): ("smallint", "short"),
    pa.uint8(): ("smallint", "unsignedByte"),
    pa.int16(): ("smallint", "short"),
    pa.uint16(): ("integer", "int"),
    pa.int32(): ("integer", "int"),
    pa.uint32(): ("bigint", "long"),
    pa.int64(): ("bigint", "long"),
    pa.uint64(): ("bigint", "long"),
    pa.float16(): ("real", "float"),
    pa.float32(): ("real", "float"),
    pa.float64(): ("double precision", "double"),
}


def column_type(spec: ColumnSpec) -> ColumnType:
    """PostgreSQL type and VOTable description of an Arrow column."""
    t = spec.arrow_type
    if t in _SCALARS:
        pg, dt = _SCALARS[t]
        return ColumnType(pg, dt)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        size = f"{spec.width}*" if spec.width else "*"
        return ColumnType("text", "char" if spec.ascii_only else "unicodeChar", size)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        pg = "date" if pa.types.is_date(t) else "timestamp"
        return ColumnType(pg, "char", "*", "timestamp")
    if pa.types.is_fixed_size_list(t) or pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = t.value_type
        if inner not in _SCALARS:
            raise IngestError(f"column {spec.source_name}: arrays of {inner} are not supported",
                              code="INGEST-TYPE")
        pg, dt = _SCALARS[inner]
        if dt == "boolean":
            pg = "boolean"
        size = str(t.list_size) if pa.types.is_fixed_size_list(t) else "*"
        return ColumnType(pg + "[]", dt, size)
    raise IngestError(f"column {spec.source_name}: type {t} is not supported", code="INGEST-TYPE")
