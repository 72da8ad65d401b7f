"""conformance.xsd: offline validation accepts valid IVOA documents and rejects invalid ones."""

from __future__ import annotations

import pytest
from lxml import etree

from conformance.xsd import STANDARDS, OfflineResolver, validate

pytestmark = pytest.mark.skipif(not STANDARDS.is_dir(), reason=f"no schemas at {STANDARDS}")

AVAIL = (b'<availability xmlns="http://www.ivoa.net/xml/VOSIAvailability/v1.0">'
         b"<available>%s</available></availability>")
CAPS = b"""<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
 xmlns:tr="http://www.ivoa.net/xml/TAPRegExt/v1.0"
 xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1">
<capability standardID="ivo://ivoa.net/std/TAP" xsi:type="tr:TableAccess">
 <interface role="std" xsi:type="vs:ParamHTTP"><accessURL use="base">http://x/tap</accessURL>
 </interface>
 %s
 <language><name>ADQL</name><version>2.0</version></language>
 <outputFormat><mime>application/x-votable+xml</mime></outputFormat>
</capability></vosi:capabilities>"""
VOTABLE = b"""<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
<RESOURCE type="results"><INFO name="QUERY_STATUS" value="OK"/>
<TABLE><FIELD name="a" datatype="%s"/></TABLE></RESOURCE></VOTABLE>"""


def test_availability() -> None:
    assert validate(AVAIL % b"true").ok
    bad = validate(AVAIL % b"maybe")
    assert not bad.ok and "line 1" in bad.errors[0]


def test_capabilities_xsi_types_are_checked() -> None:
    assert validate(CAPS % b"").ok, validate(CAPS % b"").errors
    bad = validate(CAPS % b"<notInTapRegExt/>")
    assert not bad.ok and "notInTapRegExt" in " ".join(bad.errors)


def test_votable() -> None:
    assert validate(VOTABLE % b"int").ok
    bad = validate(VOTABLE % b"integer")  # VOTable 1.4 sec. 2.1: not a primitive datatype
    assert not bad.ok and "integer" in " ".join(bad.errors)


def test_unknown_root_and_malformed() -> None:
    assert not validate(b"<html><body/></html>").ok
    assert not validate(b"<availability").ok


def test_resolver_refuses_the_network() -> None:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(OfflineResolver(STANDARDS))
    schema = (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
              b'<xs:import namespace="urn:x" schemaLocation="http://example.org/x.xsd"/>'
              b"</xs:schema>")
    with pytest.raises((OSError, etree.XMLSchemaParseError)):
        etree.XMLSchema(etree.fromstring(schema, parser))
