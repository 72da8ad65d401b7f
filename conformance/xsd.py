"""Offline XSD validation of the suite's XML against the IVOA schemas on disk.

One umbrella schema imports every namespace the suite emits (VOSI capabilities,
tables and availability; VOResource/VODataService/TAPRegExt for the capability
types; UWS 1.1 job and job list; VOTable 1.4; OAI-PMH and the registry schemas for
the publishing registry). An lxml resolver maps every remote schema location the
IVOA schemas name to the copy in ``../shared/standards`` (INDEX.md: "put them in an
XML catalog so that validation works offline"), so nothing is fetched from the net.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

SHARED = Path(os.environ.get("VO_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
STANDARDS = Path(os.environ.get("VO_STANDARDS_DIR", SHARED / "standards"))
STC_STUB = Path(__file__).resolve().parent / "schemas" / "stc-stub.xsd"


def _namespaces(std: Path) -> dict[str, Path]:
    """Namespace -> the schema file that defines it (the versions the suite implements)."""
    return {
        "http://www.ivoa.net/xml/VOResource/v1.0": std / "VOResource/VOResource-v1.1.xsd",
        "http://www.ivoa.net/xml/VODataService/v1.1": std / "VODataService/VODataService-v1.2.xsd",
        "http://www.ivoa.net/xml/TAPRegExt/v1.0": std / "TAPRegExt/TAPRegExt-v1.0.xsd",
        "http://www.ivoa.net/xml/VOSICapabilities/v1.0": std / "VOSI/VOSICapabilities-v1.0.xsd",
        "http://www.ivoa.net/xml/VOSITables/v1.0": std / "VOSI/VOSITables-v1.1.xsd",
        "http://www.ivoa.net/xml/VOSIAvailability/v1.0": std / "VOSI/VOSIAvailability-v1.0.xsd",
        "http://www.ivoa.net/xml/UWS/v1.0": std / "UWS/UWS-v1.1.xsd",
        "http://www.ivoa.net/xml/VOTable/v1.3": std / "VOTable/VOTable-1.4.xsd",
        "http://www.openarchives.org/OAI/2.0/": std / "RI/OAI-PMH.xsd",
        "http://www.openarchives.org/OAI/2.0/oai_dc/": std / "RI/oai_dc.xsd",
        "http://www.ivoa.net/xml/RegistryInterface/v1.0": std / "RI/RegistryInterface-v1.0.xsd",
        "http://www.ivoa.net/xml/VORegistry/v1.0": std / "RI/VORegistry-v1.1.xsd",
        "http://www.ivoa.net/xml/ConeSearch/v1.0": std / "ConeSearch/ConeSearch-v1.0.xsd",
        "http://www.ivoa.net/xml/STC/stc-v1.30.xsd": STC_STUB,
        "http://www.w3.org/1999/xlink": std / "_common-xsd/xlink.xsd",
        "http://www.w3.org/XML/1998/namespace": std / "_common-xsd/xml.xsd",
    }


def _by_location(std: Path) -> dict[str, Path]:
    """Schema locations as the IVOA schemas write them -> local files."""
    ns = _namespaces(std)
    table = {k: v for k, v in ns.items()}
    table.update({
        "http://www.ivoa.net/xml/Xlink/xlink.xsd": ns["http://www.w3.org/1999/xlink"],
        "http://www.w3.org/2001/03/xml.xsd": ns["http://www.w3.org/XML/1998/namespace"],
        "https://www.ivoa.net/xml/VOResource/VOResource-v1.0.xsd":
            ns["http://www.ivoa.net/xml/VOResource/v1.0"],
    })
    return table


BASENAMES = {
    "VOResource-v1.1.xsd": "http://www.ivoa.net/xml/VOResource/v1.0",
    "xml.xsd": "http://www.w3.org/XML/1998/namespace",
    "xlink.xsd": "http://www.w3.org/1999/xlink",
    "simpledc20021212.xsd": None,
}


class OfflineResolver(etree.Resolver):
    """Answer every schema fetch from ../shared/standards; refuse the network."""

    def __init__(self, std: Path) -> None:
        super().__init__()
        self.std = std
        self.locations = _by_location(std)
        self.ns = _namespaces(std)

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        if system_url in self.locations:
            return self.resolve_filename(str(self.locations[system_url]), context)
        base = system_url.rsplit("/", 1)[-1]
        if base in BASENAMES:
            target = BASENAMES[base]
            if target is None:
                return self.resolve_filename(str(self.std / "RI" / base), context)
            return self.resolve_filename(str(self.ns[target]), context)
        if system_url.startswith(("http://", "https://")):
            raise OSError(f"schema {system_url} is not available offline; add it to "
                          "conformance/xsd.py")
        return None


@cache
def umbrella(std: Path = STANDARDS) -> etree.XMLSchema:
    """One schema that knows every namespace the suite emits."""
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{path.as_uri()}"/>'
                      for ns, path in _namespaces(std).items()
                      if ns != "http://www.w3.org/XML/1998/namespace")
    text = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'targetNamespace="urn:vo-suite:conformance">' + imports + "</xs:schema>")
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(OfflineResolver(std))
    doc = etree.fromstring(text.encode(), parser, base_url=(std / "umbrella.xsd").as_uri())
    return etree.XMLSchema(etree.ElementTree(doc))


@dataclass
class Validation:
    ok: bool
    root: str
    errors: list[str]


def validate(document: bytes, std: Path = STANDARDS) -> Validation:
    """Validate a whole document; errors carry line numbers and the schema's message."""
    try:
        tree = etree.fromstring(document, etree.XMLParser(no_network=True, huge_tree=True))
    except etree.XMLSyntaxError as exc:
        return Validation(False, "?", [f"not well-formed XML: {exc}"])
    schema = umbrella(std)
    root = etree.QName(tree).text
    if etree.QName(tree).namespace not in _namespaces(std):
        return Validation(False, root, [f"root element {root} is in no namespace we have a "
                                        "schema for"])
    ok = schema.validate(etree.ElementTree(tree))
    errors = [f"line {e.line}: {e.message}" for e in schema.error_log] if not ok else []
    return Validation(ok, root, errors)
