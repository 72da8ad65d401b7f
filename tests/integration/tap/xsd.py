"""Offline XSD validation of the service's XML against the IVOA schemas in ../shared/standards."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import xmlschema

STD = Path("/work/shared/standards")
LOCATIONS = {
    "http://www.ivoa.net/xml/VOResource/v1.0": STD / "VOResource/VOResource-v1.1.xsd",
    "http://www.ivoa.net/xml/VODataService/v1.1": STD / "VODataService/VODataService-v1.2.xsd",
    "http://www.ivoa.net/xml/TAPRegExt/v1.0": STD / "TAPRegExt/TAPRegExt-v1.0.xsd",
    "http://www.ivoa.net/xml/VOSICapabilities/v1.0": STD / "VOSI/VOSICapabilities-v1.0.xsd",
    "http://www.ivoa.net/xml/VOSITables/v1.0": STD / "VOSI/VOSITables-v1.1.xsd",
    "http://www.ivoa.net/xml/VOSIAvailability/v1.0": STD / "VOSI/VOSIAvailability-v1.0.xsd",
    "http://www.ivoa.net/xml/VOTable/v1.3": STD / "VOTable/VOTable-1.4.xsd",
    "http://www.ivoa.net/xml/STC/stc-v1.30.xsd": Path(__file__).parent / "stc-stub.xsd",
    "http://www.w3.org/1999/xlink": STD / "_common-xsd/xlink.xsd",
    "http://www.w3.org/XML/1998/namespace": STD / "_common-xsd/xml.xsd",
}


@cache
def schema(namespace: str) -> xmlschema.XMLSchema:
    locs = [(ns, str(p)) for ns, p in LOCATIONS.items() if ns != namespace]
    return xmlschema.XMLSchema(str(LOCATIONS[namespace]), locations=locs)


def validate(document: bytes, namespace: str) -> None:
    """Raise xmlschema.XMLSchemaValidationError when ``document`` is not valid."""
    schema(namespace).validate(document)
