"""A streamed query cannot outlive its execution duration, even if its reader stalls."""

from __future__ import annotations

import time

from sqlalchemy import text

from vo.db.query import StreamedQuery


def _backend_alive(engine, pid: int) -> bool:
    with engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                         {"p": pid}).scalar_one() > 0


def test_stalled_reader_does_not_keep_the_transaction(engine):
    q = StreamedQuery(engine, "SELECT g FROM generate_series(1, 100000) AS g", role="vo_query",
                      timeout_s=2, chunk_rows=100).open()
    try:
        it = q.chunks()
        assert len(next(it)) == 100
        pid = q.backend_pid
        assert _backend_alive(engine, pid)
        deadline = time.monotonic() + 30  # the reader stalls: no further FETCH
        while _backend_alive(engine, pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _backend_alive(engine, pid), "the stalled query's backend is still there"
    finally:
        q.close()
