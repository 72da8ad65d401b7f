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
    line = "votable (BINARY2)          1,000,000     1.02     980,392     95.1          38.0"
    m = bench_run.FORMAT_LINE.match(line)
    assert m and m.group(1).strip() == "votable (BINARY2)" and m.group(4) == "980,392"
    assert bench_run.FORMAT_LINE.match("BINARY2 vs astropy: 12.3x the rows/s") is None


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
