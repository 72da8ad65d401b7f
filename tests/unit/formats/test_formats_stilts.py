"""TOPCAT's reader (``stilts tpipe``) on our CSV and FITS: types and values as intended."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typed_sample import COLUMNS, ROWS

from vo.formats import CSVWriter, FITSWriter

STILTS = shutil.which("stilts")
pytestmark = pytest.mark.skipif(
    STILTS is None, reason="stilts is not installed (Debian: apt-get install -y stilts)"
)


def tpipe(path: Path, ifmt: str, *args: str) -> str:
    proc = subprocess.run(
        [str(STILTS), "tpipe", f"in={path}", f"ifmt={ifmt}", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def column_types(meta: str) -> dict[str, str]:
    """name -> STILTS type from ``omode=meta`` lines like '  3: dec(Double)/deg - ...'."""
    return dict(re.findall(r"^\s*\d+: (\w+)\(([^)]+)\)", meta, flags=re.M))


def test_stilts_reads_our_csv_with_the_right_column_types(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"".join(CSVWriter(COLUMNS).stream([ROWS])))
    types = column_types(tpipe(path, "csv", "omode=meta"))
    assert types["id"] == "Long" and types["Ra"] == "Double"
    assert types["flag"] == "Boolean" and types["medium"] == "Integer"
    assert types["name"] == "String" and types["obs_time"] == "String"
    assert "Rows:    4" in tpipe(path, "csv", "omode=meta")


def test_stilts_reads_our_fits_arrays_units_and_descriptions(tmp_path: Path) -> None:
    path = tmp_path / "t.fits"
    path.write_bytes(b"".join(FITSWriter(COLUMNS).stream([ROWS])))
    meta = tpipe(path, "fits", "omode=meta")
    types = column_types(meta)
    assert types["pos"] == "double[2]" and types["footprint"] == "double[*]"
    assert types["matrix"] == "double[2,2]" and types["flag"] == "Boolean"
    assert 'mag(Float)/mag - a <float> & "quoted" magnitude' in meta
    rows = tpipe(path, "fits", "ofmt=csv", "out=-").splitlines()
    assert rows[1].startswith('1,10.5,-45.25,1.5,true,-32767,2147483647,200,"a <b> & ""c"" \'d\'"')
    assert '"(10.0, 10.0, 10.2, 10.0, 10.2, 10.2)"' in rows[1]
    assert rows[2].startswith(",,,,,,,,,")  # the all-NULL row stays NULL
