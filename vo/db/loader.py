"""Bulk loading of a published table in one transaction: create, COPY FREEZE, index, swap.

The protocol (DESIGN.md "Ingest"): ONE transaction creates the new table under a
``_vo_load_*`` name, COPYs the rows into it with ``FREEZE`` (binary format; for a
positional table the caller sends them already sorted by ``hpx``, so no rewrite is
needed to cluster it), builds the btree and primary key, ``ANALYZE``s it, computes
the density map, drops the old table, renames the new one in and rewrites the
TAP_SCHEMA rows, then commits. Nothing of it is visible to other sessions before the
commit, so an ingest that fails or is killed (kill -9) leaves the published table and
its metadata untouched and nothing behind: the server rolls the transaction back when
the client goes away.

Why this shape (measured at 1e6 rows, see bench/ingest.py): a table created in the
loading transaction is not WAL-logged under ``wal_level = minimal`` (the private
cluster's setting), and ``COPY ... FREEZE`` writes its rows frozen and all-visible
(PostgreSQL 14+ sets the visibility map), which replaces the full ``VACUUM ANALYZE``
(1.15 s) of the earlier staging-table design by an ``ANALYZE`` (0.2-0.5 s) and a
``VACUUM`` after the commit that visits only the ~3% of pages COPY left unmarked
(0.01 s); the sorted COPY replaces its ``CREATE TABLE AS ... ORDER BY hpx`` rewrite
(1.6 s). The table is queryable and correct as soon as it is committed; that VACUUM
only spares index-only scans a few heap fetches.

``append`` mode merges the existing rows: the new ones go to a temporary table and
the final table is written ``ORDER BY hpx`` from both (no FREEZE there: the VACUUM
after the commit sets the whole visibility map).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import psycopg2
from sqlalchemy import Connection, Engine, text

from vo.db import tap_schema
from vo.db.pgcopy import HEADER, TRAILER
from vo.errors import IngestError
from vo.meta import Position, TableMeta, quote_ident

log = logging.getLogger(__name__)

STAGING_PREFIX = "_vo_load_"
DENSITY_ORDER = 5
ORDER_MAX = 29


@dataclass(frozen=True)
class PhysicalColumn:
    """A column of the table to create: physical name and PostgreSQL type."""

    name: str
    pg_type: str


class _CopySource:
    """A file-like object for psycopg2 ``copy_expert``: the binary COPY header, then the
    row blocks of ``blocks`` as they come (each ``read`` returns a whole block), then the
    trailer. Counts the rows it passed on."""

    def __init__(self, blocks: Iterable[tuple[bytes, int]]) -> None:
        self._blocks: Iterator[tuple[bytes, int]] = iter(blocks)
        self._state = "header"
        self.rows = 0
        self.error: BaseException | None = None  # raised by ``blocks`` (psycopg2 wraps it)

    def read(self, size: int = -1) -> bytes:
        if self._state == "header":
            self._state = "rows"
            return HEADER
        while self._state == "rows":
            try:
                data, rows = next(self._blocks)
            except StopIteration:
                self._state = "done"
                return TRAILER
            except BaseException as exc:
                self.error = exc
                raise
            self.rows += rows
            if data:
                return data
        return b""


class TableLoader:
    """Loads one table; call ``copy``/``copy_stream`` any number of times, then ``finish``
    or ``abort``. Positional tables must receive their rows in ``hpx`` order.

    ``mode`` is "create" (an existing table is an error), "replace" or "append".
    """

    def __init__(self, engine: Engine, meta: TableMeta, columns: Iterable[PhysicalColumn],
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
        self.staging = f"{STAGING_PREFIX}{self.token}"  # the new table until it is renamed
        self.appended = f"{self.staging}_new"  # append mode: the new rows (temporary)
        self.rows = 0
        self._conn: Connection | None = None
        self.seconds: dict[str, float] = {}  # per step, for benchmarks
        self._check()

    # -- setup ------------------------------------------------------------------
    def _q(self, name: str) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(name)}"

    def _exists(self, conn: Connection) -> bool:
        return conn.execute(text("SELECT to_regclass(:n) IS NOT NULL"),
                            {"n": self._q(self.table)}).scalar_one()

    def _check(self) -> None:
        """Fail early (before any row is read) when the mode does not fit the database."""
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

    def _drop_leftovers(self, conn: Connection) -> None:
        """Drop ``_vo_load_*`` tables committed by earlier versions of the loader, if not in
        use (the current one commits none: its table is renamed in the same transaction)."""
        rows = conn.execute(text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :s AND c.relname LIKE :p AND c.relkind = 'r'"),
            {"s": self.schema, "p": STAGING_PREFIX + "%"}).all()
        for (name,) in rows:
            try:
                with conn.begin_nested():
                    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
                    conn.execute(text(f"LOCK TABLE {self._q(name)} IN ACCESS EXCLUSIVE MODE"))
                    conn.execute(text(f"DROP TABLE {self._q(name)}"))
            except Exception:  # noqa: BLE001 - in use by a concurrent load
                continue

    def _column_defs(self) -> str:
        cols = [f"{quote_ident(c.name)} {c.pg_type}" for c in self.columns]
        if self.positional:
            cols += ['"hpx" bigint', '"cx" double precision', '"cy" double precision',
                     '"cz" double precision']
        return ", ".join(cols)

    def _begin(self) -> Connection:
        """The loading transaction, opened at the first COPY with the new table in it."""
        if self._conn is None:
            conn = self.engine.connect()
            self._conn = conn
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            if self.mode == "append":  # new rows first go to a temporary table
                conn.execute(text(f"CREATE TEMPORARY TABLE {quote_ident(self.appended)}"
                                  f" ({self._column_defs()}) ON COMMIT DROP"))
            else:
                conn.execute(text(f"CREATE TABLE {self._q(self.staging)} ({self._column_defs()})"))
        return self._conn

    # -- loading -----------------------------------------------------------------
    @property
    def copy_columns(self) -> list[str]:
        names = [c.name for c in self.columns]
        return names + (["hpx", "cx", "cy", "cz"] if self.positional else [])

    def copy_stream(self, blocks: Iterable[tuple[bytes, int]]) -> None:
        """One COPY of many row blocks (binary rows without header or trailer, each with
        its row count), read as the server consumes them. An exception raised by the
        iterator ends the COPY and propagates unchanged."""
        conn = self._begin()
        cols = ", ".join(quote_ident(c) for c in self.copy_columns)
        if self.mode == "append":
            target, options = quote_ident(self.appended), "FORMAT binary"
        else:  # created in this transaction: rows are written frozen and all-visible
            target, options = self._q(self.staging), "FORMAT binary, FREEZE"
        source = _CopySource(blocks)
        t0 = time.perf_counter()
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cur.copy_expert(f"COPY {target} ({cols}) FROM STDIN WITH ({options})", source,
                            size=1 << 20)
        except psycopg2.Error as exc:
            if source.error is not None:  # the rows' producer failed, not the database
                raise source.error from None
            raise IngestError(f"the database refused the rows of {self.meta.table_name}: "
                              f"{str(exc).strip().splitlines()[0]}", code="INGEST-COPY") from None
        finally:
            cur.close()
        self.seconds["copy"] = self.seconds.get("copy", 0.0) + time.perf_counter() - t0
        self.rows += source.rows

    # -- finishing ----------------------------------------------------------------
    def finish(self, density: Iterable[int] | None = None) -> TableMeta:
        """Index, analyse and swap the new table in with its metadata, in the loading
        transaction; returns the published meta.

        ``density``: rows per pixel at DENSITY_ORDER counted while loading (the caller
        saw every pixel); without it, or when appending, it is counted in SQL.
        """
        conn = self._begin()
        final = self._q(self.staging)
        t0 = time.perf_counter()
        if self.mode == "append":
            cols = ", ".join(quote_ident(c) for c in self.copy_columns)
            order = ' ORDER BY "hpx"' if self.positional else ""
            conn.execute(text("SET LOCAL work_mem = '256MB'"))
            conn.execute(text(
                f"CREATE TABLE {final} AS SELECT {cols} FROM {quote_ident(self.appended)}"
                f" UNION ALL SELECT {cols} FROM {self._q(self.table)}{order}"))
        if self.positional:
            conn.execute(text(f"CREATE INDEX {quote_ident(self.staging + '_hpx')}"
                              f' ON {final} ("hpx")'))
        if self.meta.primary_key:
            pk = ", ".join(quote_ident(c) for c in self.meta.primary_key)
            try:
                with conn.begin_nested():
                    conn.execute(text(f"ALTER TABLE {final} ADD CONSTRAINT"
                                      f" {quote_ident(self.staging + '_pkey')} PRIMARY KEY ({pk})"))
            except Exception as exc:  # noqa: BLE001 - report as the user's data problem
                raise IngestError(
                    f"primary key ({', '.join(self.meta.primary_key)}) of "
                    f"{self.meta.table_name} is not unique or has NULLs: "
                    f"{str(getattr(exc, 'orig', exc)).splitlines()[0]}",
                    code="INGEST-PRIMARY-KEY") from None
        t1 = time.perf_counter()
        conn.execute(text(f"ANALYZE {final}"))
        t2 = time.perf_counter()
        meta = self.meta
        total = (conn.execute(text(f"SELECT count(*) FROM {final}")).scalar_one()
                 if self.mode == "append" else self.rows)
        if self.positional and meta.position is not None:
            if self.mode == "append" or density is None:
                pos = self._density(conn, self.staging, meta.position, total)
            else:
                assert density is not None
                pos = replace(meta.position, rows=total, density_order=DENSITY_ORDER,
                              density=tuple(int(x) for x in density))
            meta = replace(meta, position=pos)
        if self._exists(conn):
            conn.execute(text(f"DROP TABLE {self._q(self.table)}"))
        conn.execute(text(f"ALTER TABLE {final} RENAME TO {quote_ident(self.table)}"))
        # indexes named after the table; the leading "_" keeps them apart from every table
        # name (a regular identifier starts with a letter); at most 63 bytes
        for made, suffix, name in ((self.positional, "_hpx", f"_{self.table[:54]}_hpx_idx"),
                                   (bool(self.meta.primary_key), "_pkey",
                                    f"_{self.table[:57]}_pkey")):
            if made and conn.execute(text("SELECT to_regclass(:n) IS NULL"),
                                     {"n": self._q(name)}).scalar_one():
                conn.execute(text(f"ALTER INDEX {self._q(self.staging + suffix)} RENAME TO"
                                  f" {quote_ident(name)}"))
        tap_schema.publish(conn, meta)
        conn.commit()
        conn.close()
        self._conn = None
        t3 = time.perf_counter()
        # COPY FREEZE leaves a page partly filled by one of its insert batches and completed
        # by the next without its all-visible bit (about 3% of pages), CREATE TABLE AS (append)
        # all of them: VACUUM visits only those pages and sets the visibility map that
        # index-only scans need. The table is already published and correct without it.
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text(f"VACUUM {self._q(self.table)}"))
        except Exception as exc:  # noqa: BLE001 - the ingest itself has succeeded
            log.warning("VACUUM of %s after its ingest failed (the table is published; "
                        "index-only scans may read the heap until autovacuum runs): %s",
                        self.table, exc)
        self.seconds.update(index=t1 - t0, analyze=t2 - t1, publish=t3 - t2,
                            vacuum=time.perf_counter() - t3)
        self.rows = total
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
        """Roll the loading transaction back: nothing of this load remains."""
        if self._conn is None:
            return
        try:
            self._conn.rollback()
            self._conn.close()
        except Exception:  # noqa: BLE001 - connection may already be gone
            pass
        self._conn = None
