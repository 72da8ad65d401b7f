"""ADQL translator latency: parse + analyse + translate, cold and warm (cached).

Prints p50/p99 per workload: the lyonetia valid set (syntax: ``parse``), typical
cone searches and a mixed set over the demo-shaped tables (``translate``), first
cold (caches cleared before every query) then warm (the same query again, from the
translation cache). Targets (issue 3): p50 <= 2 ms, p99 <= 10 ms warm. Also prints
the corpus agreement rates. Run: /work/venv/bin/python bench/adql.py
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.unit.adql.schema_fixture import SCHEMA  # noqa: E402
from vo.adql import ADQLError, clear_cache, parse, translate  # noqa: E402
from vo.adql.parser import SHAPES, _parse_cached  # noqa: E402

CORPORA = ROOT.parent / "shared/conformance/adql"


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    s = sorted(samples)
    return (statistics.median(s) * 1e3, s[min(len(s) - 1, int(len(s) * 0.99))] * 1e3, s[-1] * 1e3)


def timed(
    fn: Callable[[str], object], queries: Sequence[str], cold: bool, shapes: bool = False
) -> list[float]:
    """Seconds per query; ``cold``: every cache emptied first, except the parse templates
    of known query shapes when ``shapes`` (vo.adql.shapes)."""
    out = []
    for q in queries:
        if cold:
            clear_cache()
            _parse_cached.cache_clear()
            if not shapes:
                SHAPES.clear()
        t0 = time.perf_counter()
        try:
            fn(q)
        except ADQLError:
            pass
        out.append(time.perf_counter() - t0)
    return out


def cone_queries(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    forms = [
        "SELECT * FROM hipparcos.hip2 WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), "
        "CIRCLE('ICRS', {a}, {d}, {r}))",
        "SELECT TOP 100 source_id, ra, dec, phot_g_mean_mag FROM gaia.dr3_bright "
        "WHERE DISTANCE(POINT(ra, dec), POINT({a}, {d})) < {r} ORDER BY phot_g_mean_mag",
        "SELECT COUNT(*) FROM hipparcos.hip2 WHERE CONTAINS(POINT(ra, dec), CIRCLE({a}, {d}, "
        "{r})) = 1 "
        "AND hpmag < 8",
    ]
    return [
        rng.choice(forms).format(
            a=round(rng.uniform(0, 360), 4),
            d=round(rng.uniform(-89, 89), 4),
            r=rng.choice([0.01, 0.1, 0.5, 1, 5]),
        )
        for _ in range(n)
    ]


MIXED = [
    "SELECT h.hip, g.source_id FROM hipparcos.hip2 AS h JOIN gaia.dr3_bright AS g "
    "ON DISTANCE(POINT(h.ra, h.dec), POINT(g.ra, g.dec)) < 0.001 WHERE h.hpmag < 5",
    "SELECT nobs / 10 AS bin, COUNT(*), AVG(plx), ROUND(MAX(hpmag), 2) FROM hipparcos.hip2 "
    "GROUP BY bin ORDER BY bin",
    "WITH b AS (SELECT hip, hpmag FROM hipparcos.hip2 WHERE hpmag < 2) SELECT * FROM b ORDER "
    "BY hpmag",
    "SELECT hip FROM hipparcos.hip2 WHERE hip < 10 UNION SELECT hip FROM hipparcos.hip2 WHERE "
    "plx > 100",
    "SELECT * FROM hipparcos.hip2 WHERE CONTAINS(POINT(ra, dec), POLYGON(10, 10, 20, 10, 15, "
    "20)) = 1",
]


def corpus(name: str) -> list[dict]:
    return [json.loads(line) for line in open(CORPORA / f"{name}.jsonl", encoding="utf-8")]


def accepts(rec: dict) -> bool:
    udfs = [m.group(1) for u in rec.get("declared_udfs") or [] if (m := re.match(r"\s*(\w+)", u))]
    try:
        parse(rec["adql"], udfs=udfs)
        return True
    except ADQLError:
        return False


def main() -> None:
    lyonetia = [r["adql"] for r in corpus("lyonetia") if r["valid"]] if CORPORA.is_dir() else []
    cones = cone_queries(300)
    rows = []
    for label, fn, queries, shapes in [
        ("lyonetia valid: parse", parse, lyonetia, False),
        ("cone searches: translate", lambda q: translate(q, SCHEMA), cones, False),
        # cold but for the shapes: the cone forms above with other positions and radii
        ("cone shapes new numbers", lambda q: translate(q, SCHEMA), cone_queries(300, 2), True),
        ("mixed queries: translate", lambda q: translate(q, SCHEMA), MIXED * 20, False),
    ]:
        if not queries:
            continue
        if shapes:
            timed(fn, cones, cold=False)  # the shapes are known
        cold = timed(fn, queries, cold=True, shapes=shapes)
        timed(fn, queries, cold=False)  # fill the caches
        warm = timed(fn, queries, cold=False)
        rows.append((label, len(queries), *percentiles(cold), *percentiles(warm)))
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (timings scale with it)")
    print(
        f"{'workload':28} {'n':>5} | {'cold p50':>9} {'p99':>8} {'max':>8} | {'warm p50':>9} "
        f"{'p99':>8} {'max':>8}  (ms)"
    )
    for label, n, c50, c99, cmax, w50, w99, wmax in rows:
        print(
            f"{label:28} {n:5d} | {c50:9.3f} {c99:8.3f} {cmax:8.3f} | {w50:9.4f} {w99:8.4f} "
            f"{wmax:8.4f}"
        )
    if CORPORA.is_dir():
        print("\ncorpus agreement with the recorded verdicts (syntax-only parse):")
        for name in ("lyonetia", "vollt", "dachs", "queryparser", "regtap", "spec_examples"):
            recs = corpus(name)
            judged = [r for r in recs if r["valid"] is not None]
            agree = sum(accepts(r) == r["valid"] for r in judged)
            parsed = sum(accepts(r) for r in recs)
            print(
                f"  {name:14} parsed {parsed:4d}/{len(recs):4d}   agree {agree:4d}/{len(judged):4d}"
            )


if __name__ == "__main__":
    main()
