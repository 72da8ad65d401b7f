"""The XML around the data: VOTABLE/RESOURCE/INFO/COOSYS/FIELD, and DALI error documents.

Structure follows VOTable 1.4 sec. 3 and the schema's element order (RESOURCE:
INFO*, COOSYS*, TABLE, INFO*), with DALI 1.1 sec. 4.4: one RESOURCE type="results"
whose first INFO is QUERY_STATUS, and a trailing QUERY_STATUS INFO after the TABLE
for OVERFLOW or ERROR.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vo.votable.columns import ColumnType
from vo.votable.xmltext import attrs, xml_id, xml_text

VOTABLE_NS = "http://www.ivoa.net/xml/VOTable/v1.3"
VOTABLE_VERSION = "1.4"  # the newest version stilts votlint validates
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


class Serialization(StrEnum):
    """VOTable 1.4 sec. 5 data serialisations we write."""

    BINARY2 = "BINARY2"
    BINARY = "BINARY"
    TABLEDATA = "TABLEDATA"


@dataclass(frozen=True)
class Info:
    """An INFO element (VOTable 1.4 sec. 4.8); ``text`` is its content, for people."""

    name: str
    value: str
    text: str | None = None
    ucd: str | None = None
    id: str | None = None

    def xml(self) -> str:
        ident = xml_id(self.id) if self.id is not None else None
        head = f"<INFO{attrs(ID=ident, name=self.name, value=self.value, ucd=self.ucd)}"
        if self.text is None:
            return head + "/>\n"
        return f"{head}>{xml_text(self.text)}</INFO>\n"


@dataclass(frozen=True)
class CooSys:
    """A COOSYS element (VOTable 1.4 sec. 3.4) that FIELDs point at with ``ref``."""

    id: str
    system: str = "ICRS"
    epoch: str | None = None
    equinox: str | None = None

    def xml(self) -> str:
        a = attrs(ID=xml_id(self.id), system=self.system, equinox=self.equinox, epoch=self.epoch)
        return f"<COOSYS{a}/>\n"


def _open_votable() -> str:
    return (
        XML_DECLARATION + f'<VOTABLE version="{VOTABLE_VERSION}" xmlns="{VOTABLE_NS}"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:schemaLocation="{VOTABLE_NS} http://www.ivoa.net/xml/VOTable/votable-1.4.xsd">\n'
    )


def field_xml(ctype: ColumnType, *, ref: str | None, null: int | None) -> str:
    """A FIELD (VOTable 1.4 sec. 4.1) with DESCRIPTION and, when given, VALUES null."""
    m = ctype.meta
    a = attrs(
        name=ctype.name,
        datatype=ctype.datatype,
        arraysize=ctype.declared_arraysize,
        xtype=m.xtype,
        unit=m.unit,
        ucd=m.ucd,
        utype=m.utype,
        ref=xml_id(ref) if ref is not None else None,
    )
    body = ""
    if m.description:
        body += f"<DESCRIPTION>{xml_text(m.description)}</DESCRIPTION>"
    if null is not None:
        body += f'<VALUES null="{null}"/>'
    return f"<FIELD{a}>{body}</FIELD>\n" if body else f"<FIELD{a}/>\n"


def values_null(ctype: ColumnType, serialization: Serialization) -> int | None:
    """The magic null to declare: integer scalars in BINARY, integer array elements always
    (the only way to flag a null element, VOTable 1.4 sec. 5.5)."""
    if ctype.integer_null is None or ctype.is_text or ctype.is_bytes:
        return None
    if not ctype.arraysize.scalar or serialization is Serialization.BINARY:
        return ctype.integer_null
    return None


def document_head(
    types: Sequence[ColumnType],
    serialization: Serialization,
    *,
    infos: Sequence[Info],
    coosys: Sequence[CooSys],
    coosys_refs: Mapping[str, str],
    table_name: str | None,
    description: str | None,
) -> str:
    """Everything up to and including the opening of the serialisation element."""
    out = [_open_votable(), '<RESOURCE type="results">\n']
    if not infos or infos[0].name != "QUERY_STATUS":
        out.append(Info("QUERY_STATUS", "OK").xml())
    out.extend(i.xml() for i in infos)
    out.extend(c.xml() for c in coosys)
    out.append(f"<TABLE{attrs(name=table_name)}>\n")
    if description:
        out.append(f"<DESCRIPTION>{xml_text(description)}</DESCRIPTION>\n")
    for t in types:
        ref = coosys_refs.get(t.name) or coosys_refs.get(t.meta.name)
        out.append(field_xml(t, ref=ref, null=values_null(t, serialization)))
    out.append("<DATA>")
    if serialization is Serialization.TABLEDATA:
        out.append("<TABLEDATA>\n")
    else:
        out.append(f'<{serialization.value}>\n<STREAM encoding="base64">\n')
    return "".join(out)


def document_tail(serialization: Serialization, *, overflowed: bool, error: str | None) -> str:
    """Close the data and table; trailing QUERY_STATUS for OVERFLOW / ERROR (DALI 1.1 4.4)."""
    if serialization is Serialization.TABLEDATA:
        out = ["</TABLEDATA>"]
    else:
        out = [f"</STREAM>\n</{serialization.value}>"]
    out.append("</DATA>\n</TABLE>\n")
    if error is not None:
        out.append(Info("QUERY_STATUS", "ERROR", error).xml())
    elif overflowed:
        out.append(
            Info(
                "QUERY_STATUS",
                "OVERFLOW",
                "The result was truncated at MAXREC rows; ask for a larger MAXREC "
                "(up to the service limit) or narrow the query.",
            ).xml()
        )
    out.append("</RESOURCE>\n</VOTABLE>\n")
    return "".join(out)


def error_document(message: str, *, code: str | None = None, infos: Sequence[Info] = ()) -> bytes:
    """A DALI 1.1 sec. 4.4.2 error VOTable: RESOURCE type="results" with QUERY_STATUS=ERROR.

    ``code`` (a VOError code) is prefixed to the message so people can search for it.
    """
    text = f"{code}: {message}" if code else message
    body = [
        _open_votable(),
        '<RESOURCE type="results">\n',
        Info("QUERY_STATUS", "ERROR", text).xml(),
    ]
    body.extend(i.xml() for i in infos if i.name != "QUERY_STATUS")
    body.append("</RESOURCE>\n</VOTABLE>\n")
    return "".join(body).encode("utf-8")
