"""Streamed execution of translated ADQL on a server-side cursor (TAP 1.1 sec. 2.7.4;
DALI 1.1 sec. 4.4).

Only SQL produced by ``vo.adql`` reaches this module. Each query runs in its own
transaction on a pooled connection, under the read-only query role with
``SET LOCAL ROLE`` and a ``SET LOCAL statement_timeout``. Because every FETCH of a
named cursor is its own statement, a statement timeout alone does not bound a
streamed query: a wall-clock watchdog cancels the backend when the execution
duration is exceeded. UWS may cancel a running query from another thread through
``StreamedQuery.cancel`` (or by ``backend_pid`` with ``pg_cancel_backend``).

The connection goes back to the pool (rolled back, temporary tables dropped) when
the consumer closes the query, including when it stops reading early.

A result whose columns are all scalars (numbers, booleans, timestamps, strings:
``wires``, from ``vo.db.pgcopy.wire_types``) is read column-wise: the query runs as a
binary COPY in a producer thread (psycopg2 releases the GIL while it waits for data)
that writes through an OS pipe, and ``chunks()`` yields Arrow record batches. Anything
else (arrays, geometries) is read row by row from a named cursor and ``chunks()``
yields lists of tuples.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, TypeAlias

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import pyarrow as pa
from sqlalchemy import Engine

from vo.db.pgcopy import CopyDecoder, Wire, copy_sql
from vo.errors import DatabaseError, LimitError, QueryError
from vo.meta import quote_ident

log = logging.getLogger(__name__)

Row = tuple[Any, ...]
Chunk: TypeAlias = list[Row] | pa.RecordBatch
Prepare = Callable[[Any], None]
"""Called with the raw psycopg2 connection inside the query's transaction, before the
query (as the owner role): loads TAP_UPLOAD tables into temporary tables."""

_cursor_names = itertools.count(1)
F_SETPIPE_SZ = 1031  # Linux fcntl: set a pipe's capacity


class ExecutionTimeError(LimitError):
    """The query ran longer than its execution duration (UWS 1.1 sec. 2.1.5)."""

    code = "QUERY-TIMEOUT"


class QueryAbortedError(QueryError):
    """The query was cancelled on request (UWS 1.1 sec. 2.2.3.1: PHASE=ABORT)."""

    code = "QUERY-ABORTED"


class QueryExecutionError(QueryError):
    """The database rejected the translated query at run time (e.g. division by zero)."""

    code = "QUERY-EXECUTION"


class StreamedQuery:
    """One open query: execute, then read ``chunks()``; always ``close()`` (or use ``with``).

    With ``wires`` the result is read through binary COPY and ``chunks()`` yields Arrow
    record batches with the columns in order (named c0, c1, ...); without, lists of
    row tuples, and ``description`` holds the cursor's DB-API description once the first
    chunk is read.
    """

    def __init__(
        self,
        engine: Engine,
        sql: str,
        params: Sequence[Any] | dict[str, Any] | None = None,
        *,
        role: str = "vo_query",
        timeout_s: float = 60.0,
        chunk_rows: int = 10_000,
        prepare: Prepare | None = None,
        wires: Sequence[Wire] | None = None,
    ) -> None:
        self._engine = engine
        self.sql = sql
        self.params = params
        self.role = role
        self.timeout_s = timeout_s
        self.chunk_rows = max(1, chunk_rows)
        self._prepare = prepare
        self._raw: Any = None  # SQLAlchemy pool proxy
        self._conn: Any = None  # psycopg2 connection
        self._cursor: Any = None
        self._watchdog: threading.Timer | None = None
        self._reason: str | None = None  # "timeout", "abort" or "hangup" once cancelled
        self._lock = threading.Lock()
        self._closed = False
        self.backend_pid: int | None = None
        self.started: float | None = None
        self.description: Any = None
        self.wires = list(wires) if wires else None
        self._copy: _CopyProducer | None = None

    # -- lifecycle ------------------------------------------------------------------
    def __enter__(self) -> StreamedQuery:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> StreamedQuery:
        """Take a connection, start the transaction, run ``prepare`` and execute the query."""
        try:
            self._raw = self._engine.raw_connection()
        except Exception as exc:  # noqa: BLE001 - pool/connect failures of any kind
            raise DatabaseError(
                f"cannot connect to the database: {_first_line(exc)}", code="DB-CONNECT"
            ) from None
        self._conn = self._raw.driver_connection
        try:
            self._conn.autocommit = False
            self.backend_pid = self._conn.get_backend_pid()
            self.started = time.monotonic()
            self._start_watchdog()
            ms = max(1, int(self.timeout_s * 1000))
            role = f"SET LOCAL ROLE {quote_ident(self.role)}"
            # jit off: on misestimated crossmatch joins JIT compiled for 0.5 s to save ms.
            # idle_in_transaction_session_timeout: a consumer that stops reading between
            # FETCHes leaves nothing running for the watchdog to cancel; the server then
            # ends the session itself, so no stream outlives its limit for long.
            # TimeZone UTC: timestamptz values reach every output path as UTC.
            settings = (f"SET LOCAL statement_timeout = {ms}; SET LOCAL jit = off; "
                        f"SET LOCAL idle_in_transaction_session_timeout = {ms}; "
                        "SET LOCAL TimeZone = 'UTC'")
            with self._conn.cursor() as cur:
                if self._prepare is not None:
                    cur.execute(settings)
                    self._prepare(self._conn)
                    cur.execute(role)
                else:  # one round trip for all settings
                    cur.execute(f"{settings}; {role}")
            if self.wires is not None:
                with self._conn.cursor() as cur:
                    sql = (self.sql if self.params is None
                           else cur.mogrify(self.sql, self.params).decode())
                self._copy = _CopyProducer(self._conn, copy_sql(sql, self.wires), self.wires,
                                           self.chunk_rows)
            else:
                self._cursor = self._conn.cursor(name=f"vo_q{next(_cursor_names)}")
                self._cursor.itersize = self.chunk_rows
                self._cursor.execute(self.sql, self.params)
        except BaseException as exc:
            err = self._translate(exc)
            self.close()
            if err is exc:
                raise
            raise err from None
        return self

    def chunks(self) -> Iterator[Chunk]:
        """Chunks of about ``chunk_rows`` rows (record batches or lists of row tuples, see
        the class docstring) until the result is exhausted."""
        if self._copy is not None:
            yield from self._batches(self._copy)
            return
        if self._cursor is None:
            raise RuntimeError("StreamedQuery.open() was not called")
        while True:
            if self._reason is not None:
                err = self._translate(psycopg2.extensions.QueryCanceledError())
                self.close()
                raise err
            try:
                rows = self._cursor.fetchmany(self.chunk_rows)
                if self.description is None:
                    self.description = self._cursor.description
            except BaseException as exc:
                err = self._translate(exc)
                self.close()
                if err is exc:
                    raise
                raise err from None
            if not rows:
                return
            yield rows
            if len(rows) < self.chunk_rows:
                return  # a short chunk is the last: no extra FETCH round trip

    def _batches(self, copy: _CopyProducer) -> Iterator[pa.RecordBatch]:
        try:
            yield from copy.batches()
        except BaseException as exc:
            if isinstance(exc, GeneratorExit):
                raise
            if self._reason is not None:
                exc = psycopg2.extensions.QueryCanceledError()
            err = self._translate(exc)
            self.close()
            if err is exc:
                raise
            raise err from None

    def cancel(self, reason: str = "abort") -> None:
        """Cancel the running statement from any thread (UWS abort, watchdog)."""
        with self._lock:
            if self._closed or self._conn is None:
                return
            if self._reason is None:
                self._reason = reason
            try:
                self._conn.cancel()
            except psycopg2.Error as exc:  # the connection may just have finished
                log.debug("cancel of backend %s failed: %s", self.backend_pid, exc)

    def close(self) -> None:
        """Stop the watchdog, roll back (drops temporary tables) and return the connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._watchdog is not None:
                self._watchdog.cancel()
            copy, self._copy = self._copy, None
        stuck = copy is not None and not copy.stop()
        conn, raw = self._conn, self._raw
        self._cursor = None
        if conn is None:
            return
        try:
            if stuck:  # the COPY thread still holds the connection: never reuse it
                raise psycopg2.InterfaceError("a COPY did not stop")
            if not conn.closed:
                conn.rollback()
        except psycopg2.Error:
            # A broken connection must not go back to the pool.
            try:
                raw.invalidate()
            except Exception:  # noqa: BLE001
                pass
        finally:
            raw.close()

    @property
    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    # -- internals ------------------------------------------------------------------
    def _start_watchdog(self) -> None:
        t = threading.Timer(self.timeout_s, self.cancel, kwargs={"reason": "timeout"})
        t.daemon = True
        t.name = f"vo-query-watchdog-{self.backend_pid}"
        self._watchdog = t
        t.start()

    def _translate(self, exc: BaseException) -> BaseException:
        """Map a driver exception to the VOError a person can act on."""
        if isinstance(exc, psycopg2.extensions.QueryCanceledError):
            if self._reason == "abort":
                return QueryAbortedError("the query was aborted on request")
            if self._reason == "hangup":
                return QueryAbortedError(
                    "the client closed the connection; the query was cancelled"
                )
            return ExecutionTimeError(
                f"the query ran longer than the execution duration of {self.timeout_s:g} s and "
                "was cancelled; add constraints (e.g. a smaller region or TOP), or submit it "
                "as an asynchronous job with a longer EXECUTIONDURATION"
            )
        if isinstance(exc, psycopg2.errors.InsufficientPrivilege):
            return QueryExecutionError(
                f"the query touches data it may not read: {_first_line(exc)}",
                code="QUERY-PRIVILEGE",
            )
        if isinstance(
            exc, (psycopg2.DataError, psycopg2.ProgrammingError, psycopg2.IntegrityError)
        ):
            return QueryExecutionError(
                f"the database could not evaluate the query: {_first_line(exc)}; "
                "check the values and functions the query uses"
            )
        if isinstance(exc, psycopg2.OperationalError):
            if isinstance(exc, psycopg2.errors.ProgramLimitExceeded):
                return QueryExecutionError(f"the query is too large: {_first_line(exc)}")
            return DatabaseError(
                f"the database failed while running the query: {_first_line(exc)}", code="DB-QUERY"
            )
        if isinstance(exc, psycopg2.Error):
            return DatabaseError(f"database error: {_first_line(exc)}", code="DB-QUERY")
        return exc


