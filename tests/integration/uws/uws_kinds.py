"""Job kinds for the UWS tests: real work against the test's PostgreSQL.

``test-sql`` runs the QUERY parameter as PostgreSQL SQL in a read-only transaction
(optionally after ``pg_sleep(SLEEP)``) and writes the rows as a VOTable (astropy),
so pyvo's TAP job classes can read the result. It reports its backend pid to UWS,
so ABORT and the execution-duration watchdog cancel a real query.
"""

from __future__ import annotations

import io
import os

import psycopg2
from astropy.table import Table

from vo.errors import QueryError
from vo.uws import JobContext, register_kind

KIND = "test-sql"


def _connect() -> psycopg2.extensions.connection:
    url = os.environ["VO_DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
    # a worker killed mid-query must not leave its backend running (issue 5); tests of
    # the worker's own clean-up turn the server-side check off with VO_TEST_CONN_CHECK=0
    check = os.environ.get("VO_TEST_CONN_CHECK", "1")
    return psycopg2.connect(url, options=f"-c client_connection_check_interval={check}s "
                                         "-c idle_in_transaction_session_timeout=60s")


def run_sql(ctx: JobContext) -> None:
    query = ctx.first("query")
    if not query:
        raise QueryError("the QUERY parameter is missing", code="TEST-NO-QUERY")
    sleep = float(ctx.first("sleep") or 0)
    conn = _connect()
    try:
        ctx.set_backend_pid(conn.get_backend_pid())
        conn.set_session(readonly=True)
        with conn.cursor() as cur:
            if sleep:
                cur.execute("SELECT pg_sleep(%s)", (sleep,))
            try:
                cur.execute(query)
            except psycopg2.errors.SyntaxError as exc:
                raise QueryError(f"bad SQL: {exc.pgerror.strip() if exc.pgerror else exc}",
                                 code="TEST-SQL") from None
            names = [d.name for d in cur.description]
            rows = cur.fetchall()
        conn.rollback()
    finally:
        ctx.set_backend_pid(None)
        conn.close()
    table = Table(rows=rows, names=names) if rows else Table(names=names)
    buf = io.BytesIO()
    table.write(buf, format="votable")
    with ctx.results.open("result", "application/x-votable+xml") as out:
        out.write(buf.getvalue())


def register() -> None:
    register_kind(KIND, run_sql, single_valued={"query", "sleep"})
