"""Catalogue tooling outside the service proper: ``catalogs.ingest`` loads files into
published tables."""
