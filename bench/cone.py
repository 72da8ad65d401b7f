"""Cone and crossmatch query times at database level: the HEALPix fast path vs baselines.

    python bench/cone.py --rows 1000000 [--centres 20] [--xmatch 10000,100000] [--json out.json]

Makes N rows with ../shared/bench/make_catalog.py, loads them (hpx, cx, cy, cz, sorted by hpx,
btree, VACUUM ANALYZE) into a private cluster (PG_BINDIR picks the server; q3c and pgSphere
tables are added when those extensions are installed for it), then times, in one session:
cones of 1", 1', 10', 1 deg and 5 deg (the geometry contract's SQL shape with vo.healpix
coverage, a sequential-scan exact chord test, q3c_radial_query, pgSphere <@ scircle) and a
crossmatch within 1" (DESIGN.md step 5 neighbour ranges vs all 8 neighbours, q3c_join,
pgSphere) and a stored x stored crossmatch within 1" as vo.adql translates it (issue 3).
Every method must return the same rows; times are wall-clock per query with all
rows fetched, medians over centres (each the best of 3 runs), with min-max. Prints a table
and JSON; never passes or fails on absolute times (DESIGN.md, test tiers).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import healpy as hp
import numpy as np
import psycopg2
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import vo.healpix as vh  # noqa: E402
from vo.db.cluster import PrivateCluster  # noqa: E402

MAKE_CATALOG = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_catalog.py"
RADII = {'1"': 1 / 3600, "1'": 1 / 60, "10'": 10 / 60, "1deg": 1.0, "5deg": 5.0}
DENSITY_ORDER = 8
MAX_OR_RANGES = 15  # DESIGN.md: OR of ranges is best up to ~15; beyond, a LATERAL join


def catalogue(rows: int, workdir: Path) -> dict[str, np.ndarray]:
    path = workdir / f"cat_{rows}.npz"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(MAKE_CATALOG),
                "--rows",
                str(rows),
                "--format",
                "npz",
                "--out",
                str(path),
            ],
            check=True,
        )
    data = np.load(path)
    return {k: data[k] for k in ("source_id", "ra", "dec", "phot_g_mean_mag")}


def copy_columns(
    cur: Any, table: str, columns: dict[str, np.ndarray], chunk: int = 1_000_000
) -> None:
    """COPY numpy columns as tab-separated text written by pyarrow (shortest exact doubles)."""
    n = len(next(iter(columns.values())))
    for start in range(0, n, chunk):
        t = pa.table({k: v[start : start + chunk] for k, v in columns.items()})
        buf = io.BytesIO()
        pacsv.write_csv(
            t, buf, pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
        )
        buf.seek(0)
        cur.copy_expert(f"COPY {table} FROM STDIN", buf)


def load(cur: Any, cat: dict[str, np.ndarray], extensions: set[str]) -> np.ndarray:
    """Load cat (hpx-sorted) and, where available, q3c and pgSphere copies; returns hpx sorted."""
    t0 = time.perf_counter()
    ra, dec = cat["ra"], cat["dec"]
    hpx = vh.pixel_index(ra, dec)
    order = np.argsort(hpx, kind="stable")
    cx, cy, cz = vh.unit_vectors(ra[order], dec[order])
    cur.execute("DROP TABLE IF EXISTS cat, cat_q3c, cat_sph")
    cur.execute(
        "CREATE TABLE cat (source_id bigint, ra float8, dec float8, mag float8, hpx bigint,"
        " cx float8, cy float8, cz float8)"
    )
    copy_columns(
        cur,
        "cat",
        {
            "source_id": cat["source_id"][order],
            "ra": ra[order],
            "dec": dec[order],
            "mag": cat["phot_g_mean_mag"][order].astype(np.float64),
            "hpx": hpx[order],
            "cx": cx,
            "cy": cy,
            "cz": cz,
        },
    )
    n = len(ra)
    cur.execute("CREATE INDEX cat_hpx ON cat (hpx)")
    if "q3c" in extensions:
        cur.execute(
            "CREATE TABLE cat_q3c AS SELECT source_id, ra, dec, mag FROM cat"
            " ORDER BY q3c_ang2ipix(ra, dec)"
        )
        cur.execute("CREATE INDEX ON cat_q3c (q3c_ang2ipix(ra, dec))")
    if "pg_sphere" in extensions:
        cur.execute(
            "CREATE TABLE cat_sph AS SELECT source_id, ra, dec, mag,"
            " spoint(radians(ra), radians(dec)) AS pos FROM cat"
        )
        cur.execute("CREATE INDEX ON cat_sph USING gist (pos)")
    cur.execute("VACUUM ANALYZE")
    print(
        f"loaded {n:,} rows (+ {sorted(extensions)}) in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    return hpx[order]


def ranges_or(ranges: tuple[tuple[int, int], ...]) -> str:
    return " OR ".join(f"hpx BETWEEN {lo} AND {hi}" for lo, hi in ranges) or "false"


def chord_sql(ra: float, dec: float, r: float, p: str = "") -> str:
    x, y, z = vh.unit_vector(ra, dec)
    return (
        f"(({p}cx-({x!r}))*({p}cx-({x!r}))+({p}cy-({y!r}))*({p}cy-({y!r}))"
        f"+({p}cz-({z!r}))*({p}cz-({z!r})) <= {vh.chord2(r)!r})"
    )


def fast_cone_sql(ra: float, dec: float, r: float, density: np.ndarray) -> tuple[str, int]:
    """The contract's fast-path shape; LATERAL over unnest when there are many ranges."""
    small = vh.cone_coverage(ra, dec, r, expected_rows=0)
    est = vh.expected_rows(density, DENSITY_ORDER, small.ranges)
    cov = small if est < vh.coverage.SMALL_ROWS else vh.cone_coverage(ra, dec, r, expected_rows=est)
    cols = "source_id, ra, dec, mag"
    n = len(cov.inner) + len(cov.boundary)
    if n <= MAX_OR_RANGES:
        where = (
            f"({ranges_or(cov.inner)}) OR (({ranges_or(cov.boundary)}) AND {chord_sql(ra, dec, r)})"
        )
        return f"SELECT {cols} FROM cat WHERE {where}", n
    lo = [a for a, _ in cov.inner] + [a for a, _ in cov.boundary]
    hi = [b for _, b in cov.inner] + [b for _, b in cov.boundary]
    ex = ["false"] * len(cov.inner) + ["true"] * len(cov.boundary)
    return (
        f"SELECT c.* FROM unnest(ARRAY{lo}::bigint[], ARRAY{hi}::bigint[], ARRAY[{','.join(ex)}])"
        f" AS r(lo, hi, ex) CROSS JOIN LATERAL (SELECT {cols} FROM cat"
        f" WHERE hpx BETWEEN r.lo AND r.hi"
        f" AND (NOT r.ex OR {chord_sql(ra, dec, r)}) OFFSET 0) AS c"
    ), n


