"""Bulk loading of a published table: staging, COPY, sort by HEALPix, index, atomic swap.

The protocol (DESIGN.md "Ingest"): rows are COPYed into an UNLOGGED staging table in
the target schema; ``finish`` writes the final table sorted by ``hpx`` (PostgreSQL
sorts with bounded memory, spilling to disk), builds the btree and primary key,
``VACUUM ANALYZE``s it, computes the density map, and then ONE transaction renames
the old table away, renames the new one in, drops the old one and rewrites the
TAP_SCHEMA rows. Until that transaction commits, the published table and its
metadata are untouched, so an ingest that fails or is killed leaves them intact;
leftover ``_vo_load_*`` tables are dropped by the next load into that schema.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine, text

from vo.db import tap_schema
from vo.errors import IngestError
from vo.meta import Position, TableMeta, quote_ident

STAGING_PREFIX = "_vo_load_"
DENSITY_ORDER = 5
ORDER_MAX = 29


@dataclass(frozen=True)
class PhysicalColumn:
    """A column of the table to create: physical name and PostgreSQL type."""

    name: str
    pg_type: str


class TableLoader:
    """Loads one table; use ``copy`` any number of times, then ``finish`` or ``abort``.

    ``mode`` is "create" (an existing table is an error), "replace" or "append".
    """

    def __init__(self, engine: Engine, meta: TableMeta, columns: Sequence[PhysicalColumn],
                 *, mode: str = "create", position_columns: bool = False) -> None:
        if mode not in ("create", "replace", "append"):
            raise ValueError(mode)
        self.engine = engine
        self.meta = meta
        self.columns = list(columns)
        self.mode = mode
        self.positional = position_columns
        self.schema = meta.db_schema
        self.table = meta.db_table
        self.token = secrets.token_hex(6)
        self.staging = f"{STAGING_PREFIX}{self.token}"
        self.rows = 0
        self._raw = engine.raw_connection()
        self._check_and_prepare()

    # -- setup ------------------------------------------------------------------
    def _q(self, name: str) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(name)}"

    def _exists(self, conn: Connection) -> bool:
        return conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"),
                            {"n": self._q(self.table)}).scalar_one()

    def _check_and_prepare(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}"))
            exists = self._exists(conn)
            published = conn.execute(text("SELECT 1 FROM tap_schema.tables WHERE table_name = :t"),
                                     {"t": self.meta.table_name}).first() is not None
            if (exists or published) and self.mode == "create":
                raise IngestError(
                    f"table {self.meta.table_name} already exists: use --replace to replace it "
                    "or --append to add rows to it", code="INGEST-EXISTS")
            if self.mode == "append" and not exists:
                raise IngestError(f"--append: table {self.meta.table_name} does not exist",
                                  code="INGEST-NO-TABLE")
            self._drop_leftovers(conn)
        cols = [f"{quote_ident(c.name)} {c.pg_type}" for c in self.columns]
        if self.positional:
            cols += ['"hpx" bigint', '"cx" double precision', '"cy" double precision',
                     '"cz" double precision']
        with self.engine.begin() as conn:
            conn.execute(text(f"CREATE UNLOGGED TABLE {self._q(self.staging)} ({', '.join(cols)})"))

    def _drop_leftovers(self, conn: Connection) -> None:
        """Drop staging tables of loads that died (kill -9) in this schema, if not in use."""
        rows = conn.execute(text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :s AND c.relname LIKE :p AND c.relkind = 'r'"),
            {"s": self.schema, "p": STAGING_PREFIX + "%"}).all()
        for (name,) in rows:
            # A killed load's backend may still be finishing its statement (the server
            # notices a dead client within client_connection_check_interval): wait a
            # little for its lock; a table still locked after that belongs to a live
            # load elsewhere and is left alone.
            try:
                with conn.begin_nested():
                    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                    conn.execute(text(f"LOCK TABLE {self._q(name)} IN ACCESS EXCLUSIVE MODE"))
                    conn.execute(text(f"DROP TABLE {self._q(name)}"))
            except Exception:  # noqa: BLE001 - in use by a concurrent load
                continue

    # -- loading -----------------------------------------------------------------
    @property
    def copy_columns(self) -> list[str]:
        names = [c.name for c in self.columns]
        return names + (["hpx", "cx", "cy", "cz"] if self.positional else [])

    def copy(self, data: bytes, rows: int) -> None:
        """COPY one binary-format block (PostgreSQL binary COPY, columns in ``copy_columns`` order)."""
        cols = ", ".join(quote_ident(c) for c in self.copy_columns)
        sql = f"COPY {self._q(self.staging)} ({cols}) FROM STDIN WITH (FORMAT binary)"
        cur = self._raw.cursor()
        try:
            cur.copy_expert(sql, io.BytesIO(data))
            self._raw.commit()
        except Exception as exc:
            self._raw.rollback()
            raise IngestError(f"the database refused the rows of {self.meta.table_name}: "
                              f"{str(exc).strip().splitlines()[0]}", code="INGEST-COPY") from None
        finally:
            cur.close()
        self.rows += rows

    # -- finishing ----------------------------------------------------------------
    def finish(self, density: Sequence[int] | None = None) -> TableMeta:
        """Build the final table and swap it in with its metadata; returns the published meta.

        ``density``: rows per pixel at DENSITY_ORDER counted while loading (the caller
        saw every pixel); without it, or when appending, it is counted in SQL.
        """
        final = f"{STAGING_PREFIX}{self.token}_final"
        cols = ", ".join(quote_ident(c) for c in self.copy_columns)
        sources = f"SELECT {cols} FROM {self._q(self.staging)}"
        if self.mode == "append":
            sources += f" UNION ALL SELECT {cols} FROM {self._q(self.table)}"
        order = ' ORDER BY "hpx"' if self.positional else ""
        with self.engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            conn.execute(text("SET LOCAL work_mem = '256MB'"))  # sort in memory when it fits
            conn.execute(text(f"CREATE TABLE {self._q(final)} AS {sources}{order}"))
            conn.execute(text(f"DROP TABLE {self._q(self.staging)}"))
            if self.positional:
                conn.execute(text(f'CREATE INDEX ON {self._q(final)} ("hpx")'))
            if self.meta.primary_key:
                pk = ", ".join(quote_ident(c) for c in self.meta.primary_key)
                try:
                    with conn.begin_nested():
                        conn.execute(text(f"ALTER TABLE {self._q(final)} ADD PRIMARY KEY ({pk})"))
                except Exception as exc:  # noqa: BLE001 - report as the user's data problem
                    raise IngestError(
                        f"primary key ({', '.join(self.meta.primary_key)}) of "
                        f"{self.meta.table_name} is not unique or has NULLs: "
                        f"{str(getattr(exc, 'orig', exc)).splitlines()[0]}",
                        code="INGEST-PRIMARY-KEY") from None
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM ANALYZE {self._q(final)}"))
        meta = self.meta
        with self.engine.begin() as conn:
            if self.mode == "append" or density is None:
                total = conn.execute(text(f"SELECT count(*) FROM {self._q(final)}")).scalar_one()
            else:
                total = self.rows
            if self.positional and meta.position is not None:
                if self.mode == "append" or density is None:
                    pos = self._density(conn, final, meta.position, total)
                else:
                    pos = replace(meta.position, rows=total, density_order=DENSITY_ORDER,
                                  density=tuple(int(x) for x in density))
                meta = replace(meta, position=pos)
            if self._exists(conn):
                conn.execute(text(f"DROP TABLE {self._q(self.table)}"))
            conn.execute(text(f"ALTER TABLE {self._q(final)} RENAME TO {quote_ident(self.table)}"))
            tap_schema.publish(conn, meta)
        self.rows = total
        self._raw.close()
        return meta

    def _density(self, conn: Connection, table: str, pos: Position, total: int) -> Position:
        shift = 2 * (ORDER_MAX - DENSITY_ORDER)
        counts = [0] * (12 * 4**DENSITY_ORDER)
        for pix, n in conn.execute(text(
                f'SELECT "hpx" >> {shift} AS p, count(*) FROM {self._q(table)}'
                ' WHERE "hpx" IS NOT NULL GROUP BY 1')):
            counts[int(pix)] = int(n)
        return replace(pos, rows=total, density_order=DENSITY_ORDER, density=tuple(counts))

    def abort(self) -> None:
        """Drop what this load made; the published table is untouched."""
        try:
            self._raw.rollback()
            self._raw.close()
        except Exception:  # noqa: BLE001 - connection may already be gone
            pass
        with self.engine.begin() as conn:
            for name in (self.staging, f"{self.staging}_final"):
                conn.execute(text(f"DROP TABLE IF EXISTS {self._q(name)}"))
