"""VOTable FIELD declarations: datatype and arraysize -> cell layout and Arrow type.

VOTable 1.4 sec. 2.1 (primitives), sec. 2.2 (arraysize: ``n``, ``n*``, ``*``,
``AxB``, ``AxB*``), sec. 4.7 (VALUES null) and sec. 6 (binary sizes). Output types
are those the astropy-based reader produced, so ingest results do not change:
scalars map to their Arrow type, a one-dimensional fixed array to a fixed-size list,
any other array (variable or multi-dimensional) to a list, ``char``/``unicodeChar``
to a string (``xtype="timestamp"``: a timestamp), ``bit`` to booleans.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from catalogs.ingest.spec import ColumnSpec
from vo.errors import IngestError
from vo.votable.columns import NUMERIC_TYPES

_TEXT = ("char", "unicodeChar")
_COMPLEX = ("floatComplex", "doubleComplex")
KNOWN = (*NUMERIC_TYPES, *_TEXT, "boolean", "bit", *_COMPLEX)


@dataclass
class FieldDef:
    """One FIELD of the table being read, with what its cells look like."""

    name: str
    datatype: str
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    ref: str | None = None
    description: str | None = None
    null: str | None = None  # VALUES null attribute (sec. 4.7), as written
    fixed_items: int = 1  # elements per cell (fixed part of arraysize; 1 for scalars)
    variable: bool = False  # arraysize ends in '*': a 4-byte count precedes the cell
    multidim: bool = False  # arraysize has an 'x'

    def check(self, where: str) -> None:
        """Parse ``arraysize`` and refuse what cannot be ingested, naming the column."""
        if self.datatype not in KNOWN:
            raise IngestError(f"{where}, column {self.name}: unknown VOTable datatype "
                              f"{self.datatype!r} (VOTable 1.4 sec. 2.1 lists {', '.join(KNOWN)})",
                              code="INGEST-VOTABLE")
        if self.datatype in _COMPLEX:
            raise IngestError(f"{where}, column {self.name}: datatype {self.datatype} is not "
                              "supported (PostgreSQL has no complex type); split it into real "
                              "and imaginary float columns", code="INGEST-VOTABLE")
        size = (self.arraysize or "").strip()
        self.variable = size.endswith("*")
        dims = size.rstrip("*").split("x") if size else []
        self.multidim = len(dims) > 1
        bad = IngestError(f"{where}, column {self.name}: arraysize {self.arraysize!r} is not valid "
                          "(VOTable 1.4 sec. 2.2: e.g. 3, 10*, *, 2x3, 2x*)", code="INGEST-VOTABLE")
        if any(not d.isdigit() or int(d) == 0 for d in dims[:-1]) or (
                dims and not (dims[-1].isdigit() and int(dims[-1]) > 0)
                and not (self.variable and dims[-1] == "")):
            raise bad
        if self.datatype in _TEXT:
            if self.multidim:
                raise IngestError(f"{where}, column {self.name}: arrays of strings (arraysize "
                                  f"{self.arraysize!r}) are not supported", code="INGEST-VOTABLE")
            # 'n*' is a string of at most n characters, stored with a count like '*'
            self.fixed_items = int(dims[0]) if dims and not self.variable else 1
            return
        # a variable cell holds a count of blocks of the leading dimensions ('3x*': of 3)
        counted = dims[:-1] if self.variable else dims
        self.fixed_items = math.prod(int(d) for d in counted) if counted else 1

    @property
    def is_text(self) -> bool:
        return self.datatype in _TEXT

    @property
    def is_array(self) -> bool:
        """Cells are arrays of numbers or booleans (strings are not arrays here)."""
        return not self.is_text and (self.variable or self.multidim or self.fixed_items > 1
                                     or self.arraysize not in (None, "", "1"))

    @property
    def element_dtype(self) -> np.dtype:
        """Big-endian numpy dtype of one element in BINARY/BINARY2 (sec. 6)."""
        if self.datatype in NUMERIC_TYPES:
            return np.dtype(NUMERIC_TYPES[self.datatype][0])
        if self.datatype == "unicodeChar":
            return np.dtype(">u2")
        return np.dtype("u1")  # char, boolean; bit is packed (see cell_bytes)

    def cell_bytes(self, items: int | None = None) -> int:
        """Bytes of a cell with ``items`` elements (default: the fixed layout)."""
        n = self.fixed_items if items is None else items
        if self.datatype == "bit":
            return (n + 7) // 8
        return n * self.element_dtype.itemsize

    @property
    def element_type(self) -> pa.DataType:
        if self.datatype in ("boolean", "bit"):
            return pa.bool_()
        return NUMERIC_TYPES[self.datatype][1]

    @property
    def arrow_type(self) -> pa.DataType:
        if self.is_text:
            return pa.timestamp("us") if self.xtype == "timestamp" else pa.string()
        base = self.element_type
        if not self.is_array:
            return base
        if self.variable or self.multidim:
            return pa.list_(base)
        return pa.list_(base, self.fixed_items)

    @property
    def width(self) -> int | None:
        """Declared maximum string length ('10' or '10*'), for the published arraysize."""
        if not self.is_text or not self.arraysize:
            return None
        digits = self.arraysize.strip().rstrip("*")
        return int(digits) if digits.isdigit() else None

    def null_value(self, where: str) -> int | float | None:
        """The VALUES null magic value, parsed for this datatype (numbers only)."""
        if self.null is None or self.datatype not in NUMERIC_TYPES:
            return None
        text = self.null.strip()
        try:
            if self.datatype in ("float", "double"):
                return float(text)
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            raise IngestError(f"{where}, column {self.name}: VALUES null={self.null!r} is not a "
                              f"{self.datatype}", code="INGEST-VOTABLE") from None

    def spec(self) -> ColumnSpec:
        return ColumnSpec(self.name, self.arrow_type, unit=self.unit or None, ucd=self.ucd or None,
                          utype=self.utype or None, description=self.description or None,
                          ascii_only=self.datatype != "unicodeChar", width=self.width)
