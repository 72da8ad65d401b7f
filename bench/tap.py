"""TAP benchmark over HTTP on loopback (issue 4): latency, throughput, memory.

Prints, against a synthetic catalogue (make_catalog.py) and the demo tables:

- cone searches returning <= 100 rows: p50/p99 end to end, next to two same-run
  baselines: a plain GET of /health and the translated SQL run directly on psycopg2;
- TOP 100000 rows as BINARY2 VOTable, CSV and Parquet (rows/s), next to fetching the
  same rows directly with psycopg2;
- a 1,000-row TAP_UPLOAD crossmatched within 1 arcsec (end to end);
- throughput with 32 concurrent clients running cones (errors counted);
- with --stream-rows: the server's peak RSS while one response streams that many rows.

Figures only; it never passes or fails. Two ways to run:

    python bench/tap.py --rows 1000000            # own private cluster + gunicorn
    python bench/tap.py --url http://127.0.0.1:8765/tap --table synth.cat10m \\
        --database-url postgresql://... --server-pid 1234 --stream-rows 10000000

The last line of output is one JSON object with every figure (bench/run.py keeps it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import requests

HERE = Path(__file__).resolve().parent
MAKE_CATALOG = Path("/work/shared/bench/make_catalog.py")


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values), p)) if values else float("nan")


def ms(v: float) -> str:
    return f"{v * 1000:.1f} ms"


class Tap:
    """A keep-alive HTTP client of one TAP service."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = requests.Session()

    def sync(
        self,
        query: str,
        fmt: str | None = None,
        maxrec: int | None = None,
        files: dict[str, bytes] | None = None,
        upload: str | None = None,
    ) -> bytes:
        data: dict[str, str] = {"LANG": "ADQL", "QUERY": query}
        if fmt:
            data["RESPONSEFORMAT"] = fmt
        if maxrec is not None:
            data["MAXREC"] = str(maxrec)
        if upload:
            data["UPLOAD"] = upload
        r = self.http.post(
            f"{self.url}/sync",
            data=data,
            files={k: ("t.vot", v) for k, v in (files or {}).items()} or None,
            timeout=600,
        )
        if r.status_code != 200 or b'value="ERROR"' in r.content[-2000:]:
            raise RuntimeError(f"query failed ({r.status_code}): {r.content[-600:]!r}")
        return r.content


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def cone_query(table: str, ra: float, dec: float, r: float) -> str:
    return (
        f"SELECT source_id, ra, dec, phot_g_mean_mag FROM {table} WHERE "
        f"1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra:.6f}, {dec:.6f}, {r}))"
    )


