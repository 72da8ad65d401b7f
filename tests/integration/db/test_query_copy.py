"""The column-wise (binary COPY) read of a result gives exactly what the row-wise read gives."""

from __future__ import annotations

import math
import threading
import time

import pyarrow as pa
import pytest
from sqlalchemy import text

from vo.db.pgcopy import wire_types
from vo.db.query import ExecutionTimeError, QueryAbortedError, QueryExecutionError, StreamedQuery
from vo.meta import ColumnMeta
from vo.votable.columns import column_type, conform_batch, record_batch

# (SQL expression over g = 1..n, declared VOTable column); NULLs, NaN and infinities at
# scattered rows, and every wire type.
COLUMNS = [
    ("g::int8", ColumnMeta("id", "long")),
    ("CASE WHEN g % 7 = 0 THEN NULL ELSE g::int2 END", ColumnMeta("s", "short")),
    ("CASE WHEN g % 5 = 0 THEN NULL ELSE (g * 1000)::int4 END", ColumnMeta("i", "int")),
    ("CASE WHEN g % 11 = 0 THEN NULL ELSE (g % 200)::int2 END", ColumnMeta("u", "unsignedByte")),
    ("CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END", ColumnMeta("b", "boolean")),
    ("CASE g % 13 WHEN 0 THEN NULL WHEN 1 THEN 'NaN'::float8 WHEN 2 THEN 'Infinity'::float8 "
     "WHEN 3 THEN '-Infinity'::float8 ELSE g / 7.0::float8 END", ColumnMeta("d", "double")),
    ("CASE WHEN g % 17 = 0 THEN NULL ELSE (g / 3.0)::float4 END", ColumnMeta("f", "float")),
    # numeric (as SUM(bigint) gives) declared long, double declared from numeric (AVG)
    ("(g * 10)::numeric", ColumnMeta("n", "long")),
    ("g / 4.0::numeric", ColumnMeta("a", "double")),
    ("CASE WHEN g % 19 = 0 THEN NULL ELSE timestamp '2016-01-01' + g * interval '1.5 s' END",
     ColumnMeta("t", "char", arraysize="*", xtype="timestamp")),
    ("timestamptz '2016-01-01 12:00:00+02' + g * interval '1 day'",
     ColumnMeta("tz", "char", arraysize="*", xtype="timestamp")),
    # strings: NULL, empty, multi-byte and non-BMP characters, long values, char(n)
    ("CASE g % 6 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'Ωmega ' || g "
     "WHEN 3 THEN repeat('x', g % 3000) WHEN 4 THEN '😀' ELSE 'star ' || g END",
     ColumnMeta("name", "unicodeChar", arraysize="*")),
    ("CAST(g AS char(6))", ColumnMeta("code", "char", arraysize="6")),
    ("CASE WHEN g % 4 = 0 THEN NULL ELSE 'k' || g END", ColumnMeta("k", "char", arraysize="*")),
]


def _sql(columns, n: int) -> str:
    select = ", ".join(f"{e} AS c{i}" for i, (e, _) in enumerate(columns))
    return f"SELECT {select} FROM generate_series(1, {n}) AS g ORDER BY g"


def _read(engine, sql, metas, *, columnar: bool, chunk_rows: int = 1000) -> pa.Table:
    types = [column_type(m) for m in metas]
    wires = wire_types(metas) if columnar else None
    if columnar:
        assert wires is not None
    with StreamedQuery(engine, sql, chunk_rows=chunk_rows, wires=wires) as q:
        batches = [
            conform_batch(types, c) if isinstance(c, pa.RecordBatch) else record_batch(types, c)
            for c in q.chunks()
        ]
    return pa.Table.from_batches(batches)


def _same(a: pa.Table, b: pa.Table) -> None:
    assert a.num_rows == b.num_rows
    for name, x, y in zip(a.column_names, a.columns, b.columns, strict=True):
        xs, ys = x.to_pylist(), y.to_pylist()
        for row, (u, v) in enumerate(zip(xs, ys, strict=True)):
            if name == "code":  # char(n) -> text drops the padding (PostgreSQL casts)
                v = v.rstrip()
            same = u == v or (isinstance(u, float) and math.isnan(u) and math.isnan(v))
            assert same, f"column {name} row {row}: {u!r} != {v!r}"


def test_wire_types_only_for_scalars():
    assert wire_types([ColumnMeta("a", "double"), ColumnMeta("b", "long")]) is not None
    assert wire_types([ColumnMeta("a", "double"), ColumnMeta("s", "char", arraysize="*")])
    assert wire_types([ColumnMeta("p", "double", arraysize="2", xtype="point")]) is None
    assert wire_types([ColumnMeta("x", "unsignedByte", arraysize="*")]) is None


