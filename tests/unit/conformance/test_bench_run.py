"""bench/run.py: the parsers that turn each benchmark's output into table rows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "bench_run", Path(__file__).resolve().parents[3] / "bench" / "run.py")
assert spec and spec.loader
bench_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_run)


def test_format_lines() -> None:
    old = "votable (BINARY2)          1,000,000     1.02     980,392     95.1          38.0"
    p = bench_run.parse_format_line(old)
    assert p == {"label": "votable (BINARY2)", "rows": 1_000_000, "rows_per_s": 980_392,
                 "rss_mb": 38.0, "rows_per_cpu_s": None}
    new = ("votable (BINARY2)          1,000,000    12.74     78,498    2.62     382,248   139.1"
           "          28.8")
    p = bench_run.parse_format_line(new)
    assert p is not None and p["rows_per_cpu_s"] == 382_248 and p["rss_mb"] == 28.8
    assert bench_run.parse_format_line("BINARY2 vs astropy: 12.3x the rows/s") is None
    assert bench_run.parse_format_line("writer  rows  seconds  rows/s  CPU s") is None


def test_adql_lines() -> None:
    line = ("cone searches: translate      300 |     1.234    5.678    9.000 |    0.0123   0.0456"
            "   0.0789")
    m = bench_run.ADQL_LINE.match(line)
    assert m and m.group(1).strip() == "cone searches: translate"
    assert float(m.group(6)) == 0.0123


def test_row_ratio_and_table(capsys) -> None:  # type: ignore[no-untyped-def]
    r = bench_run.row("ingest", 1000, "ingest rows/s", 100_000.0, "rows/s", (90_000, 110_000),
                      "bare COPY", 200_000.0)
    assert r["ratio"] == 0.5
    bench_run.print_table([r])
    out = capsys.readouterr().out
    assert "100,000" in out and "(90,000-110,000)" in out and "0.5x" in out