def direct_sql(db_url: str | None, sql: str, n: int) -> list[float]:
    """The same SQL on a direct psycopg2 connection (server-side cursor), as the baseline."""
    if not db_url:
        return []
    import psycopg2

    conn = psycopg2.connect(db_url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        out = []
        for i in range(n):
            t0 = time.perf_counter()
            with conn.cursor(name=f"b{i}") as cur:
                cur.itersize = 10000
                cur.execute(sql)
                while cur.fetchmany(10000):
                    pass
            conn.rollback()
            out.append(time.perf_counter() - t0)
        return out
    finally:
        conn.close()


def translated(db_url: str | None, query: str) -> str | None:
    if not db_url:
        return None
    from sqlalchemy import create_engine

    from vo.adql import translate
    from vo.db.lookup import SchemaCache

    eng = create_engine(db_url)
    try:
        return str(translate(query, SchemaCache(eng).lookup()).sql)
    finally:
        eng.dispose()


def bench_cones(
    tap: Tap, table: str, radius: float, n: int, db_url: str | None, rng: np.random.Generator
) -> dict[str, Any]:
    centres = [
        (float(rng.uniform(0, 360)), float(np.degrees(np.arcsin(rng.uniform(-1, 1)))))
        for _ in range(n)
    ]
    rows: list[int] = []
    times: list[float] = []
    for ra, dec in centres:
        t0 = time.perf_counter()
        body = tap.sync(cone_query(table, ra, dec, radius), fmt="csv")
        times.append(time.perf_counter() - t0)
        rows.append(body.count(b"\n") - 1)
    health = timed(lambda: tap.http.get(tap.url.rsplit("/tap", 1)[0] + "/health", timeout=30), n)
    sql = translated(db_url, cone_query(table, *centres[0], radius))
    direct = direct_sql(db_url, sql, n) if sql else []
    return {
        "cone_p50_ms": pct(times, 50) * 1000,
        "cone_p99_ms": pct(times, 99) * 1000,
        "cone_rows_max": max(rows),
        "cone_rows_mean": float(np.mean(rows)),
        "health_p50_ms": pct(health, 50) * 1000,
        "cone_direct_sql_p50_ms": pct(direct, 50) * 1000 if direct else None,
    }


SYNTH_COLUMNS = "source_id, ra, dec, pmra, pmdec, parallax, phot_g_mean_mag"


def bench_top(
    tap: Tap, table: str, n: int, repeat: int, db_url: str | None, columns: str = SYNTH_COLUMNS
) -> dict[str, Any]:
    q = f"SELECT TOP {n} {columns} FROM {table}"
    out: dict[str, Any] = {}
    for fmt in ("votable", "csv", "parquet"):
        tap.sync(q, fmt=fmt, maxrec=n)  # warm
        t = statistics.median(timed(lambda f=fmt: tap.sync(q, fmt=f, maxrec=n), repeat))
        out[f"top{n}_{fmt}_ms"] = t * 1000
        out[f"top{n}_{fmt}_rows_per_s"] = n / t
    sql = translated(db_url, q)
    if sql:
        out[f"top{n}_direct_sql_ms"] = statistics.median(direct_sql(db_url, sql, repeat)) * 1000
    return out


def crossmatch_plan(db_url: str | None, query: str, vot: bytes) -> str:
    """'fast' if the translated crossmatch takes the neighbour-range plan (a LATERAL of
    ranges joined on hpx, DESIGN.md HEALPix step 5), 'slow' if not, '?' if unknown."""
    if not db_url:
        return "?"
    from sqlalchemy import create_engine

    from vo.adql import translate
    from vo.config import load_settings
    from vo.db.lookup import SchemaCache
    from vo.db.uploads import parse_votable

    eng = create_engine(db_url)
    try:
        up = parse_votable("mine", vot, load_settings(env={}))
        sql = str(translate(query, SchemaCache(eng).lookup().with_tables([up.table])).sql)
    finally:
        eng.dispose()
    return "fast" if "LATERAL" in sql and '."hpx" BETWEEN' in sql else "slow"


def bench_crossmatch(
    tap: Tap,
    table: str,
    n: int,
    repeat: int,
    rng: np.random.Generator,
    db_url: str | None = None,
) -> dict[str, Any]:
    from astropy.table import Table

    body = tap.sync(f"SELECT TOP {n * 20} ra, dec FROM {table}", fmt="csv", maxrec=n * 20)
    lines = body.decode().splitlines()[1:]
    pick = rng.choice(len(lines), size=n, replace=False)
    pos = np.array([[float(x) for x in lines[i].split(",")] for i in pick])
    off = rng.normal(0, 0.3 / 3600, pos.shape)  # 0.3 arcsec scatter
    t = Table(
        {
            "id": np.arange(n, dtype=np.int32),
            "ra": pos[:, 0] + off[:, 0],
            "dec": pos[:, 1] + off[:, 1],
        }
    )
    buf = io.BytesIO()
    t.write(buf, format="votable", tabledata_format="binary2")
    vot = buf.getvalue()
    q = (
        f"SELECT u.id, c.source_id FROM TAP_UPLOAD.mine AS u JOIN {table} AS c ON "
        "1 = CONTAINS(POINT('ICRS', c.ra, c.dec), CIRCLE('ICRS', u.ra, u.dec, 1.0/3600))"
    )
    plan = crossmatch_plan(db_url, q, vot)
    if plan == "slow":
        # The translator gives this join no HEALPix predicate: on a large table each
        # upload row would scan it, holding a backend for the whole execution duration.
        return {
            "xmatch_error": "skipped: the translation does not take the neighbour-range "
            "plan (vo.adql.crossmatch); is the upload missing its neighbour ranges?"
        }
    matches = 0
    times: list[float] = []
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            res = tap.sync(q, fmt="csv", files={"f": vot}, upload="mine,param:f", maxrec=100000)
            times.append(time.perf_counter() - t0)
            matches = res.count(b"\n") - 1
    except Exception as exc:  # noqa: BLE001 - reported as a figure
        return {"xmatch_error": str(exc)[:300]}
    return {
        "xmatch_rows": n,
        "xmatch_matches": matches,
        "xmatch_p50_ms": statistics.median(times) * 1000,
    }


def bench_concurrent(
    url: str, table: str, clients: int, seconds: float, radius: float
) -> dict[str, Any]:
    done = [0] * clients
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        tap = Tap(url)
        rng = np.random.default_rng(100 + i)
        while time.monotonic() < stop:
            ra, dec = float(rng.uniform(0, 360)), float(np.degrees(np.arcsin(rng.uniform(-1, 1))))
            try:
                tap.sync(cone_query(table, ra, dec, radius), fmt="csv")
                done[i] += 1
            except Exception:  # noqa: BLE001 - counted
                errors[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    return {
        "concurrent_clients": clients,
        "concurrent_req_per_s": sum(done) / wall,
        "concurrent_errors": sum(errors),
        "concurrent_requests": sum(done),
    }


def rss_of_tree(pid: int) -> int:
    """Resident set size (bytes) of a process and its children (gunicorn master + workers)."""
    total = 0
    pids = [pid]
    try:
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        pids += [int(p) for p in kids.split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def bench_stream(tap: Tap, table: str, rows: int, server_pid: int | None) -> dict[str, Any]:
    q = f"SELECT source_id, ra, dec, pmra, pmdec, parallax, phot_g_mean_mag FROM {table}"
    peak = [0]
    base = rss_of_tree(server_pid) if server_pid else 0
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set() and server_pid:
            peak[0] = max(peak[0], rss_of_tree(server_pid))
            time.sleep(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    n = 0
    tail = b""
    with tap.http.post(
        f"{tap.url}/sync",
        data={"LANG": "ADQL", "QUERY": q, "MAXREC": str(rows)},
        stream=True,
        timeout=3600,
    ) as r:
        for block in r.iter_content(1 << 20):
            n += len(block)
            tail = (tail + block)[-4096:]
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    status = (
        "ERROR"
        if b'value="ERROR"' in tail
        else ("OVERFLOW" if b'value="OVERFLOW"' in tail else "OK")
    )
    return {
        "stream_status": status,
        "stream_rows": rows,
        "stream_seconds": wall,
        "stream_rows_per_s": rows / wall,
        "stream_bytes": n,
        "server_rss_before_mb": base / 2**20,
        "server_rss_peak_mb": peak[0] / 2**20 if server_pid else None,
    }


# -- self-contained mode: own cluster, ingest, gunicorn --------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_own(
    rows: int, workdir: Path, threads: int
) -> tuple[str, str, str, subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "VO_DATA_DIR": str(workdir / "data"),
        "VO_UPLOAD_ALLOW_PRIVATE_URLS": "true",
    }
    vo = [sys.executable, "-m", "vo.cli.main"]
    db_url = (
        subprocess.run([*vo, "db", "url"], env=env, capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    env["VO_DATABASE_URL"] = db_url
    npz = workdir / "cat.npz"
    subprocess.run(
        [
            sys.executable,
            str(MAKE_CATALOG),
            "--rows",
            str(rows),
            "--format",
            "npz",
            "--out",
            str(npz),
        ],
        check=True,
    )
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = np.load(npz)
    pq.write_table(pa.table({k: data[k] for k in data.files}), workdir / "cat.parquet")
    subprocess.run(
        [
            *vo,
            "ingest",
            "--table",
            "synth.cat",
            "--epoch",
            "J2016.0",
            "--quiet",
            "--primary-key",
            "source_id",
            str(workdir / "cat.parquet"),
        ],
        env=env,
        check=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "vo.web.wsgi:app_from_env()",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            "1",
            "--threads",
            str(threads),
            "--timeout",
            "0",
            "--log-level",
            "warning",
        ],
        env={
            **env,
            "VO_PORT": str(port),
            "VO_THREADS": str(threads),
            "VO_EXECUTION_DURATION_SYNC": "900",
        },  # a 10M-row stream takes over 60 s
        cwd=HERE.parent,
    )
    url = f"http://127.0.0.1:{port}/tap"
    for _ in range(300):
        try:
            if requests.get(f"{url}/availability", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    return url, "synth.cat", db_url, server


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="an existing TAP service (default: start one)")
    p.add_argument("--table", default="synth.cat")
    p.add_argument(
        "--columns",
        default=SYNTH_COLUMNS,
        help="columns of the TOP N queries ('*' for the demo tables)",
    )
    p.add_argument("--database-url", help="for the direct-SQL baselines (own mode: automatic)")
    p.add_argument("--server-pid", type=int, help="gunicorn master pid, for peak RSS")
    p.add_argument("--rows", type=float, default=1e6, help="synthetic rows in own mode")
    p.add_argument("--stream-rows", type=int, default=0, help="rows of the RSS stream test")
    p.add_argument("--cones", type=int, default=200)
    p.add_argument("--radius", type=float, default=0.0)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    a = p.parse_args(argv)
    if a.smoke:
        a.rows, a.cones, a.repeat, a.clients, a.seconds = 20000, 20, 1, 4, 2.0
    server = None
    tmp = None
    url, table, db_url = a.url, a.table, a.database_url
    nrows = int(a.rows)
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="vo-bench-tap-")
        url, table, db_url, server = setup_own(nrows, Path(tmp.name), a.threads)
        a.server_pid = server.pid
    tap = Tap(url)
    if not a.radius:
        total = int(tap.sync(f"SELECT COUNT(*) AS n FROM {table}", fmt="csv").split()[1])
        # ~20 rows on average over the sky; dense clusters stay under 100 rows
        a.radius = float(np.degrees(np.sqrt(20 / total * 4)) / 2)
    else:
        total = nrows
    rng = np.random.default_rng(1)
    figures: dict[str, Any] = {"table": table, "table_rows": total, "cone_radius_deg": a.radius}
    try:
        figures |= bench_cones(tap, table, a.radius, a.cones, db_url, rng)
        print(
            f"cone (r={a.radius:.3f} deg, <= {figures['cone_rows_max']} rows): "
            f"p50 {figures['cone_p50_ms']:.1f} ms, p99 {figures['cone_p99_ms']:.1f} ms "
            f"[baseline GET /health p50 {figures['health_p50_ms']:.1f} ms; direct SQL p50 "
            f"{figures['cone_direct_sql_p50_ms'] or float('nan'):.1f} ms]",
            flush=True,
        )
        top = min(100_000, total)
        figures |= bench_top(tap, table, top, a.repeat, db_url, a.columns)
        for fmt in ("votable", "csv", "parquet"):
            print(
                f"TOP {top} as {fmt}: {figures[f'top{top}_{fmt}_ms']:.0f} ms "
                f"({figures[f'top{top}_{fmt}_rows_per_s']:,.0f} rows/s)",
                flush=True,
            )
        if f"top{top}_direct_sql_ms" in figures:
            print(
                f"  baseline: the same rows fetched directly with psycopg2: "
                f"{figures[f'top{top}_direct_sql_ms']:.0f} ms",
                flush=True,
            )
        figures |= bench_crossmatch(tap, table, 1000 if not a.smoke else 50, a.repeat, rng, db_url)
        if "xmatch_error" in figures:
            print(f"upload crossmatch: NOT MEASURED {figures['xmatch_error']}", flush=True)
        else:
            print(
                f"upload crossmatch {figures['xmatch_rows']} rows within 1 arcsec: "
                f"{figures['xmatch_p50_ms']:.0f} ms ({figures['xmatch_matches']} matches)",
                flush=True,
            )
        figures |= bench_concurrent(url, table, a.clients, a.seconds, a.radius)
        print(
            f"{a.clients} concurrent clients: {figures['concurrent_req_per_s']:.0f} cones/s, "
            f"{figures['concurrent_errors']} errors",
            flush=True,
        )
        if a.stream_rows:
            figures |= bench_stream(tap, table, a.stream_rows, a.server_pid)
            print(
                f"stream {a.stream_rows:,} rows: {figures['stream_seconds']:.1f} s "
                f"({figures['stream_rows_per_s']:,.0f} rows/s), server peak RSS "
                f"{figures['server_rss_peak_mb'] or float('nan'):.0f} MB (before "
                f"{figures['server_rss_before_mb']:.0f} MB), final QUERY_STATUS "
                f"{figures['stream_status']}",
                flush=True,
            )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        if tmp is not None:
            subprocess.run(
                [sys.executable, "-m", "vo.cli.main", "db", "stop"],
                env={**os.environ, "VO_DATA_DIR": str(Path(tmp.name) / "data")},
                capture_output=True,
            )
            tmp.cleanup()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