def test_columnar_read_equals_row_read(engine):
    metas = [m for _, m in COLUMNS]
    sql = _sql(COLUMNS, 5003)  # not a multiple of the chunk size
    columnar = _read(engine, sql, metas, columnar=True, chunk_rows=700)
    rows = _read(engine, sql, metas, columnar=False)
    assert columnar.num_rows == 5003
    _same(columnar, rows)
    assert columnar.column("s").null_count == 5003 // 7
    assert columnar.column("t").to_pylist()[:2] == [
        "2016-01-01T00:00:01.500", "2016-01-01T00:00:03.000"]
    assert columnar.column("tz").to_pylist()[0] == "2016-01-02T10:00:00.000"  # UTC


def test_more_than_63_columns_use_several_null_words(engine):
    cols = [(f"CASE WHEN g % {k + 2} = 0 THEN NULL ELSE g * {k} END", ColumnMeta(f"x{k}", "int"))
            for k in range(130)]
    metas = [m for _, m in cols]
    sql = _sql(cols, 300)
    _same(_read(engine, sql, metas, columnar=True), _read(engine, sql, metas, columnar=False))


def test_strings_only(engine):
    cols = [("CASE WHEN g % 3 = 0 THEN NULL ELSE 'v' || g END", ColumnMeta("a", "char",
                                                                           arraysize="*")),
            ("repeat('é', g % 5)", ColumnMeta("b", "unicodeChar", arraysize="*"))]
    metas = [m for _, m in cols]
    sql = _sql(cols, 2001)
    got = _read(engine, sql, metas, columnar=True, chunk_rows=64)
    _same(got, _read(engine, sql, metas, columnar=False))
    assert got.column("a").to_pylist()[:3] == ["v1", "v2", None]


def test_endless_timestamps_are_null(engine):
    metas = [ColumnMeta("t", "char", arraysize="*", xtype="timestamp")]
    sql = ("SELECT t FROM (VALUES ('infinity'::timestamp), ('-infinity'), ('2020-02-29 12:00'))"
           " AS v(t)")
    got = _read(engine, sql, metas, columnar=True)
    assert got.column(0).to_pylist() == [None, None, "2020-02-29T12:00:00.000"]


def test_empty_result(engine):
    metas = [ColumnMeta("x", "double")]
    with StreamedQuery(engine, "SELECT 1.0::float8 WHERE false", wires=wire_types(metas)) as q:
        assert list(q.chunks()) == []


def test_early_close_cancels_and_returns_a_clean_connection(engine):
    metas = [ColumnMeta("g", "long")]
    q = StreamedQuery(engine, "SELECT g FROM generate_series(1, 50000000) AS g",
                      chunk_rows=1000, wires=wire_types(metas)).open()
    pid = q.backend_pid
    first = next(q.chunks())
    assert first.num_rows > 0
    t0 = time.monotonic()
    q.close()
    assert time.monotonic() - t0 < 10
    assert not any(t.name == "vo-query-copy" for t in threading.enumerate())
    with engine.connect() as c:
        running = c.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = :p AND pid <> pg_backend_pid() "
            "AND state <> 'idle'"), {"p": pid}).scalar()
    assert running == 0
    # the pool's next query works
    assert _read(engine, "SELECT 2::int8", metas, columnar=True).column(0).to_pylist() == [2]


def test_execution_duration_ends_a_copy(engine):
    metas = [ColumnMeta("g", "long")]
    sql = "SELECT g FROM generate_series(1, 2000) AS g WHERE pg_sleep(0.01) IS NOT NULL"
    with pytest.raises(ExecutionTimeError):
        with StreamedQuery(engine, sql, timeout_s=1,
                           wires=wire_types(metas)) as q:
            for _ in q.chunks():
                pass


def test_abort_ends_a_copy(engine):
    metas = [ColumnMeta("g", "long")]
    sql = "SELECT g FROM generate_series(1, 2000) AS g WHERE pg_sleep(0.01) IS NOT NULL"
    q = StreamedQuery(engine, sql, timeout_s=60, wires=wire_types(metas)).open()
    threading.Timer(0.5, q.cancel).start()
    with pytest.raises(QueryAbortedError):
        for _ in q.chunks():
            pass
    q.close()


def test_error_after_some_rows_is_raised_as_a_query_error(engine):
    metas = [ColumnMeta("x", "double")]
    sql = "SELECT 1.0::float8 / (50000 - g) FROM generate_series(1, 100000) AS g"
    got = 0
    with pytest.raises(QueryExecutionError, match="division by zero"):
        with StreamedQuery(engine, sql, chunk_rows=1000, wires=wire_types(metas)) as q:
            for chunk in q.chunks():
                got += chunk.num_rows
    assert got < 50000
