"""UWS benchmark: async round-trip overhead and job throughput (issue 5).

Starts its own private PostgreSQL (or uses VO_DATABASE_URL), a gunicorn server with the
UWS blueprint and `vo.uws.worker` processes, all on loopback, and prints:

- the overhead of an async round trip: create with PHASE=RUN, blocking WAIT until
  COMPLETED, fetch the one-row result (p50, p99; target p50 <= 100 ms), next to the
  baseline of a plain HTTP GET of a job's phase in the same run;
- throughput (jobs/s) of many small jobs queued at once, with 1 and with 2 workers.

Figures only; it never passes or fails. Run: ``/work/venv/bin/python bench/uws.py``.
The bench job kind (``bench-one``) runs ``SELECT 1`` through psycopg2 and writes a
one-row VOTable, so every round trip includes a real query and a real result file.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KIND = "bench-one"
VOTABLE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<VOTABLE version="1.4" '
           b'xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE type="results">'
           b'<INFO name="QUERY_STATUS" value="OK"/><TABLE><FIELD name="one" datatype="int"/>'
           b"<DATA><TABLEDATA><TR><TD>%d</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE>"
           b"</VOTABLE>\n")


# -- what the server and worker processes load -------------------------------------
def register() -> None:
    """Kind loader for the bench workers."""
    from psycopg2.pool import ThreadedConnectionPool

    from vo.uws import JobContext, register_kind

    url = os.environ["VO_DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
    pool = ThreadedConnectionPool(1, 4, url)  # as a real kind uses its engine's pool

    def run_one(ctx: JobContext) -> None:
        conn = pool.getconn()
        try:
            ctx.set_backend_pid(conn.get_backend_pid())
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                (value,) = cur.fetchone()
            conn.rollback()
        finally:
            ctx.set_backend_pid(None)
            pool.putconn(conn)
        with ctx.results.open("result", "application/x-votable+xml") as out:
            out.write(VOTABLE % value)

    register_kind(KIND, run_one)


def web_app():  # type: ignore[no-untyped-def]
    """gunicorn entry: the UWS blueprint for the bench kind at /tap/async."""
    from flask import Flask

    from vo.config import load_settings
    from vo.db.engine import make_engine
    from vo.uws.http import make_uws_blueprint

    settings = load_settings()
    assert settings.database_url
    app = Flask("uws-bench")
    app.register_blueprint(make_uws_blueprint(
        "tap_async", "/tap/async", KIND, settings, make_engine(settings.database_url,
                                                              pool_size=12)))
    return app


# -- the benchmark --------------------------------------------------------------------
def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Bench:
    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self.data_dir = data_dir
        self.port = _port()
        self.base = f"http://127.0.0.1:{self.port}/tap/async"
        here = str(Path(__file__).resolve().parent)
        repo = str(Path(__file__).resolve().parents[1])
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("VO_")},
                    "VO_DATABASE_URL": url, "VO_DATA_DIR": str(data_dir),
                    "VO_MAX_JOBS_PER_OWNER": "1000000", "VO_MAX_RUNNING_JOBS_PER_OWNER": "1000000",
                    "VO_LOG_LEVEL": "WARNING", "PYTHONPATH": os.pathsep.join([here, repo])}
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, args: list[str]) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(args, env=self.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True,
                             cwd=Path(__file__).parent)
        self.procs.append(p)
        return p

    def worker(self) -> subprocess.Popen[bytes]:
        return self.spawn([sys.executable, "-m", "vo.uws.worker", "--kinds", "uws:register"])

    def web(self) -> None:
        import requests

        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.spawn([gunicorn, "-b", f"127.0.0.1:{self.port}", "-w", "2", "-k", "gthread",
                    "--threads", "8", "uws:web_app()"])
        for _ in range(300):
            try:
                requests.get(self.base, timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("the bench web server did not start")

    def stop(self, p: subprocess.Popen[bytes]) -> None:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def close(self) -> None:
        for p in self.procs:
            self.stop(p)


def round_trips(b: Bench, n: int) -> tuple[list[float], list[float]]:
    import requests

    s = requests.Session()
    trips: list[float] = []
    gets: list[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = s.post(b.base, data={"QUERY": "SELECT 1", "PHASE": "RUN"}, allow_redirects=False)
        job = r.headers["Location"]
        phase = "QUEUED"
        while phase in ("PENDING", "QUEUED", "EXECUTING"):
            doc = s.get(job, params={"WAIT": "30", "PHASE": phase}).text
            phase = doc.split("<uws:phase>", 1)[1].split("<", 1)[0]
        assert phase == "COMPLETED", doc
        body = s.get(job + "/results/result").content
        trips.append(time.perf_counter() - t0)
        assert b"<TD>1</TD>" in body
        t1 = time.perf_counter()
        s.get(job + "/phase")
        gets.append(time.perf_counter() - t1)
    return trips, gets


def throughput(b: Bench, n: int) -> float:
    import requests

    s = requests.Session()
    t0 = time.perf_counter()
    jobs = [s.post(b.base, data={"QUERY": "SELECT 1", "PHASE": "RUN"},
                   allow_redirects=False).headers["Location"] for _ in range(n)]
    for job in jobs:
        phase = "QUEUED"
        while phase in ("PENDING", "QUEUED", "EXECUTING"):
            phase = s.get(job, params={"WAIT": "30", "PHASE": phase}).text.split(
                "<uws:phase>", 1)[1].split("<", 1)[0]
    return n / (time.perf_counter() - t0)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trips", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=300)
    args = ap.parse_args()
    from sqlalchemy import create_engine

    from vo.db.bootstrap import bootstrap
    from vo.db.cluster import PrivateCluster

    with tempfile.TemporaryDirectory(prefix="uws-bench-") as tmp:
        cluster = None
        url = os.environ.get("VO_DATABASE_URL")
        if not url:
            cluster = PrivateCluster(Path(tmp) / "cluster")
            url = cluster.start()
        eng = create_engine(url)
        bootstrap(eng)
        eng.dispose()
        b = Bench(url, Path(tmp) / "data")
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(figures scale with it)")
        try:
            b.web()
            w1 = b.worker()
            time.sleep(2)
            round_trips(b, 10)  # warm up
            trips, gets = round_trips(b, args.trips)
            p50, p99 = pct(trips, 0.5), pct(trips, 0.99)
            g50 = statistics.median(gets)
            print(f"async round trip (create+RUN, WAIT to COMPLETED, fetch 1-row result), "
                  f"n={args.trips}: p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms")
            print(f"baseline GET of a job's phase: p50 {g50 * 1e3:.2f} ms "
                  f"(round trip = {p50 / g50:.0f}x baseline)")
            one = throughput(b, args.jobs)
            print(f"throughput, 1 worker:  {one:.1f} jobs/s ({args.jobs} jobs queued at once)")
            b.worker()
            time.sleep(2)
            two = throughput(b, args.jobs)
            print(f"throughput, 2 workers: {two:.1f} jobs/s ({two / one:.2f}x one worker; "
                  f"{os.cpu_count()} CPU cores shared with web server and PostgreSQL)")
            del w1
            print(f"load average after: {os.getloadavg()[0]:.1f}")
        finally:
            b.close()
            if cluster is not None:
                cluster.destroy()


if __name__ == "__main__":
    main()
