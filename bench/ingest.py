"""Ingest throughput and peak memory, end to end, next to a bare PostgreSQL COPY of the same CSV.

    python bench/ingest.py --rows 1000000 [--repeat 3] [--json out.json]

Makes N rows with ../shared/bench/make_catalog.py (CSV, cached in --workdir), starts a
private cluster, and in the same run, alternating, measures:

- ``ingest``: ``catalogs.ingest.ingest`` of the CSV into a published, HEALPix-indexed,
  queryable table (read, pixels, sort by pixel with spilling, binary COPY FREEZE, btree,
  ANALYZE, density map, TAP_SCHEMA swap, VACUUM of the pages COPY left unmarked), the
  way ``vo ingest`` does it; its seconds per step are printed and kept in the JSON;
- ``copy``: psycopg2 ``COPY ... FROM STDIN (FORMAT csv, HEADER)`` of the same file into
  an unindexed table with the same column types: the floor a loader cannot beat.

Each measurement runs in its own Python process, so its peak RSS (``ru_maxrss``) is its
own. Prints one table and JSON: rows/s (median, min-max over repeats), the
ingest/COPY time ratio, and peak RSS. Targets (issue 2): >= 200,000 rows/s end to end,
within 2x of bare COPY, peak RSS < 500 MB at any size. Never passes or fails on times.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MAKE_CATALOG = ROOT.parent / "shared" / "bench" / "make_catalog.py"

COLUMNS = ("source_id bigint, ra double precision, dec double precision, pmra double precision, "
           "pmdec double precision, parallax double precision, phot_g_mean_mag double precision, "
           "bp_rp double precision, ruwe double precision, "
           "epoch double precision")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_csv(rows: int, workdir: Path) -> Path:
    path = workdir / f"catalog_{rows}.csv"
    if not path.exists():
        tmp = path.with_suffix(".part")
        subprocess.run([sys.executable, str(MAKE_CATALOG), "--rows", str(rows), "--out",
                        str(tmp)], check=True)
        tmp.rename(path)
    return path


# -- the measured children ------------------------------------------------------------
def child_ingest(url: str, csv: Path, table: str) -> dict[str, Any]:
    """End-to-end ingest through catalogs.ingest (what `vo ingest FILE --table T` runs)."""
    from catalogs.ingest import IngestRequest, ingest
    from vo.db.engine import make_engine

    engine = make_engine(url, pool_size=2)
    base = peak_rss_mb()
    t0 = time.perf_counter()
    result = ingest(engine, IngestRequest([csv], table, fmt="csv", mode="replace"),
                    progress=False)
    seconds = time.perf_counter() - t0
    engine.dispose()
    return {"rows": result.rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb(),
            "rss_before_mb": base, "steps": result.steps}


def child_copy(url: str, csv: Path, table: str) -> dict[str, Any]:
    """Bare COPY FROM STDIN (FORMAT csv) into an unindexed table: the floor."""
    import psycopg2
    from sqlalchemy import make_url

    u = make_url(url)
    conn = psycopg2.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                            dbname=u.database)
    base = peak_rss_mb()
    with conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} ({COLUMNS})")
    t0 = time.perf_counter()
    with conn, conn.cursor() as cur, open(csv, "rb") as fh:
        cur.copy_expert(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)", fh,
                        size=1 << 20)
        rows = cur.rowcount
    seconds = time.perf_counter() - t0
    conn.close()
    return {"rows": rows, "seconds": seconds, "peak_rss_mb": peak_rss_mb(),
            "rss_before_mb": base}


def run_child(kind: str, url: str, csv: Path, table: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, "--url", url,
                           "--csv", str(csv), "--table", table],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} child failed: {proc.stderr.strip()[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def queryable(url: str, table: str) -> dict[str, Any]:
    """The ingested table answers through its index (a count and a small cone's pixels)."""
    import psycopg2
    from sqlalchemy import make_url

    u = make_url(url)
    with psycopg2.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                          dbname=u.database) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        n = cur.fetchone()[0]
        schema, name = table.split(".")
        cur.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                    (schema, name))
        indexes = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM tap_schema.tables WHERE table_name = %s", (table,))
        published = cur.fetchone()[0]
    return {"rows": n, "indexes": indexes, "in_tap_schema": bool(published)}


