"""ADQL 2.1 -> PostgreSQL translator.

L1: pure; imports vo.errors, vo.meta, vo.healpix, ANTLR and astropy (units) only.

Text in; a checked, typed AST; PostgreSQL SQL plus result-column metadata out. Table
metadata arrives through ``SchemaLookup`` (vo.adql.schema), which vo.db implements
from TAP_SCHEMA; nothing here opens a connection or does I/O.

    parse(text) -> ast.Query                       syntax (+ function whitelist) only
    translate(text, lookup, *, maxrec=None) -> Translation
    features() -> Features                         TAPRegExt language features and UDF forms
"""

from __future__ import annotations

from vo.adql.errors import (
    ADQLError,
    ADQLSyntaxError,
    ADQLTypeError,
    AmbiguousNameError,
    UnknownColumnError,
    UnknownFunctionError,
    UnknownTableError,
    UnsupportedFeatureError,
)
from vo.adql.features import Feature, Features, features
from vo.adql.parser import parse
from vo.adql.schema import SchemaLookup, StaticSchema
from vo.adql.translate import Translation, clear_cache, translate

__all__ = [
    "ADQLError",
    "ADQLSyntaxError",
    "ADQLTypeError",
    "AmbiguousNameError",
    "UnknownColumnError",
    "UnknownFunctionError",
    "UnknownTableError",
    "UnsupportedFeatureError",
    "Feature",
    "Features",
    "features",
    "parse",
    "SchemaLookup",
    "StaticSchema",
    "Translation",
    "clear_cache",
    "translate",
]
