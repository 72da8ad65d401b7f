"""The whitelist of functions the translator accepts, as data (ADQL 2.1 sec. 2.3, 4).

Every function call in a query must name an entry here (or, in syntax-only mode,
a UDF the caller declares); anything else is rejected while building the AST,
so no other database function is ever reachable. ``vo.adql.features`` publishes
the same table for TAPRegExt (sec. 2.4) language features.
"""

from __future__ import annotations

from dataclasses import dataclass

FEATURE_GEO = "ivo://ivoa.net/std/TAPRegExt#features-adqlgeo"
FEATURE_STRING = "ivo://ivoa.net/std/TAPRegExt#features-adql-string"
FEATURE_TYPE = "ivo://ivoa.net/std/TAPRegExt#features-adql-type"
FEATURE_CONDITIONAL = "ivo://ivoa.net/std/TAPRegExt#features-adql-conditional"
FEATURE_UNIT = "ivo://ivoa.net/std/TAPRegExt#features-adql-unit"
FEATURE_UDF = "ivo://ivoa.net/std/TAPRegExt#features-udf"


@dataclass(frozen=True)
class FunctionSpec:
    """Name (upper case), argument counts, group; ``forms`` are TAPRegExt <form>s for UDFs."""

    name: str
    min_args: int
    max_args: int | None  # None: no upper bound
    group: str  # math trig aggregate geometry string conditional unit udf
    aggregate: bool = False
    forms: tuple[str, ...] = ()


def _specs() -> dict[str, FunctionSpec]:
    table: list[FunctionSpec] = []
    for n in ("ABS", "CEILING", "DEGREES", "EXP", "FLOOR", "LOG", "LOG10", "RADIANS", "SQRT"):
        table.append(FunctionSpec(n, 1, 1, "math"))
    table += [
        FunctionSpec("MOD", 2, 2, "math"),
        FunctionSpec("PI", 0, 0, "math"),
        FunctionSpec("POWER", 2, 2, "math"),
        FunctionSpec("RAND", 0, 1, "math"),
        FunctionSpec("ROUND", 1, 2, "math"),
        FunctionSpec("TRUNCATE", 1, 2, "math"),
        FunctionSpec("ATAN2", 2, 2, "trig"),
    ]
    for n in ("ACOS", "ASIN", "ATAN", "COS", "COT", "SIN", "TAN"):
        table.append(FunctionSpec(n, 1, 1, "trig"))
    for n in ("AVG", "MAX", "MIN", "SUM", "COUNT"):
        table.append(FunctionSpec(n, 1, 1, "aggregate", aggregate=True))
    table += [
        FunctionSpec("LOWER", 1, 1, "string"),
        FunctionSpec("UPPER", 1, 1, "string"),
        FunctionSpec("COALESCE", 1, None, "conditional"),
        FunctionSpec("IN_UNIT", 2, 2, "unit"),
        # geometry (ADQL 2.1 sec. 4.2); counts are after dropping a coordinate system argument
        FunctionSpec("POINT", 2, 2, "geometry"),
        FunctionSpec("CIRCLE", 2, 3, "geometry"),
        FunctionSpec("BOX", 3, 4, "geometry"),
        FunctionSpec("POLYGON", 3, None, "geometry"),
        FunctionSpec("REGION", 1, 1, "geometry"),
        FunctionSpec("CENTROID", 1, 1, "geometry"),
        FunctionSpec("AREA", 1, 1, "geometry"),
        FunctionSpec("COORD1", 1, 1, "geometry"),
        FunctionSpec("COORD2", 1, 1, "geometry"),
        FunctionSpec("COORDSYS", 1, 1, "geometry"),
        FunctionSpec("CONTAINS", 2, 2, "geometry"),
        FunctionSpec("INTERSECTS", 2, 2, "geometry"),
        FunctionSpec("DISTANCE", 2, 4, "geometry"),
        # UDFs (ADQL 2.1 sec. 4.3; RegTAP 1.1 sec. 9)
        FunctionSpec(
            "IVO_HEALPIX_INDEX",
            2,
            3,
            "udf",
            forms=(
                "ivo_healpix_index(hpxOrder INTEGER, ra DOUBLE, dec DOUBLE) -> BIGINT",
                "ivo_healpix_index(hpxOrder INTEGER, p POINT) -> BIGINT",
            ),
        ),
        FunctionSpec(
            "IVO_HEALPIX_CENTER",
            2,
            2,
            "udf",
            forms=("ivo_healpix_center(hpxOrder INTEGER, hpxIndex BIGINT) -> POINT",),
        ),
        # MOC 2.0 membership on the order-29 HEALPix index (vo.adql.moc). DaCHS spells a MOC
        # as a geometry, CONTAINS(POINT(ra, dec), MOC('...')) = 1 (pgSphere smoc); TOPCAT and
        # STILTS have inMoc(moc, ra, dec). Neither is in the IVOA UDF catalogue, so we keep
        # TOPCAT's arguments and CONTAINS's 0/1 result under an ivo_ name after ivo_healpix_*.
        FunctionSpec(
            "IVO_MOC_CONTAINS",
            3,
            3,
            "udf",
            forms=("ivo_moc_contains(moc VARCHAR, ra DOUBLE, dec DOUBLE) -> INTEGER",),
        ),
        FunctionSpec(
            "IVO_HASWORD",
            2,
            2,
            "udf",
            forms=("ivo_hasword(haystack TEXT, word TEXT) -> INTEGER",),
        ),
        FunctionSpec(
            "IVO_HASHLIST_HAS",
            2,
            2,
            "udf",
            forms=("ivo_hashlist_has(hashlist TEXT, item TEXT) -> INTEGER",),
        ),
        FunctionSpec(
            "IVO_NOCASEMATCH",
            2,
            2,
            "udf",
            forms=("ivo_nocasematch(value TEXT, pattern TEXT) -> INTEGER",),
        ),
        FunctionSpec(
            "IVO_INTERVAL_OVERLAPS",
            4,
            4,
            "udf",
            forms=("ivo_interval_overlaps(l1 DOUBLE, h1 DOUBLE, l2 DOUBLE, h2 DOUBLE) -> INTEGER",),
        ),
        FunctionSpec(
            "IVO_STRING_AGG",
            2,
            2,
            "udf",
            aggregate=True,
            forms=("ivo_string_agg(expr TEXT, delimiter TEXT) -> TEXT",),
        ),
    ]
    return {s.name: s for s in table}


FUNCTIONS: dict[str, FunctionSpec] = _specs()

GEOMETRY_CONSTRUCTORS = frozenset({"POINT", "CIRCLE", "BOX", "POLYGON", "REGION", "CENTROID"})
COORDSYS_FUNCTIONS = frozenset({"POINT", "CIRCLE", "BOX", "POLYGON"})