def timed(cur: Any, sql: str, repeat: int = 3) -> tuple[float, int]:
    best = float("inf")
    rows = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        cur.execute(sql)
        rows = len(cur.fetchall())
        best = min(best, time.perf_counter() - t0)
    return best * 1000.0, rows


def summary(ms: list[float]) -> dict[str, float]:
    return {"median_ms": statistics.median(ms), "min_ms": min(ms), "max_ms": max(ms), "n": len(ms)}


def bench_cones(
    cur: Any,
    cat: dict[str, np.ndarray],
    hpx: np.ndarray,
    exts: set[str],
    centres: int,
    seq_centres: int,
) -> dict[str, Any]:
    rng = np.random.default_rng(2)
    density = vh.density_map(hpx, DENSITY_ORDER)
    pick = rng.integers(0, len(cat["ra"]), centres // 2)  # half on catalogue rows (dense sky)
    c_ra = np.concatenate([cat["ra"][pick], rng.uniform(0, 360, centres - len(pick))])
    c_dec = np.concatenate(
        [cat["dec"][pick], np.degrees(np.arcsin(rng.uniform(-1, 1, centres - len(pick))))]
    )
    out: dict[str, Any] = {}
    for label, r in RADII.items():
        times: dict[str, list[float]] = {
            "hpx": [],
            "hpx_db": [],
            "seqscan": [],
            "q3c": [],
            "pgsphere": [],
        }
        plan_us: list[float] = []
        rows_seen: list[int] = []
        mismatches = {"seqscan": 0, "q3c": 0, "pgsphere": 0}
        for i, (ra, dec) in enumerate(zip(c_ra.tolist(), c_dec.tolist(), strict=True)):
            t0 = time.perf_counter()
            sql, _ = fast_cone_sql(ra, dec, r, density)
            plan_us.append((time.perf_counter() - t0) * 1e6)
            ms, n = timed(cur, sql)
            times["hpx_db"].append(ms)
            times["hpx"].append(ms + plan_us[-1] / 1000.0)
            rows_seen.append(n)
            others = {}
            if i < seq_centres:
                cur.execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
                others["seqscan"] = (
                    f"SELECT source_id, ra, dec, mag FROM cat WHERE {chord_sql(ra, dec, r)}"
                )
            if "q3c" in exts:
                others["q3c"] = (
                    f"SELECT source_id, ra, dec, mag FROM cat_q3c"
                    f" WHERE q3c_radial_query(ra, dec, {ra!r}, {dec!r}, {r!r})"
                )
            if "pg_sphere" in exts:
                others["pgsphere"] = (
                    f"SELECT source_id, ra, dec, mag FROM cat_sph WHERE pos <@ scircle("
                    f"spoint(radians({ra!r}), radians({dec!r})), radians({r!r}))"
                )
            for name, q in others.items():
                ms, m = timed(cur, q, 1 if name == "seqscan" else 3)
                if name == "seqscan":
                    cur.execute("RESET enable_indexscan; RESET enable_bitmapscan")
                times[name].append(ms)
                mismatches[name] += abs(m - n)
        res: dict[str, Any] = {
            "radius_deg": r,
            "median_rows": statistics.median(rows_seen),
            "coverage_us_median": statistics.median(plan_us),
            "mismatched_rows": mismatches,
        }
        for name, ms in times.items():
            if ms:
                res[name] = summary(ms)
        out[label] = res
        print(f"cone {label}: done", flush=True)
    return out


def bench_crossmatch(
    cur: Any, cat: dict[str, np.ndarray], exts: set[str], sizes: list[int], radius: float = 1 / 3600
) -> dict[str, Any]:
    rng = np.random.default_rng(3)
    out: dict[str, Any] = {}
    for m in sizes:
        ra, dec = probe_positions(rng, cat, m, radius)
        x, y, z = vh.unit_vectors(ra, dec)
        t0 = time.perf_counter()
        rows, lo, hi = vh.crossmatch_ranges(ra, dec, radius)
        ranges_ms = (time.perf_counter() - t0) * 1000
        # baseline without pruning: own pixel + all 8 neighbours at the same order
        k = vh.crossmatch_order(radius)
        own = vh.pixel_index(ra, dec, k)
        nb = hp.get_all_neighbours(1 << k, own, nest=True)
        all_rows = np.concatenate([np.arange(m)] + [np.flatnonzero(nb[j] >= 0) for j in range(8)])
        all_pix = np.concatenate([own] + [nb[j][nb[j] >= 0] for j in range(8)])
        shift = 2 * (29 - k)
        res: dict[str, Any] = {
            "positions": m,
            "ranges_per_position": len(rows) / m,
            "ranges_python_ms": ranges_ms,
        }
        counts: dict[str, int] = {}
        for name, (rr, ll, hh) in {
            "hpx": (rows, lo, hi),
            "hpx_all_neighbours": (all_rows, all_pix << shift, ((all_pix + 1) << shift) - 1),
        }.items():
            t0 = time.perf_counter()
            cur.execute(
                "DROP TABLE IF EXISTS xm;"
                " CREATE TEMP TABLE xm (id int, x float8, y float8, z float8,"
                " lo bigint, hi bigint)"
            )
            srt = np.argsort(ll, kind="stable")
            copy_columns(
                cur,
                "xm",
                {
                    "id": rr[srt],
                    "x": x[rr][srt],
                    "y": y[rr][srt],
                    "z": z[rr][srt],
                    "lo": ll[srt],
                    "hi": hh[srt],
                },
            )
            cur.execute("ANALYZE xm")
            upload_ms = (time.perf_counter() - t0) * 1000
            q = (
                "SELECT xm.id, c.source_id FROM xm JOIN cat c"
                " ON c.hpx BETWEEN xm.lo AND xm.hi WHERE "
                "(c.cx-xm.x)*(c.cx-xm.x)+(c.cy-xm.y)*(c.cy-xm.y)+(c.cz-xm.z)*(c.cz-xm.z) <= "
                f"{vh.chord2(radius)!r}"
            )
            ms, counts[name] = timed(cur, q)
            res[name] = {"query_ms": ms, "upload_ms": upload_ms}
        if "q3c" in exts or "pg_sphere" in exts:
            cur.execute(
                "DROP TABLE IF EXISTS xq; CREATE TEMP TABLE xq (id int, ra float8, dec float8)"
            )
            copy_columns(cur, "xq", {"id": np.arange(m), "ra": ra, "dec": dec})
            cur.execute("ANALYZE xq")
        baselines(
            cur, exts, res, counts,
            "SELECT xq.id, c.source_id FROM xq JOIN cat_q3c c ON "
            f"q3c_join(xq.ra, xq.dec, c.ra, c.dec, {radius!r})",
            "SELECT xq.id, c.source_id FROM xq JOIN cat_sph c ON c.pos <@ "
            f"scircle(spoint(radians(xq.ra), radians(xq.dec)), radians({radius!r}))",
        )
        out[str(m)] = res
        print(f"crossmatch {m}: done", flush=True)
    return out


def probe_positions(
    rng: np.random.Generator, cat: dict[str, Any], m: int, radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """m crossmatch positions: half near catalogue rows (within ~radius), half anywhere."""
    half = m // 2
    pick = rng.integers(0, len(cat["ra"]), half)
    off = rng.normal(0, radius / 2, (2, half))
    ra = np.concatenate([
        (cat["ra"][pick] + off[0] / np.cos(np.radians(cat["dec"][pick]))) % 360,
        rng.uniform(0, 360, m - half),
    ])
    dec = np.concatenate([
        np.clip(cat["dec"][pick] + off[1], -90, 90),
        np.degrees(np.arcsin(rng.uniform(-1, 1, m - half))),
    ])
    return ra, dec


def baselines(
    cur: Any, exts: Any, res: dict[str, Any], counts: dict[str, int], q3c: str, sphere: str
) -> None:
    """Time the q3c and pgSphere forms of a crossmatch where installed; record the matches."""
    for ext, name, sql in (("q3c", "q3c", q3c), ("pg_sphere", "pgsphere", sphere)):
        if ext in exts:
            ms, counts[name] = timed(cur, sql)
            res[name] = {"query_ms": ms}
    res["matches"] = counts


def bench_stored_crossmatch(
    cur: Any, cat: dict[str, np.ndarray], exts: set[str], sizes: list[int], radius: float = 1 / 3600
) -> dict[str, Any]:
    """Stored x stored within 1" (issue 3): a second positional table ``cat2`` of m rows
    (half near catalogue rows) joined with ``cat`` on DISTANCE < r, translated by vo.adql
    (the crossmatch plan: vo_adql.crossmatch_ranges of cat2.hpx probing cat's btree), next
    to q3c_join and pgSphere on the same rows when those extensions are installed."""
    from vo.adql import StaticSchema, translate
    from vo.meta import ColumnMeta, Position, TableMeta

    cur.execute((Path(__file__).resolve().parents[1] / "vo/db/sql/vo_adql.sql").read_text())
    rng = np.random.default_rng(5)
    out: dict[str, Any] = {}
    n = len(cat["ra"])
    cols = (
        ColumnMeta("source_id", "long"),
        ColumnMeta("ra", "double"),
        ColumnMeta("dec", "double"),
    )
    for m in sizes:
        ra, dec = probe_positions(rng, cat, m, radius)
        hpx = vh.pixel_index(ra, dec)
        order = np.argsort(hpx, kind="stable")
        cx, cy, cz = vh.unit_vectors(ra[order], dec[order])
        cur.execute(
            "DROP TABLE IF EXISTS cat2, cat2_q3c, cat2_sph; CREATE TABLE cat2 (source_id bigint,"
            " ra float8, dec float8, hpx bigint, cx float8, cy float8, cz float8)"
        )
        copy_columns(
            cur,
            "cat2",
            {
                "source_id": np.arange(m, dtype=np.int64)[order],
                "ra": ra[order],
                "dec": dec[order],
                "hpx": hpx[order],
                "cx": cx,
                "cy": cy,
                "cz": cz,
            },
        )
        cur.execute("CREATE INDEX ON cat2 (hpx)")
        schema = StaticSchema(
            (
                TableMeta(
                    "bench",
                    "bench.cat",
                    cols,
                    db_schema="public",
                    db_table="cat",
                    position=Position("ra", "dec", rows=n),
                ),
                TableMeta(
                    "bench",
                    "bench.cat2",
                    cols,
                    db_schema="public",
                    db_table="cat2",
                    position=Position("ra", "dec", rows=m),
                ),
            ),
            version=f"bench-{m}",
        )
        t = translate(
            "SELECT x.source_id, c.source_id FROM bench.cat2 AS x JOIN bench.cat AS c ON "
            f"DISTANCE(POINT(x.ra, x.dec), POINT(c.ra, c.dec)) < {radius!r}",
            schema,
        )
        assert t.fast_paths == 1, t.sql
        if "q3c" in exts:
            cur.execute(
                "CREATE TABLE cat2_q3c AS SELECT source_id, ra, dec FROM cat2"
                " ORDER BY q3c_ang2ipix(ra, dec)"
            )
            cur.execute("CREATE INDEX ON cat2_q3c (q3c_ang2ipix(ra, dec))")
        if "pg_sphere" in exts:
            cur.execute(
                "CREATE TABLE cat2_sph AS SELECT source_id, spoint(radians(ra), radians(dec))"
                " AS pos FROM cat2"
            )
            cur.execute("CREATE INDEX ON cat2_sph USING gist (pos)")
        cur.execute("VACUUM ANALYZE cat2")
        res: dict[str, Any] = {"rows": m}
        counts: dict[str, int] = {}
        ms, counts["hpx"] = timed(cur, t.sql)
        res["hpx"] = {"query_ms": ms}
        baselines(
            cur, exts, res, counts,
            "SELECT x.source_id, c.source_id FROM cat2_q3c x JOIN cat_q3c c ON "
            f"q3c_join(x.ra, x.dec, c.ra, c.dec, {radius!r})",
            "SELECT x.source_id, c.source_id FROM cat2_sph x JOIN cat_sph c ON c.pos <@ "
            f"scircle(x.pos, radians({radius!r}))",
        )
        out[str(m)] = res
        print(f"stored crossmatch {m}: done", flush=True)
    return out


def print_table(result: dict[str, Any]) -> None:
    print(
        f"\n{result['rows']:,} rows, PostgreSQL {result['server']},"
        f" extensions {result['extensions']}"
    )
    print("hpx = coverage in Python + SQL; x = ratio of hpx to the other method (< 1: hpx faster)")
    print(
        f"{'cone':>6} {'rows':>8} {'cover us':>8} | {'hpx ms (min-max)':>22} | {'db only':>7}"
        f" | {'seqscan':>9} {'x':>7}"
        f" | {'q3c':>9} {'x':>6} | {'pgsphere':>9} {'x':>6}"
    )
    for label, r in result["cones"].items():
        h = r["hpx"]
        line = (
            f"{label:>6} {r['median_rows']:>8.0f} {r['coverage_us_median']:>8.0f}"
            f" | {h['median_ms']:>8.2f}"
            f" ({h['min_ms']:.2f}-{h['max_ms']:.2f}) | {r['hpx_db']['median_ms']:>7.2f} |"
        )
        for name, w in (("seqscan", 7), ("q3c", 6), ("pgsphere", 6)):
            if name in r:
                ratio = h["median_ms"] / r[name]["median_ms"]
                line += f" {r[name]['median_ms']:>9.2f} {ratio:>{w}.3f}x |"
            else:
                line += f" {'-':>9} {'-':>{w}} |"
        print(line)
    print('\ncrossmatch within 1": query ms (ratio hpx/other); matches')
    for m, r in result["crossmatch"].items():
        base = r["hpx"]["query_ms"]
        parts = [
            f"hpx {base:.0f} ms (+{r['ranges_python_ms']:.0f} ms ranges,"
            f" {r['ranges_per_position']:.2f}/pos,"
            f" upload {r['hpx']['upload_ms']:.0f} ms)"
        ]
        for name in ("hpx_all_neighbours", "q3c", "pgsphere"):
            if name in r:
                parts.append(
                    f"{name} {r[name]['query_ms']:.0f} ms ({base / r[name]['query_ms']:.2f}x)"
                )
        print(f"{m:>7}: " + "; ".join(parts) + f"; matches {r['matches']}")
    print('\nstored x stored within 1" (vo.adql crossmatch plan): query ms (ratio hpx/other)')
    for m, r in result.get("stored_crossmatch", {}).items():
        base = r["hpx"]["query_ms"]
        parts = [f"hpx {base:.0f} ms"]
        for name in ("q3c", "pgsphere"):
            if name in r:
                parts.append(
                    f"{name} {r[name]['query_ms']:.0f} ms ({base / r[name]['query_ms']:.2f}x)"
                )
        print(f"{m:>7} x {result['rows']:,}: " + "; ".join(parts) + f"; matches {r['matches']}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--centres", type=int, default=20)
    p.add_argument("--seq-centres", type=int, default=3)
    p.add_argument("--xmatch", default="10000,100000")
    p.add_argument("--stored-xmatch", default="100000", help="rows of the second stored table")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "vo-bench-cone")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    cat = catalogue(args.rows, args.workdir)
    cluster = PrivateCluster(args.workdir / f"cluster-{os.getpid()}", fast=True)
    url = make_url(cluster.start())
    try:
        conn = psycopg2.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            dbname=url.database,
        )
        conn.autocommit = True
        cur = conn.cursor()
        # JIT compiles the crossmatch join for ~0.5 s because the range join's row estimate is
        # huge; interactive catalogue queries never gain from it (applies to every method here)
        cur.execute("SET jit = off")
        exts: set[str] = set()
        for ext in ("q3c", "pg_sphere"):
            try:
                cur.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
                exts.add(ext)
            except psycopg2.Error:
                pass
        cur.execute("SHOW server_version")
        server = cur.fetchone()[0]
        hpx = load(cur, cat, exts)
        result: dict[str, Any] = {"rows": args.rows, "server": server, "extensions": sorted(exts)}
        result["cones"] = bench_cones(cur, cat, hpx, exts, args.centres, args.seq_centres)
        result["crossmatch"] = bench_crossmatch(
            cur, cat, exts, [int(s) for s in args.xmatch.split(",") if s]
        )
        result["stored_crossmatch"] = bench_stored_crossmatch(
            cur, cat, exts, [int(s) for s in args.stored_xmatch.split(",") if s]
        )
        conn.close()
    finally:
        cluster.destroy()
    print_table(result)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
