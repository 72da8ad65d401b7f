"""Table and column metadata shared by every layer (L0: imports nothing of ours).

These are the words TAP_SCHEMA (TAP 1.1 sec. 4) and VOTable FIELDs (VOTable 1.4
sec. 4) have in common. ``vo.db`` builds them from TAP_SCHEMA; ``vo.adql`` resolves
names against them and derives them for expressions; ``vo.votable`` and
``vo.formats`` write them out. One definition, so nothing is lost in between.

Names: ``ColumnMeta.name`` / ``TableMeta.table_name`` are exactly what TAP_SCHEMA
holds: a regular identifier in lower case (``ra``) or a delimited identifier with
its double quotes (``"size"``, ``"Dec"``), TAP 1.1 sec. 4.3. ``db_name`` is the
physical PostgreSQL name, which SQL generators always quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ColumnMeta:
    """One column as TAP_SCHEMA.columns describes it, plus its physical name."""

    name: str
    # VOTable datatype: boolean short int long float double char unicodeChar unsignedByte
    datatype: str
    arraysize: str | None = None  # VOTable arraysize: None (scalar), "*", "16", "2x3*" ...
    xtype: str | None = None  # DALI xtype: timestamp point circle polygon moc interval ...
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None
    principal: bool = False
    indexed: bool = False
    std: bool = False
    db_name: str = ""  # physical PostgreSQL column name; "" = same as the unquoted name

    @property
    def physical(self) -> str:
        """The PostgreSQL column name (to be quoted by whoever writes SQL)."""
        return self.db_name or unquote(self.name)


@dataclass(frozen=True)
class Position:
    """The positional columns of a table and the HEALPix index built for them."""

    ra: str  # physical column names
    dec: str
    frame: str = "ICRS"  # COOSYS system
    epoch: str | None = None  # COOSYS epoch, e.g. "J2016.0"
    equinox: str | None = None
    hpx: str = "hpx"  # nested HEALPix index at order 29 (bigint), hidden from TAP_SCHEMA
    unit_vector: tuple[str, str, str] = ("cx", "cy", "cz")  # hidden double columns
    rows: int = 0  # row count when the index was built (for planning)
    density_order: int = 0  # order of the density map (0 = none)
    # rows per pixel at density_order (nested), for planning
    density: tuple[int, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class TableMeta:
    """One table as TAP_SCHEMA.tables describes it, with its columns in column_index order."""

    schema_name: str
    table_name: str  # as in TAP_SCHEMA: "schema.table" qualified, possibly delimited parts
    columns: tuple[ColumnMeta, ...] = ()
    description: str | None = None
    table_type: str = "table"
    utype: str | None = None
    db_schema: str = ""  # physical schema and table (quoted by SQL generators)
    db_table: str = ""
    position: Position | None = None
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = field(default=())

    def column(self, name: str) -> ColumnMeta | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None


@dataclass(frozen=True)
class ForeignKey:
    """TAP_SCHEMA.keys + key_columns (TAP 1.1 sec. 4.4-4.5)."""

    key_id: str
    from_table: str
    target_table: str
    columns: tuple[tuple[str, str], ...]  # (from_column, target_column)
    description: str | None = None
    utype: str | None = None


def unquote(name: str) -> str:
    """``"Dec"`` -> ``Dec``; ``ra`` -> ``ra``. Doubled quotes inside are undone."""
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name


def quote_ident(name: str) -> str:
    """The one way an identifier is put into SQL: always double-quoted, quotes doubled."""
    if "\x00" in name:
        raise ValueError("identifier contains a NUL character")
    return '"' + name.replace('"', '""') + '"'
