"""SAMP round trips with TOPCAT and Aladin, through the SAMP engineer's conformance/samp script.

``conformance/samp/samp_roundtrip.py`` starts a hub (JSAMP's or ours), TOPCAT and
Aladin headless and prints one ``PASS name: detail`` / ``FAIL name: detail`` line per
check, exiting 77 when the desktop tools are not installed. We run it once per hub,
sending a live query result of the suite under test, and turn its lines into checks.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from conformance.report import Check

SCRIPT = Path(__file__).resolve().parent / "samp" / "samp_roundtrip.py"
LINE = re.compile(r"^(PASS|FAIL) (.+?): (.*)$")
QUERY = "SELECT TOP 20 hip, ra, dec, plx, hpmag FROM hipparcos.hip2 ORDER BY hip"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").lower()


def parse_lines(hub: str, text: str) -> list[Check]:
    """``PASS|FAIL name: detail`` lines -> checks named ``<hub>/<name>``."""
    out = []
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if m:
            out.append(Check("samp", f"{hub}/{_slug(m.group(2))}",
                             "pass" if m.group(1) == "PASS" else "fail", m.group(3)[:400]))
    return out


def run_samp(tap_url: str, out_dir: Path, hubs: tuple[str, ...] = ("jsamp", "vo"),
             timeout: float = 300) -> list[Check]:
    if not SCRIPT.exists():
        return [Check("samp", "roundtrip", "skip", f"{SCRIPT} not present")]
    checks: list[Check] = []
    for hub in hubs:
        t0 = time.monotonic()
        try:
            proc = subprocess.run([sys.executable, str(SCRIPT), "--hub", hub, "--service",
                                   tap_url, "--query", QUERY], capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            checks.append(Check("samp", f"{hub}/roundtrip", "fail",
                                f"{SCRIPT.name} --hub {hub} did not finish in {timeout} s"))
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"samp-{hub}.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
        found = parse_lines(hub, proc.stdout)
        seconds = time.monotonic() - t0
        if proc.returncode == 77:
            checks.append(Check("samp", f"{hub}/roundtrip", "skip",
                                proc.stdout.strip().splitlines()[-1] if proc.stdout.strip()
                                else "desktop tools missing", seconds))
            continue
        for c in found:
            c.seconds = seconds / max(len(found), 1)
        checks.extend(found)
        if proc.returncode != 0 and not any(c.status == "fail" for c in found):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            checks.append(Check("samp", f"{hub}/roundtrip", "fail",
                                f"exit {proc.returncode}: " + " | ".join(tail), seconds))
    return checks
