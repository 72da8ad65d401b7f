"""Errors of the ADQL translator, each with a stable code (ADQL 2.1; TAP 1.1 sec. 2.9).

All are ``vo.errors.QueryError`` subclasses (HTTP 400): the query was wrong, and
the message says where and what to write instead.
"""

from __future__ import annotations

from vo.errors import QueryError


class ADQLError(QueryError):
    """Root of the translator's errors."""

    code = "ADQL"


class ADQLSyntaxError(ADQLError):
    """The text is not ADQL 2.1: carries line, column (1-based), the offending text
    and what would have been accepted there, in plain words."""

    code = "ADQL-SYNTAX"

    def __init__(
        self,
        message: str,
        *,
        line: int = 0,
        column: int = 0,
        offending: str = "",
        expected: str = "",
        code: str | None = None,
    ) -> None:
        where = f"line {line}, column {column}: " if line else ""
        super().__init__(where + message, code=code)
        self.line = line
        self.column = column
        self.offending = offending
        self.expected = expected


class UnknownFunctionError(ADQLSyntaxError):
    """A function that is neither an ADQL 2.1 function nor a declared UDF, or a call
    with the wrong number of arguments."""

    code = "ADQL-FUNCTION"


class UnknownTableError(ADQLError):
    """A table name that the lookup does not know (or the user may not read)."""

    code = "ADQL-UNKNOWN-TABLE"


class UnknownColumnError(ADQLError):
    """A column name that no table in scope has."""

    code = "ADQL-UNKNOWN-COLUMN"


class AmbiguousNameError(ADQLError):
    """A column or table name that matches more than one candidate in scope."""

    code = "ADQL-AMBIGUOUS"


class ADQLTypeError(ADQLError):
    """An operand of the wrong type (e.g. a geometry where a number is needed)."""

    code = "ADQL-TYPE"


class UnsupportedFeatureError(ADQLError):
    """Valid ADQL that this service does not offer (e.g. REGION with STC-S)."""

    code = "ADQL-UNSUPPORTED"
