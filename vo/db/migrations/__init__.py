"""Alembic migrations of the service's own tables (TAP_SCHEMA, vo_meta, UWS, ...)."""
