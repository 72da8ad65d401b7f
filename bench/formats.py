"""Throughput and peak memory of the result writers (vo.votable, vo.formats).

Each case runs in a fresh Python process so its peak RSS (``resource.ru_maxrss``) is its
own: the figure printed is the peak minus the RSS once the input pool is built. The
input imitates a psycopg2 server-side cursor: chunks of 10,000 row tuples of ten mixed
columns (bigint, two float8, real with NULLs, boolean, int, smallint, text, timestamp,
float8[2] point; one BINARY2 case uses only the seven numeric ones) cycled from a
pool, so generating rows costs nothing and holds no memory. Output bytes are counted
and dropped, like a socket.

Baselines measured in the same run: astropy's VOTable writer (BINARY2, given the whole
table as numpy columns, as it needs) and pyarrow.csv (given the same tuples, converted
column by column; without the array column, which it cannot write). astropy is slow,
so it runs on fewer rows by default (``--baseline-rows``); compare rows/s. CPU seconds
(process time) are printed too: on a shared machine they vary less than wall time.

    python bench/formats.py                 # 1M rows per writer, astropy on 100k
    python bench/formats.py --rows 200000 --baseline-rows 20000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 10_000
POOL = 5


def columns() -> list[Any]:
    from vo.meta import ColumnMeta

    return [
        ColumnMeta("source_id", "long", ucd="meta.id;meta.main"),
        ColumnMeta("ra", "double", unit="deg", ucd="pos.eq.ra;meta.main"),
        ColumnMeta("dec", "double", unit="deg", ucd="pos.eq.dec;meta.main"),
        ColumnMeta("phot_g_mean_mag", "float", unit="mag"),
        ColumnMeta("variable", "boolean"),
        ColumnMeta("n_obs", "int"),
        ColumnMeta("quality", "short"),
        ColumnMeta("designation", "char", "*"),
        ColumnMeta("obs_time", "char", "*", xtype="timestamp"),
        ColumnMeta("pos", "double", "2", xtype="point", unit="deg"),
    ]


def chunk_pool() -> list[list[tuple[Any, ...]]]:
    t0 = dt.datetime(2016, 1, 1)
    pool = []
    for p in range(POOL):
        rows = []
        for j in range(CHUNK):
            i = p * CHUNK + j
            ra, dec = (i * 0.0137) % 360.0, ((i * 0.0071) % 180.0) - 90.0
            rows.append(
                (
                    4295806720 + i * 7,
                    ra,
                    dec,
                    None if i % 11 == 0 else 5.0 + (i % 1500) / 100.0,
                    i % 3 == 0,
                    i % 500,
                    i % 7,
                    f"Gaia DR3 {4295806720 + i * 7}",
                    t0 + dt.timedelta(seconds=i * 13.7),
                    [ra, dec],
                )
            )
        pool.append(rows)
    return pool


def chunks(pool: list[list[tuple[Any, ...]]], n: int) -> Iterator[list[tuple[Any, ...]]]:
    sent = 0
    k = 0
    while sent < n:
        chunk = pool[k % len(pool)]
        if sent + len(chunk) > n:
            chunk = chunk[: n - sent]
        sent += len(chunk)
        k += 1
        yield chunk


NUMERIC = 7  # the first seven columns: bigint, float8 x2, real, boolean, int, smallint


def _ours(name: str) -> Any:
    from vo.formats import resolve

    if name.endswith(" numeric"):
        return resolve(name.split()[0]).writer(columns()[:NUMERIC])
    return resolve(name).writer(columns())


def run_case(case: str, n: int) -> dict[str, Any]:
    """Run one case in this process; returns rows, seconds, bytes and peak RSS growth."""
    import numpy as np  # noqa: F401 - imported before the RSS baseline
    import pyarrow as pa
    import pyarrow.csv as pacsv

    import vo.formats  # noqa: F401
    import vo.votable  # noqa: F401

    pool = chunk_pool()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = 0
    start, cpu0 = time.perf_counter(), time.process_time()
    if case == "astropy votable BINARY2":
        out = _astropy_votable(pool, n)
    elif case == "pyarrow.csv":
        names = [c.name for c in columns()][:-1]
        types = [pa.int64(), pa.float64(), pa.float64(), pa.float32(), pa.bool_(), pa.int32(),
                 pa.int16(), pa.string(), pa.timestamp("us")]  # fmt: skip
        sink = pa.BufferOutputStream()
        first = True
        for chunk in chunks(pool, n):
            cols = list(zip(*chunk, strict=True))[:-1]
            batch = pa.RecordBatch.from_arrays(
                [pa.array(c, t) for c, t in zip(cols, types, strict=True)], names=names
            )
            pacsv.write_csv(batch, sink, pacsv.WriteOptions(include_header=first))
            first = False
            out += sink.tell()
            sink = pa.BufferOutputStream()
    else:
        writer = _ours(case)
        if case.endswith(" numeric"):
            pool = [[r[:NUMERIC] for r in c] for c in pool]
            rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start, cpu0 = time.perf_counter(), time.process_time()
        for block in writer.stream(chunks(pool, n)):
            out += len(block)
        assert writer.rows_written == n and writer.error is None, writer.error
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "case": case,
        "rows": n,
        "seconds": seconds,
        "cpu": cpu,
        "bytes": out,
        "rss_mb": (rss1 - rss0) / 1024,
    }


def _astropy_votable(pool: list[list[tuple[Any, ...]]], n: int) -> int:
    """astropy needs the whole table in memory: build numpy columns, then write."""
    import io

    import numpy as np
    from astropy.io.votable import from_table
    from astropy.table import MaskedColumn, Table

    rows = [r for c in chunks(pool, n) for r in c]
    cols = list(zip(*rows, strict=True))
    mag = np.array([np.nan if v is None else v for v in cols[3]], dtype=np.float32)
    table = Table(
        {
            "source_id": np.array(cols[0], dtype=np.int64),
            "ra": np.array(cols[1]),
            "dec": np.array(cols[2]),
            "phot_g_mean_mag": MaskedColumn(mag, mask=np.isnan(mag)),
            "variable": np.array(cols[4]),
            "n_obs": np.array(cols[5], dtype=np.int32),
            "quality": np.array(cols[6], dtype=np.int16),
            "designation": np.array(cols[7]),
            "obs_time": np.array([t.isoformat(timespec="milliseconds") for t in cols[8]]),
            "pos": np.array(cols[9]),
        }
    )
    del rows, cols
    votable = from_table(table)
    sink = io.BytesIO()
    votable.to_xml(sink, tabledata_format="binary2")
    return len(sink.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=100_000, help="rows for astropy")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.rows)))
        return
    plan = [
        ("votable", args.rows),
        ("votable", args.rows // 10),  # memory must not grow with the row count
        ("votable numeric", args.rows),  # scalar numeric columns only
        ("votable/b", args.rows),
        ("votable/td", args.rows),
        ("astropy votable BINARY2", args.baseline_rows),
        ("csv", args.rows),
        ("pyarrow.csv", args.rows),
        ("tsv", args.rows),
        ("fits", args.rows),
        ("parquet", args.rows),
        ("json", args.rows),
    ]
    print(
        f"{'writer':<26}{'rows':>10}{'seconds':>9}{'rows/s':>11}{'CPU s':>8}{'rows/CPU s':>12}"
        f"{'MB out':>8}{'peak RSS +MB':>14}"
    )
    results = {}
    for case, n in plan:
        proc = subprocess.run(
            [sys.executable, __file__, "--case", case, "--rows", str(n)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            print(f"{case:<26} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results[(case, n)] = r
        label = {"votable": "votable (BINARY2)", "votable/b": "votable/b (BINARY)",
                 "votable/td": "votable/td (TABLEDATA)",
                 "votable numeric": "BINARY2, 7 numeric cols"}.get(case, case)  # fmt: skip
        print(
            f"{label:<26}{n:>10,}{r['seconds']:>9.2f}{n / r['seconds']:>11,.0f}"
            f"{r['cpu']:>8.2f}{n / r['cpu']:>12,.0f}{r['bytes'] / 1e6:>8.1f}{r['rss_mb']:>14.1f}"
        )
    ours = results.get(("votable", args.rows))
    base = results.get(("astropy votable BINARY2", args.baseline_rows))
    if ours and base:
        ratio = (args.rows / ours["cpu"]) / (args.baseline_rows / base["cpu"])
        print(f"\nBINARY2 vs astropy: {ratio:.1f}x the rows per CPU second")
    csv_ours, csv_base = results.get(("csv", args.rows)), results.get(("pyarrow.csv", args.rows))
    if csv_ours and csv_base:
        speed = csv_base["cpu"] / csv_ours["cpu"]
        print(f"CSV vs pyarrow.csv: {speed:.2f}x the rows per CPU second")


if __name__ == "__main__":
    main()
