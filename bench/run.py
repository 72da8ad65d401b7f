"""One entry point for every benchmark: one table of figures, each next to its same-run baseline.

    python bench/run.py --size 1e6 --size 1e7      # the full run (issue 6)
    python bench/run.py --smoke                    # tiny sizes, for CI: proves nothing rots

Runs, each as its own process (their own clusters, their own peak RSS): bench/ingest.py
(ingest vs bare COPY), bench/cone.py (HEALPix cones and crossmatch vs seqscan, q3c,
pgSphere), bench/formats.py (writers vs pyarrow.csv and astropy), bench/adql.py
(translation latency, cold vs warm), bench/uws.py (async round trip vs a plain GET,
jobs/s), and bench/tap.py when it exists. Prints one table plus JSON: medians, noise
(min-max) where a benchmark repeats, and ratios to the baseline. It never passes or
fails on an absolute time; it exits non-zero only when a benchmark could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
Row = dict[str, Any]


def run(name: str, args: list[str], out_dir: Path, timeout: float,
        env: dict[str, str] | None = None) -> tuple[str, float]:
    """Run one benchmark script; its stdout and stderr are kept in ``out_dir``."""
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), *args],
                          capture_output=True, text=True, timeout=timeout, check=False,
                          cwd=BENCH.parent, env={**os.environ, **(env or {})})
    seconds = time.monotonic() - t0
    tag = "_".join([name, *[a.lstrip("-") for a in args if not a.startswith("/")]])[:80]
    (out_dir / f"{tag}.out").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"bench/{name}.py {' '.join(args)} exited {proc.returncode}: "
                           + " | ".join(tail))
    return proc.stdout, seconds


def row(bench: str, size: int | None, figure: str, value: float, unit: str,
        noise: tuple[float, float] | None = None, baseline: str = "",
        base_value: float | None = None, ratio: float | None = None) -> Row:
    if ratio is None and base_value:
        ratio = value / base_value
    return {"bench": bench, "size": size, "figure": figure, "value": value, "unit": unit,
            "min": noise[0] if noise else None, "max": noise[1] if noise else None,
            "baseline": baseline, "baseline_value": base_value, "ratio": ratio}


# -- one adapter per benchmark: run it, turn its output into rows ----------------------
def ingest_rows(size: int, repeat: int, out_dir: Path) -> list[Row]:
    js = out_dir / f"ingest_{size}.json"
    run("ingest", ["--rows", str(size), "--repeat", str(repeat), "--json", str(js)],
        out_dir, 7200)
    r = json.loads(js.read_text())["ingest"][0]
    i, c, q = r["ingest_rows_per_s"], r["copy_rows_per_s"], r["ratio_ingest_over_copy"]
    return [
        row("ingest", size, "ingest rows/s (end to end)", i["median"], "rows/s",
            (i["min"], i["max"]), "bare COPY csv", c["median"]),
        row("ingest", size, "ingest time / COPY time", q["median"], "x", (q["min"], q["max"]),
            "target <= 2", None),
        row("ingest", size, "ingest peak RSS", r["ingest_peak_rss_mb"], "MB", None,
            "target < 500 MB", None),
    ]


def extension_bindir() -> str | None:
    """A Debian PostgreSQL with q3c and pgSphere installed (postgresql-NN-q3c, -pgsphere)."""
    for ext_dir in sorted(Path("/usr/share/postgresql").glob("*/extension"), reverse=True):
        bindir = Path("/usr/lib/postgresql") / ext_dir.parent.name / "bin"
        if ((ext_dir / "q3c.control").exists() and (ext_dir / "pg_sphere.control").exists()
                and (bindir / "initdb").exists()):
            return str(bindir)
    return None


def cone_rows(size: int, smoke: bool, out_dir: Path, bindir: str | None) -> list[Row]:
    """Cones and crossmatch; on the PostgreSQL that has q3c/pgSphere, so ratios compare like
    with like (issue 6: the suite's tables on that same server through PG_BINDIR)."""
    js = out_dir / f"cone_{size}.json"
    args = ["--rows", str(size), "--json", str(js)]
    if smoke:
        args += ["--centres", "4", "--seq-centres", "1", "--xmatch", "1000"]
    run("cone", args, out_dir, 7200, {"PG_BINDIR": bindir} if bindir else None)
    r = json.loads(js.read_text())
    server = "PG" + str(r.get("server", "?")).split()[0].split(".")[0]
    out = []
    for label, c in r["cones"].items():
        h = c["hpx"]
        for other in ("seqscan", "q3c", "pgsphere"):
            if other in c:
                out.append(row("cone", size, f"cone {label} hpx ms ({server})", h["median_ms"],
                               "ms", (h["min_ms"], h["max_ms"]), other, c[other]["median_ms"]))
        if not any(o in c for o in ("seqscan", "q3c", "pgsphere")):
            out.append(row("cone", size, f"cone {label} hpx ms", h["median_ms"], "ms",
                           (h["min_ms"], h["max_ms"])))
    for m, x in r["crossmatch"].items():
        base = x["hpx"]["query_ms"]
        others = [o for o in ("hpx_all_neighbours", "q3c", "pgsphere") if o in x]
        for other in others or [""]:
            out.append(row("crossmatch", size, f'xmatch {m} x {size} within 1" ms', base, "ms",
                           None, other, x[other]["query_ms"] if other else None))
    return out


NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?$")


def parse_format_line(line: str) -> dict[str, Any] | None:
    """One row of bench/formats.py's table: a label, then 5 numbers (rows, seconds, rows/s,
    MB out, peak RSS +MB) or 7 (with CPU s and rows/CPU s after rows/s)."""
    tokens = line.split()
    nums: list[float] = []
    while tokens and NUMBER.match(tokens[-1]):
        nums.insert(0, float(tokens.pop().replace(",", "")))
    if not tokens or len(nums) not in (5, 7):
        return None
    out = {"label": " ".join(tokens), "rows": int(nums[0]), "rows_per_s": nums[2],
           "rss_mb": nums[-1], "rows_per_cpu_s": nums[4] if len(nums) == 7 else None}
    return out


def formats_rows(size: int, repeat: int, smoke: bool, out_dir: Path) -> list[Row]:
    """Writers' throughput: rows per CPU second when bench/formats.py reports it (less
    sensitive to a loaded machine than wall-clock rows/s), against pyarrow.csv's."""
    base_rows = max(size // 10, 1000) if not smoke else 2000
    runs: dict[str, list[float]] = {}
    rss: dict[str, float] = {}
    unit = "rows/s"
    for i in range(repeat):
        text, _ = run("formats", ["--rows", str(size), "--baseline-rows", str(base_rows)],
                      out_dir, 3600)
        (out_dir / f"formats_{size}_{i}.out").write_text(text)
        for line in text.splitlines():
            p = parse_format_line(line)
            if p is None:
                continue
            key = f"{p['label']} ({p['rows']:,} rows)"
            value = p["rows_per_cpu_s"] or p["rows_per_s"]
            unit = "rows/CPU s" if p["rows_per_cpu_s"] else "rows/s"
            runs.setdefault(key, []).append(value)
            rss[key] = max(rss.get(key, 0.0), p["rss_mb"])
    base_key = next((k for k in runs if k.startswith("pyarrow.csv")), None)
    base = statistics.median(runs[base_key]) if base_key else None
    out = []
    for key, v in runs.items():
        out.append(row("formats", size, f"{key} {unit}, +{rss[key]:.0f} MB",
                       statistics.median(v), "rows/s", (min(v), max(v)),
                       "pyarrow.csv" if base and key != base_key else "", base
                       if key != base_key else None))
    return out


ADQL_LINE = re.compile(r"^(.+?)\s+(\d+) \|\s+([\d.]+)\s+([\d.]+)\s+([\d.]+) \|"
                       r"\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")


def adql_rows(out_dir: Path) -> list[Row]:
    text, _ = run("adql", [], out_dir, 1800)
    out = []
    for line in text.splitlines():
        m = ADQL_LINE.match(line)
        if m:
            label, cold50, warm50, warm99 = m.group(1).strip(), *map(float, m.group(3, 6, 7))
            out.append(row("adql", None, f"{label} warm p50 ms", warm50, "ms",
                           None, "cold p50", cold50))
            out.append(row("adql", None, f"{label} warm p99 ms", warm99, "ms",
                           None, "target p99 <= 10 ms", None))
    return out


def uws_rows(smoke: bool, out_dir: Path) -> list[Row]:
    args = ["--trips", "20", "--jobs", "30"] if smoke else []
    text, _ = run("uws", args, out_dir, 1800)
    out = []
    trip = re.search(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms", text)
    get = re.search(r"phase: p50 ([\d.]+) ms", text)
    if trip:
        out.append(row("uws", None, "async round trip p50 ms", float(trip.group(1)), "ms",
                       None, "GET job phase", float(get.group(1)) if get else None))
        out.append(row("uws", None, "async round trip p99 ms", float(trip.group(2)), "ms"))
    one = re.search(r"1 worker:\s+([\d.]+) jobs/s", text)
    two = re.search(r"2 workers:\s+([\d.]+) jobs/s", text)
    if one:
        out.append(row("uws", None, "jobs/s, 1 worker", float(one.group(1)), "jobs/s"))
    if one and two:
        out.append(row("uws", None, "jobs/s, 2 workers", float(two.group(1)), "jobs/s", None,
                       "1 worker", float(one.group(1))))
    return out


def tap_rows(size: int, smoke: bool, out_dir: Path) -> list[Row]:
    """bench/tap.py (issue 4): its last output line is one JSON object of figures."""
    text, _ = run("tap", ["--smoke"] if smoke else ["--rows", str(size)], out_dir, 3600)
    f = json.loads(text.strip().splitlines()[-1])
    n = f.get("table_rows")
    out = []
    if "cone_p50_ms" in f:
        out.append(row("tap", n, "sync cone p50 ms (HTTP, <= 100 rows)", f["cone_p50_ms"], "ms",
                       None, "GET /health", f.get("health_p50_ms")))
        if f.get("cone_direct_sql_p50_ms"):
            out.append(row("tap", n, "sync cone p50 ms (HTTP, <= 100 rows)", f["cone_p50_ms"],
                           "ms", None, "same SQL via psycopg2", f["cone_direct_sql_p50_ms"]))
        out.append(row("tap", n, "sync cone p99 ms", f.get("cone_p99_ms", float("nan")), "ms"))
    for key, value in f.items():
        m = re.fullmatch(r"top(\d+)_(\w+)_rows_per_s", key)
        if m:
            top = int(m.group(1))
            direct = f.get(f"top{top}_direct_sql_ms")
            out.append(row("tap", n, f"TOP {top} as {m.group(2)} rows/s", value, "rows/s", None,
                           "psycopg2 fetch" if direct else "",
                           top / (direct / 1000) if direct else None))
    if "xmatch_p50_ms" in f:
        out.append(row("tap", n, f"upload {f.get('xmatch_rows')} rows xmatch 1\" ms",
                       f["xmatch_p50_ms"], "ms"))
    if "concurrent_req_per_s" in f:
        out.append(row("tap", n, f"concurrent cones/s ({f.get('concurrent_errors')} errors)",
                       f["concurrent_req_per_s"], "req/s"))
    return out


def fmt(v: float | None, unit: str = "") -> str:
    if v is None or v != v:
        return "-"
    if unit == "rows/s" or abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def print_table(rows: list[Row]) -> None:
    print(f"{'bench':<10} {'size':>10}  {'figure':<60} {'median':>11} {'(min-max)':>23}  "
          f"{'baseline':<20} {'ratio':>7}")
    for r in rows:
        noise = f"({fmt(r['min'], r['unit'])}-{fmt(r['max'], r['unit'])})" if r["min"] \
            is not None else ""
        size = f"{r['size']:,}" if r["size"] else ""
        ratio = f"{r['ratio']:.3g}x" if r["ratio"] is not None else ""
        base = r["baseline"] + (f" {fmt(r['baseline_value'], r['unit'])}"
                                if r["baseline_value"] is not None else "")
        print(f"{r['bench']:<10} {size:>10}  {r['figure'][:60]:<60} "
              f"{fmt(r['value'], r['unit']):>11} {noise:>23}  {base[:28]:<20} {ratio:>7}")


def machine() -> dict[str, Any]:
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")
    return {"nproc": os.cpu_count(), "memory_mb": int(mem) // 1024,
            "load_avg_1min": os.getloadavg()[0],
            "cpu": next((line.split(":", 1)[1].strip() for line in
                         Path("/proc/cpuinfo").read_text().splitlines()
                         if line.startswith("model name")), "")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=lambda s: int(float(s)), action="append",
                    help="catalogue rows (repeatable; default 1e6)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat: for CI")
    ap.add_argument("--repeat", type=int, default=3, help="repeats of ingest and formats")
    ap.add_argument("--only", action="append", choices=["ingest", "cone", "formats", "adql",
                                                        "uws", "tap"])
    ap.add_argument("--pg-bindir", default="auto",
                    help="PostgreSQL for the cone/crossmatch baselines (default: a Debian one "
                         "with q3c and pgSphere if installed; 'none': the suite's own)")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "vo-bench-run")
    ap.add_argument("--json", type=Path, help="also write the JSON here")
    args = ap.parse_args(argv)
    sizes = [20_000] if args.smoke else (args.size or [1_000_000])
    repeat = 1 if args.smoke else args.repeat
    only = set(args.only or ["ingest", "cone", "formats", "adql", "uws", "tap"])
    args.out.mkdir(parents=True, exist_ok=True)
    info = machine()
    bindir = (os.environ.get("PG_BINDIR") or extension_bindir() if args.pg_bindir == "auto"
              else None if args.pg_bindir == "none" else args.pg_bindir)
    info["cone_pg_bindir"] = bindir
    rows: list[Row] = []
    failures: list[str] = []
    steps: list[tuple[str, Any]] = []
    for size in sizes:
        steps += [("ingest", lambda s=size: ingest_rows(s, repeat, args.out)),
                  ("cone", lambda s=size: cone_rows(s, args.smoke, args.out, bindir)),
                  ("formats", lambda s=size: formats_rows(s, repeat, args.smoke, args.out))]
    steps += [("adql", lambda: adql_rows(args.out)), ("uws", lambda: uws_rows(args.smoke,
                                                                               args.out))]
    if (BENCH / "tap.py").exists():
        steps.append(("tap", lambda: tap_rows(sizes[0], args.smoke, args.out)))
    for name, fn in steps:
        if name not in only:
            continue
        t0 = time.monotonic()
        print(f"[bench] {name}...", file=sys.stderr, flush=True)
        try:
            rows += fn()
        except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as exc:
            failures.append(f"{name}: {exc}")
            print(f"[bench] {name} FAILED: {exc}", file=sys.stderr, flush=True)
        print(f"[bench] {name} done in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    print(f"\nmachine: {info['nproc']} cores ({info['cpu']}), {info['memory_mb']} MB, "
          f"load {info['load_avg_1min']:.1f} at start; outputs in {args.out}")
    print_table(rows)
    doc = {"machine": info, "sizes": sizes, "smoke": args.smoke, "rows": rows,
           "failures": failures}
    text = json.dumps(doc, indent=1, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    for f in failures:
        print(f"FAILED {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