def drop(url: str, table: str) -> None:
    import psycopg2
    from sqlalchemy import make_url

    u = make_url(url)
    with psycopg2.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                          dbname=u.database) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def bench(rows: int, repeat: int, workdir: Path, fast: bool) -> dict[str, Any]:
    from sqlalchemy import create_engine

    from vo.db.bootstrap import bootstrap
    from vo.db.cluster import PrivateCluster

    csv = make_csv(rows, workdir)
    cluster = PrivateCluster(workdir / f"cluster-{os.getpid()}", fast=fast)
    url = cluster.start()
    runs: dict[str, list[dict[str, Any]]] = {"ingest": [], "copy": []}
    check: dict[str, Any] = {}
    try:
        engine = create_engine(url)
        bootstrap(engine)
        engine.dispose()
        drop(url, "public.bench_copy")
        for i in range(repeat):
            order = ("copy", "ingest") if i % 2 == 0 else ("ingest", "copy")
            for kind in order:
                table = "bench.ingest" if kind == "ingest" else "public.bench_copy"
                r = run_child(kind, url, csv, table)
                runs[kind].append(r)
                steps = " ".join(f"{k} {v:.2f}" for k, v in r.get("steps", {}).items())
                print(f"  {kind:6} {rows:>10,} rows  {r['seconds']:7.2f} s  "
                      f"{rows / r['seconds']:>10,.0f} rows/s  peak RSS {r['peak_rss_mb']:.0f} MB"
                      f"  {steps}", file=sys.stderr, flush=True)
                if kind == "ingest" and not check:
                    check = queryable(url, table)
                drop(url, "public.bench_copy") if kind == "copy" else None
    finally:
        cluster.destroy()
        shutil.rmtree(cluster.data_dir, ignore_errors=True)
    ing = [r["seconds"] for r in runs["ingest"]]
    cop = [r["seconds"] for r in runs["copy"]]
    ratios = [a / b for a, b in zip(ing, cop, strict=True)]
    return {
        "rows": rows, "repeat": repeat, "fsync": not fast,
        "csv_mb": round(csv.stat().st_size / 2**20, 1),
        "ingest_seconds": stats(ing), "copy_seconds": stats(cop),
        "ingest_rows_per_s": stats([rows / s for s in ing]),
        "copy_rows_per_s": stats([rows / s for s in cop]),
        "ratio_ingest_over_copy": stats(ratios),
        "ingest_peak_rss_mb": max(r["peak_rss_mb"] for r in runs["ingest"]),
        "ingest_steps": [r.get("steps", {}) for r in runs["ingest"]],
        "copy_peak_rss_mb": max(r["peak_rss_mb"] for r in runs["copy"]),
        "ingested_table": check,
        "targets": {"rows_per_s": 200_000, "ratio_max": 2.0, "peak_rss_mb_max": 500},
    }


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'rows':>11} | {'ingest rows/s (min-max)':>32} | {'COPY rows/s (min-max)':>32} | "
          f"{'ingest/COPY':>18} | {'peak RSS':>8}")
    for r in results:
        i, c, q = r["ingest_rows_per_s"], r["copy_rows_per_s"], r["ratio_ingest_over_copy"]
        print(f"{r['rows']:>11,} | {i['median']:>10,.0f} ({i['min']:>9,.0f}-{i['max']:>9,.0f}) | "
              f"{c['median']:>10,.0f} ({c['min']:>9,.0f}-{c['max']:>9,.0f}) | "
              f"{q['median']:5.2f}x ({q['min']:.2f}-{q['max']:.2f}) | "
              f"{r['ingest_peak_rss_mb']:5.0f} MB")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=lambda s: int(float(s)), action="append")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path,
                    default=Path(tempfile.gettempdir()) / "vo-bench-ingest")
    ap.add_argument("--fast", action="store_true", help="cluster with fsync off")
    ap.add_argument("--keep-csv", action="store_true", help="keep the generated CSV files")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", choices=["ingest", "copy"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--table", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        fn = child_ingest if args.child == "ingest" else child_copy
        print(json.dumps(fn(args.url, args.csv, args.table)))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for rows in args.rows or [1_000_000]:
        results.append(bench(rows, args.repeat, args.workdir, args.fast))
        if not args.keep_csv:
            (args.workdir / f"catalog_{rows}.csv").unlink(missing_ok=True)
    print_table(results)
    text = json.dumps({"ingest": results}, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
