"""The only code that talks SQL (L2): private cluster, engines, migrations, TAP_SCHEMA,
streamed query execution, bulk loading, the UWS job store.

May import: vo.errors, vo.config, vo.meta, vo.healpix, SQLAlchemy and psycopg. Layers
above receive an ``Engine`` as an opaque handle (re-exported here, so they never import
a SQL library themselves) and call functions of this package with it.
"""

from sqlalchemy import Engine

__all__ = ["Engine"]
