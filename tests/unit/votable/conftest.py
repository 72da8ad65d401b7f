"""Fixtures for the VOTable writer tests: XSD validation of VOTable 1.4 with lxml, offline."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

STANDARDS = Path("/work/shared/standards")
VOTABLE_XSD = STANDARDS / "VOTable" / "VOTable-1.4.xsd"
COMMON_XSD = STANDARDS / "_common-xsd"


class OfflineSchemas(etree.Resolver):
    """Resolve schema imports (xlink, xml, XMLSchema) to the copies on disk, never the network."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:
        name = system_url.rsplit("/", 1)[-1]
        local = COMMON_XSD / name
        if local.exists():
            return self.resolve_filename(str(local), context)
        return None


@pytest.fixture(scope="session")
def votable_schema() -> etree.XMLSchema:
    if not VOTABLE_XSD.exists():
        pytest.skip(f"VOTable XSD not found at {VOTABLE_XSD}")
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(OfflineSchemas())
    return etree.XMLSchema(etree.parse(str(VOTABLE_XSD), parser))


@pytest.fixture
def assert_valid(votable_schema: etree.XMLSchema) -> Any:
    def check(document: bytes) -> etree._ElementTree:
        tree = etree.parse(io.BytesIO(document))
        if not votable_schema.validate(tree):
            raise AssertionError(str(votable_schema.error_log))
        return tree

    return check
