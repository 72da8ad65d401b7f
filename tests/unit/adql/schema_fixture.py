"""An in-memory SchemaLookup over vo.meta dataclasses, shaped like the demo data
(a test fixture, not a mock: the translator's real input type)."""

from __future__ import annotations

from vo.adql import StaticSchema
from vo.meta import ColumnMeta, Position, TableMeta


def _c(
    name: str, datatype: str, unit: str | None = None, ucd: str | None = None, **kw: object
) -> ColumnMeta:
    return ColumnMeta(name=name, datatype=datatype, unit=unit, ucd=ucd, **kw)  # type: ignore[arg-type]


HIP2 = TableMeta(
    schema_name="hipparcos",
    table_name="hipparcos.hip2",
    description="Hipparcos, the new reduction (van Leeuwen 2007)",
    columns=(
        _c("hip", "int", ucd="meta.id;meta.main", description="Hipparcos identifier"),
        _c("ra", "double", "deg", "pos.eq.ra;meta.main"),
        _c("dec", "double", "deg", "pos.eq.dec;meta.main"),
        _c("plx", "double", "mas", "pos.parallax"),
        _c("pmra", "double", "mas/yr", "pos.pm;pos.eq.ra"),
        _c("pmde", "double", "mas/yr", "pos.pm;pos.eq.dec"),
        _c("hpmag", "float", "mag", "phot.mag;em.opt"),
        _c("b_v", "float", "mag", "phot.color"),
        _c("nobs", "short", None, "meta.number"),
        _c("variable", "boolean", None, "meta.code"),
        _c("updated", "char", arraysize="*", xtype="timestamp", ucd="time.epoch"),
    ),
    db_schema="hipparcos",
    db_table="hip2",
    position=Position(ra="ra", dec="dec", rows=117955),
)

GAIA = TableMeta(
    schema_name="gaia",
    table_name="gaia.dr3_bright",
    columns=(
        _c("source_id", "long", None, "meta.id;meta.main"),
        _c("ra", "double", "deg", "pos.eq.ra;meta.main"),
        _c("dec", "double", "deg", "pos.eq.dec;meta.main"),
        _c("phot_g_mean_mag", "float", "mag", "phot.mag;em.opt.G"),
        _c("phot_bp_mean_mag", "float", "mag", "phot.mag;em.opt.B"),
        _c("phot_rp_mean_mag", "float", "mag", "phot.mag;em.opt.R"),
    ),
    db_schema="gaia",
    db_table="dr3_bright",
    position=Position(ra="ra", dec="dec", epoch="J2016.0", rows=482176),
)

# delimited names, a physical name differing from the TAP name, a geometry column
ODD = TableMeta(
    schema_name='"Odd Schema"',
    table_name='"Odd Schema"."MixedCase"',
    columns=(
        _c('"Dec"', "double", "deg", db_name="dec_phys"),
        _c('"size"', "int"),
        _c("name", "char", arraysize="*"),
        _c("s_region", "double", "deg", arraysize="*", xtype="polygon"),
        _c("center", "double", "deg", arraysize="2", xtype="point"),
    ),
    db_schema="odd",
    db_table="mixed",
)

UPLOAD = TableMeta(
    schema_name="TAP_UPLOAD",
    table_name="TAP_UPLOAD.mine",
    columns=(_c("id", "int"), _c("ra", "double", "deg"), _c("dec", "double", "deg")),
    db_schema="tap_upload_job1",
    db_table="mine",
)

SCHEMA = StaticSchema((HIP2, GAIA, ODD, UPLOAD), version="test-1")
