"""Value types of ADQL expressions and the VOTable FIELD metadata they produce.

ADQL 2.1 sec. 3 (type system) meets PostgreSQL reality: every translated
expression's SQL type must be what its declared VOTable datatype says, so the
writers can trust ``Translation.columns`` (VOTable 1.4 sec. 2.1; DALI 1.1 sec.
3.3 for xtypes timestamp, point, circle, polygon).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vo.meta import ColumnMeta

# kinds: short int long float double string timestamp boolean point circle polygon
#        geometry (some geometry, kind unknown) null unknown (no metadata: syntax mode)
NUMERIC_KINDS = frozenset({"short", "int", "long", "float", "double", "unknown", "null"})
INTEGER_KINDS = frozenset({"short", "int", "long"})
GEOMETRY_KINDS = frozenset({"point", "circle", "polygon", "geometry"})
STRING_KINDS = frozenset({"string", "unknown", "null"})

_SQL_NAME = {
    "short": "smallint",
    "int": "integer",
    "long": "bigint",
    "float": "real",
    "double": "double precision",
    "string": "text",
    "timestamp": "timestamp",
    "boolean": "boolean",
    "point": "double precision[]",
    "circle": "double precision[]",
    "polygon": "double precision[]",
    "geometry": "double precision[]",
}


@dataclass(frozen=True)
class ValueType:
    """The type of a translated expression; ``column`` is set for a plain column."""

    kind: str
    column: ColumnMeta | None = None
    unit: str | None = None
    ucd: str | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def integer(self) -> bool:
        return self.kind in INTEGER_KINDS

    @property
    def geometry(self) -> bool:
        return self.kind in GEOMETRY_KINDS or self.kind == "unknown"

    @property
    def sql_name(self) -> str:
        return _SQL_NAME.get(self.kind, "text")


UNKNOWN = ValueType("unknown")
NULL = ValueType("null")
DOUBLE = ValueType("double")
LONG = ValueType("long")
INT = ValueType("int")
STRING = ValueType("string")
POINT = ValueType("point", unit="deg")


def column_type(col: ColumnMeta) -> ValueType:
    """The value type of a stored column, from its TAP_SCHEMA/VOTable metadata."""
    dt = col.datatype
    if col.xtype in ("point", "circle", "polygon"):
        kind = col.xtype
    elif col.xtype == "timestamp" or col.xtype == "adql:TIMESTAMP":
        kind = "timestamp"
    elif dt in ("char", "unicodeChar"):
        kind = "string"
    elif dt == "unsignedByte":
        kind = "short"
    elif dt in ("short", "int", "long", "float", "double", "boolean"):
        kind = dt
    else:
        kind = "unknown"
    if col.arraysize not in (None, "", "1") and kind not in (
        "string",
        "point",
        "circle",
        "polygon",
        "timestamp",
    ):
        kind = "unknown"  # numeric arrays: passed through, not computed with
    return ValueType(kind, column=col, unit=col.unit, ucd=col.ucd)


def wider_numeric(a: ValueType, b: ValueType) -> ValueType:
    """PostgreSQL's result type of + - * / on two numeric operands."""
    order = ["short", "int", "long", "float", "double"]
    if a.kind not in order or b.kind not in order:
        return DOUBLE if "double" in (a.kind, b.kind) or "float" in (a.kind, b.kind) else UNKNOWN
    k = order[max(order.index(a.kind), order.index(b.kind))]
    if k == "short":
        k = "int"  # smallint + smallint is integer in PostgreSQL
    if {a.kind, b.kind} & {"float"} and {a.kind, b.kind} & INTEGER_KINDS:
        k = "double"
    return ValueType(k)


# geometry kind -> (DALI xtype, VOTable arraysize); "geometry" (kind unknown) goes out as polygon
_GEOMETRY_FIELDS = {"point": ("point", "2"), "circle": ("circle", "3"),
                    "polygon": ("polygon", "*"), "geometry": ("polygon", "*")}


def result_column(name: str, t: ValueType, description: str | None = None) -> ColumnMeta:
    """VOTable FIELD metadata for an output column of type ``t`` named ``name``.

    A plain column keeps its TAP_SCHEMA metadata exactly (only the name follows the alias).
    """
    if t.column is not None:
        return replace(t.column, name=name) if name != t.column.name else t.column
    kind = t.kind
    if kind in ("short", "int", "long", "float", "double", "boolean"):
        return ColumnMeta(name=name, datatype=kind, unit=t.unit, ucd=t.ucd, description=description)
    if kind == "timestamp":
        return ColumnMeta(
            name=name,
            datatype="char",
            arraysize="*",
            xtype="timestamp",
            ucd=t.ucd,
            description=description,
        )
    if kind in _GEOMETRY_FIELDS:  # DALI 1.1 sec. 3.3.5-3.3.7: double arrays in degrees
        xtype, arraysize = _GEOMETRY_FIELDS[kind]
        return ColumnMeta(name=name, datatype="double", arraysize=arraysize, xtype=xtype,
                          unit="deg", ucd=t.ucd, description=description)
    return ColumnMeta(
        name=name, datatype="char", arraysize="*", unit=t.unit, ucd=t.ucd, description=description
    )
