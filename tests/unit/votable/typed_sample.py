"""A result with every VOTable datatype the writers support, as psycopg2 would return it.

Shared by the votable and formats tests: ``COLUMNS`` and ``ROWS`` are the input,
``expected(column, value)`` the value a reader should get back, normalised so that
null, empty text / empty variable arrays and NaN compare equal (VOTable 1.4 sec. 5.5
lets TABLEDATA confuse them), and ``normalise_read`` does the same to what a reader
(astropy, pyarrow) returns.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import Any

import numpy as np

from vo.meta import ColumnMeta

COLUMNS: list[ColumnMeta] = [
    ColumnMeta("id", "long", ucd="meta.id;meta.main", description="row id"),
    ColumnMeta('"Ra"', "double", unit="deg", ucd="pos.eq.ra;meta.main", utype="x:ra"),
    ColumnMeta("dec", "double", unit="deg", ucd="pos.eq.dec;meta.main"),
    ColumnMeta("mag", "float", unit="mag", description='a <float> & "quoted" magnitude'),
    ColumnMeta("flag", "boolean"),
    ColumnMeta("small", "short"),
    ColumnMeta("medium", "int"),
    ColumnMeta("ubyte", "unsignedByte"),
    ColumnMeta("name", "char", "*"),
    ColumnMeta("code", "char", "4"),
    ColumnMeta("uname", "unicodeChar", "*"),
    ColumnMeta("ucode", "unicodeChar", "3"),
    ColumnMeta("obs_time", "char", "*", xtype="timestamp"),
    ColumnMeta("pos", "double", "2", xtype="point", unit="deg"),
    ColumnMeta("region", "double", "3", xtype="circle", unit="deg"),
    ColumnMeta("footprint", "double", "*", xtype="polygon", unit="deg"),
    ColumnMeta("band", "float", "2", xtype="interval"),
    ColumnMeta("ints", "int", "*"),
    ColumnMeta("matrix", "double", "2x2"),
    ColumnMeta("blob", "unsignedByte", "*"),
]

NAMES = [c.name.strip('"') for c in COLUMNS]

ROWS: list[tuple[Any, ...]] = [
    (
        1, Decimal("10.5"), -45.25, 1.5, True, -32767, 2147483647, 200,
        "a <b> & \"c\" 'd'", "abcdef", "Ωmega € ☃", "日本語",
        dt.datetime(2020, 1, 2, 3, 4, 5, 6000),
        [10.5, -45.25], [10.5, -45.25, 0.5], [10.0, 10.0, 10.2, 10.0, 10.2, 10.2],
        [0.5, 1.5], [1, None, 3], [[1.0, 2.0], [3.0, 4.0]], b"\x00\x01\xff",
    ),
    (
        None, None, None, None, None, None, None, None,
        None, None, None, None, None,
        None, None, None, None, None, None, None,
    ),
    (
        9223372036854775807, 359.999999999, 89.9, float("nan"), False, 0, -5, 0,
        "ctrl\x01\x1fchars\ttab é", "ab", "music 𝄞 note", "x", dt.date(1999, 12, 31),
        [0.0, 0.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        [-1.0, 2.5], [], [[5.0, 6.0], [7.0, 8.0]], memoryview(b"xyz"),
    ),
    (
        -9223372036854775807, Decimal("1E-300"), 0.0, 0.25, True, 32767, 0, 254,
        "", "", "", "", dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        [1.0, 2.0], [1.0, 2.0, 3.0], [1.0, 1.0, 2.0, 1.0, 2.0, 2.0],
        [0.0, 0.0], [7], [[0.0, 0.0], [0.0, 0.0]], b"",
    ),
]  # fmt: skip

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _flatten(v: Any) -> list[Any]:
    out: list[Any] = []
    for e in v:
        out.extend(_flatten(e) if isinstance(e, list) else [e])
    return out


def _nan_is_none(x: Any) -> Any:
    return None if isinstance(x, float) and math.isnan(x) else x


def expected(col: ColumnMeta, value: Any, *, text: str = "xml", truncate: bool = True) -> Any:
    """What a reader should see for ``value`` in ``col`` (None for null-like values).

    ``text`` says what a format does to characters: "xml" (VOTable TABLEDATA: char is
    ASCII, XML-forbidden characters replaced), "binary" (BINARY/BINARY2: char ASCII,
    unicodeChar UCS-2), "unicode" (everything kept), "fits" (ASCII only).
    ``truncate``: fixed-size text is cut to its arraysize.
    """
    if value is None:
        return None
    if col.xtype == "timestamp":
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            return value.isoformat(timespec="milliseconds")
        return value.isoformat()
    if col.datatype in ("char", "unicodeChar"):
        out = value
        if text == "fits" or (col.datatype == "char" and text in ("xml", "binary")):
            out = _NON_ASCII.sub("?", out)
        elif col.datatype == "unicodeChar" and text in ("xml", "binary"):
            out = re.sub("[\U00010000-\U0010ffff]", "\ufffd", out)
        if text == "xml":
            out = _FORBIDDEN.sub("?", out)
        if truncate and col.arraysize and col.arraysize[-1] != "*":
            out = out[: int(col.arraysize)]
        return out or None
    if col.datatype == "unsignedByte" and col.arraysize:
        return list(bytes(value)) or None
    if isinstance(value, list):
        flat = [
            _nan_is_none(float(e)) if e is not None and col.datatype in ("float", "double") else e
            for e in _flatten(value)
        ]
        return flat or None
    if col.datatype in ("float", "double"):
        return _nan_is_none(float(value))
    return value


def normalise_read(value: Any) -> Any:
    """A value as read back (numpy/astropy/pyarrow) -> plain Python, null-likes -> None."""
    if value is np.ma.masked or value is None:
        return None
    if isinstance(value, np.ndarray):
        arr = np.ma.asarray(value).ravel()
        if arr.size == 0:
            return None
        mask = np.ma.getmaskarray(arr)
        if mask.all():
            return None
        items = [None if m else _nan_is_none(x.item()) for x, m in zip(arr.data, mask, strict=True)]
        return items if any(i is not None for i in items) else None
    if isinstance(value, list | tuple):
        items = [_nan_is_none(normalise_read(v)) for v in value]
        return items or None
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        return value or None
    if isinstance(value, np.generic):
        value = value.item()
    return _nan_is_none(value)


def assert_same(col: ColumnMeta, got: Any, want: Any) -> None:
    if isinstance(want, float) and isinstance(got, float):
        rel = 1e-6 if col.datatype == "float" else 1e-15
        assert math.isclose(got, want, rel_tol=rel, abs_tol=0.0), (col.name, got, want)
    elif isinstance(want, list) and isinstance(got, list) and col.datatype in ("float", "double"):
        assert len(got) == len(want), (col.name, got, want)
        for g, w in zip(got, want, strict=True):
            assert (g is None and w is None) or math.isclose(g, w, rel_tol=1e-6), (
                col.name,
                got,
                want,
            )
    else:
        assert got == want, (col.name, got, want)
