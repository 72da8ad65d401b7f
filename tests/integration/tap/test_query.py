"""vo.db.query: streamed execution under the query role, watchdog, cancel, early stop."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from vo.db.query import ExecutionTimeError, QueryAbortedError, QueryExecutionError, StreamedQuery


@pytest.fixture
def numbers(engine):
    with engine.begin() as c:
        c.execute(text("CREATE SCHEMA demo"))
        c.execute(text("CREATE TABLE demo.n AS SELECT g AS i FROM generate_series(1, 25000) g"))
        c.execute(text("CREATE TABLE demo.secret (x int)"))
        c.execute(text("GRANT USAGE ON SCHEMA demo TO vo_query"))
        c.execute(text("GRANT SELECT ON demo.n TO vo_query"))
    return engine


def test_streams_in_chunks_under_query_role(numbers):
    with StreamedQuery(
        numbers, "SELECT i, current_user FROM demo.n ORDER BY i", chunk_rows=10_000
    ) as q:
        sizes = [len(c) for c in q.chunks()]
        assert q.backend_pid and q.backend_pid > 0
        assert [d.name for d in q.description] == ["i", "current_user"]
    assert sizes == [10_000, 10_000, 5_000]


def test_role_cannot_read_unpublished_table(numbers):
    with pytest.raises(QueryExecutionError) as ei:
        with StreamedQuery(numbers, "SELECT * FROM demo.secret") as q:
            list(q.chunks())
    assert ei.value.code == "QUERY-PRIVILEGE"


def test_runtime_error_is_a_client_error(numbers):
    with pytest.raises(QueryExecutionError) as ei:
        with StreamedQuery(numbers, "SELECT 1/(i-i) FROM demo.n") as q:
            list(q.chunks())
    assert "division by zero" in ei.value.message
    assert ei.value.http_status == 400


def test_watchdog_bounds_a_slow_stream(numbers):
    # every FETCH is fast, but the consumer is slow: only the watchdog stops it
    t0 = time.monotonic()
    with pytest.raises(ExecutionTimeError):
        with StreamedQuery(numbers, "SELECT i FROM demo.n", timeout_s=0.5, chunk_rows=100) as q:
            for _ in q.chunks():
                time.sleep(0.05)
    assert time.monotonic() - t0 < 5


def test_statement_timeout(numbers):
    with pytest.raises(ExecutionTimeError):
        with StreamedQuery(numbers, "SELECT pg_sleep(5)", timeout_s=0.3) as q:
            list(q.chunks())


def test_cancel_from_another_thread(numbers):
    q = StreamedQuery(numbers, "SELECT pg_sleep(10) FROM demo.n", timeout_s=30)
    threading.Timer(0.3, q.cancel).start()
    t0 = time.monotonic()
    with pytest.raises(QueryAbortedError):
        with q:
            list(q.chunks())
    assert time.monotonic() - t0 < 5


def test_early_stop_returns_connection(numbers):
    pool = numbers.pool
    for _ in range(30):  # more than pool_size + overflow: leaks would block
        with StreamedQuery(numbers, "SELECT i FROM demo.n", chunk_rows=10) as q:
            next(iter(q.chunks()))
    assert pool.checkedout() == 0
    with numbers.connect() as c:
        busy = c.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                " current_database() AND state = 'idle in transaction'"
            )
        ).scalar()
    assert busy == 0


def test_prepare_runs_in_the_same_transaction(numbers):
    def prepare(conn):
        with conn.cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE up (v int) ON COMMIT DROP")
            cur.execute("INSERT INTO up VALUES (1), (2)")
            cur.execute("GRANT SELECT ON up TO vo_query")

    with StreamedQuery(numbers, "SELECT sum(v) FROM up", prepare=prepare) as q:
        assert [r for c in q.chunks() for r in c] == [(3,)]
    # dropped with the transaction
    with StreamedQuery(numbers, "SELECT to_regclass('pg_temp.up') IS NULL") as q:
        assert [r for c in q.chunks() for r in c] == [(True,)]