class _CopyProducer:
    """Runs one binary COPY in a thread; ``batches()`` decodes what it hands over.

    psycopg2 calls ``write`` once per row; handing it a C buffered writer over an OS
    pipe keeps Python code out of that per-row call, and the pipe bounds memory (the
    thread blocks, without the GIL, while the consumer is behind). ``stop()`` (consumer
    gone or closing) cancels the statement if it still runs, closes the pipe so a
    blocked write fails, and waits for the thread.
    """

    def __init__(self, conn: Any, sql: str, wires: Sequence[Wire], chunk_rows: int) -> None:
        self._conn = conn
        self._decoder = CopyDecoder(wires)
        self._block = max(1 << 16, chunk_rows * self._decoder.row_bytes)
        self._read_fd, write_fd = os.pipe()
        try:
            fcntl.fcntl(write_fd, F_SETPIPE_SZ, 1 << 20)
        except OSError:
            pass  # the default 64 KiB pipe works too, with more wake-ups
        self._writer = open(write_fd, "wb", buffering=self._block)  # noqa: SIM115 - closed by _run
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(sql,), name="vo-query-copy", daemon=True
        )
        self._thread.start()

    def _run(self, sql: str) -> None:
        try:
            with self._conn.cursor() as cur:
                cur.copy_expert(sql, self._writer)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._error = exc
        finally:
            self._done.set()
            try:
                self._writer.close()  # flushes; the consumer then reads end of file
            except OSError:
                pass  # the reader is gone (stop)

    def batches(self) -> Iterator[pa.RecordBatch]:
        while True:
            block = self._read()
            if not block:
                self._thread.join()
                if self._error is not None:
                    raise self._error
                self._decoder.finish()
                return
            batch = self._decoder.feed(block)
            if batch is not None and batch.num_rows:
                yield batch

    def _read(self) -> bytes:
        """About one block, or b"" at end of data."""
        parts, size = [], 0
        while size < self._block:
            part = os.read(self._read_fd, self._block - size)
            if not part:
                break
            parts.append(part)
            size += len(part)
        return b"".join(parts)

    def stop(self) -> bool:
        """Stop and wait for the thread; False if it is still running after 30 s."""
        if self._read_fd < 0:
            return not self._thread.is_alive()
        if self._thread.is_alive() and not self._done.is_set():
            try:
                self._conn.cancel()
            except psycopg2.Error as exc:
                log.debug("cancel of a COPY failed: %s", exc)
        os.close(self._read_fd)
        self._read_fd = -1
        self._thread.join(timeout=30)
        return not self._thread.is_alive()


def _first_line(exc: BaseException) -> str:
    msg = getattr(exc, "pgerror", None) or str(exc)
    msg = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return msg.removeprefix("ERROR:").strip()


def cancel_backend(engine: Engine, pid: int) -> bool:
    """Cancel a query by backend pid from any process (``pg_cancel_backend``)."""
    with engine.connect() as conn:
        return bool(conn.exec_driver_sql("SELECT pg_cancel_backend(%s)", (pid,)).scalar())


__all__ = [
    "ExecutionTimeError",
    "QueryAbortedError",
    "QueryExecutionError",
    "StreamedQuery",
    "cancel_backend",
]
