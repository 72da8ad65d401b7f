"""The one place where values from a query become SQL literal text.

Strings are always written so that their meaning does not depend on the server's
``standard_conforming_strings``: plain ``'...'`` with quotes doubled when there is
no backslash, otherwise an ``E'...'`` literal with backslashes doubled too. NUL
characters never get here (the parser refuses them: PostgreSQL text cannot hold
them). Numbers are re-formatted from their parsed values, never copied.
"""

from __future__ import annotations

import math
import re

_DECIMAL = re.compile(r"^(\d+(\.\d*)?|\.\d+)(E[+-]?\d+)?$", re.IGNORECASE)

INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1


def sql_string(value: str) -> str:
    """A PostgreSQL string literal for ``value``."""
    if "\x00" in value:
        raise ValueError("string literal contains a NUL character")
    if "\\" in value:
        return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    return "'" + value.replace("'", "''") + "'"


def sql_integer(value: int) -> str:
    """An unsigned integer literal; beyond bigint it becomes a double precision value."""
    if value < 0:
        raise ValueError("integer literals are unsigned; signs are operators")
    if value > INT8_MAX:
        return f"CAST({sql_string(str(value))} AS double precision)"
    return str(value)


def sql_decimal(text: str) -> str:
    """An exact or approximate number literal as ADQL wrote it, checked again here."""
    if not _DECIMAL.match(text):
        raise ValueError(f"not a number literal: {text!r}")
    return text


def sql_float(value: float) -> str:
    """A double computed by the translator itself (e.g. a unit factor or a unit vector)."""
    if not math.isfinite(value):
        raise ValueError("non-finite number")
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text
