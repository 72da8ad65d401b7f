"""Catalogue ingest (L3): files -> published, HEALPix-indexed PostgreSQL tables.

May import: vo.errors, vo.config, vo.meta, vo.healpix, vo.adql.reserved, vo.db (the
only way it reaches SQL). Entry point: ``ingest(engine, IngestRequest(...))``.
"""

from catalogs.ingest.metadata import TableOptions
from catalogs.ingest.pipeline import IngestRequest, IngestResult, ingest

__all__ = ["IngestRequest", "IngestResult", "TableOptions", "ingest"]
