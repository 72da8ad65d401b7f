"""`stilts taplint` against the live service (TAP 1.1 validator): no errors, no failures.

ObsLocTAP (LOC) is left out: it tests planned-observation tables this suite does not
serve. The report is kept in the test's tmp dir (and its totals printed) for the notes.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("stilts") is None, reason="stilts not installed"),
]


def run_taplint(url: str, stages: str = "-LOC") -> tuple[str, dict[str, int]]:
    out = subprocess.run(
        [
            "stilts",
            "taplint",
            f"tapurl={url}/tap",
            f"stages={stages}",
            "maxrepeat=4",
            "truncate=400",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    text = out.stdout + out.stderr
    counts = {"E": 0, "W": 0, "F": 0}
    for code in counts:
        counts[code] = len(re.findall(rf"^{code}-[A-Z]{{3}}-", text, re.M))
    return text, counts


def test_taplint_clean(live_url, live_worker, tmp_path):
    text, counts = run_taplint(live_url)
    (tmp_path / "taplint.txt").write_text(text)
    print(f"taplint totals: {counts}; report: {tmp_path / 'taplint.txt'}")
    summary = "\n".join(line for line in text.splitlines() if line.startswith(("E-", "F-")))
    assert counts["E"] == 0 and counts["F"] == 0, summary
