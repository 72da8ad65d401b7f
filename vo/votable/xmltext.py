"""Escaping of text and attribute values for the VOTable XML we write.

XML 1.0 sec. 2.2 allows only #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and
#x10000-#x10FFFF; other characters cannot appear even as character references, so
they are replaced by U+FFFD (or ``?`` where the column is ASCII ``char``). In
attribute values tab, newline and carriage return are written as character
references so attribute-value normalisation (XML 1.0 sec. 3.3.3) does not turn them
into spaces; in text a carriage return is a reference so it is not folded into a newline.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The same class for RE2 (pyarrow.compute), which matches whole UTF-8 code points.
FORBIDDEN_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"

_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)


def xml_text(value: str) -> str:
    """Character data for an element's content."""
    return _FORBIDDEN.sub("\ufffd", value).translate(_TEXT)


def xml_attr(value: str) -> str:
    """A value to put between double quotes in an attribute."""
    return _FORBIDDEN.sub("\ufffd", value).translate(_ATTR)


_NOT_NAME = re.compile(r"[^\w.\-]", re.ASCII)


def xml_id(value: str) -> str:
    """A valid XML ID/IDREF (an NCName, XML Namespaces 1.0 sec. 3) made from ``value``:
    other characters become ``_``, and a leading digit, ``.`` or ``-`` gets a ``_`` prefix.
    COOSYS IDs and the FIELD refs pointing at them go through the same mapping."""
    name = _NOT_NAME.sub("_", value) or "_"
    return "_" + name if not (name[0].isalpha() or name[0] == "_") else name


def attrs(**values: str | None) -> str:
    """` name="value"` pairs for the values that are not None (trailing ``_`` dropped)."""
    return "".join(f' {k.rstrip("_")}="{xml_attr(v)}"' for k, v in values.items() if v is not None)


def escape_text_array(arr: pa.Array, *, replacement: str) -> pa.Array:
    """Vectorised ``xml_text`` over a string array (nulls stay null)."""
    if pc.any(pc.match_substring_regex(arr, FORBIDDEN_RE2)).as_py():
        arr = pc.replace_substring_regex(arr, pattern=FORBIDDEN_RE2, replacement=replacement)
    for needle, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        if pc.any(pc.match_substring(arr, needle)).as_py():
            arr = pc.replace_substring(arr, pattern=needle, replacement=ref)
    return arr
