#!/usr/bin/env python3
"""SAMP conformance: round trips through a real hub to TOPCAT and Aladin, black-box.

Starts, in a fresh directory, a hub (JSAMP's, or ours via ``vo samp hub``), TOPCAT
and Aladin headless (the scripts in ../shared/tools/samp/), then through ``vo.samp``:

1. sends a table to TOPCAT and compares TOPCAT's own copy (``table.get.stil``) with
   what was sent: column names, values, units. With ``--service URL --query ADQL``
   the table is a live query result of a running TAP service (TAP 1.1 sec. 2.2),
   sent the way ``vo samp send --query`` sends it; otherwise a built-in sample;
2. highlights a row of it (``table.highlight.row``: samp.ok only if TOPCAT holds it);
3. sends a FITS image (``--image FILE`` or a built-in one) to Aladin and checks its
   view centre (``coord.get.sky``) against the image's centre;
4. points Aladin elsewhere (``coord.pointAt.sky``) and checks that it moved.

Prints one PASS/FAIL line per check and exits 0 only if all passed. Needs Debian
packages jsamp, topcat, aladin, xvfb. Example:

    python conformance/samp/samp_roundtrip.py --hub vo \\
        --service http://127.0.0.1:8080/tap --query "SELECT TOP 20 * FROM hipparcos.main"
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from vo.samp import Samp, SampCallFailed, find_hub  # noqa: E402
from vo.samp.messages import GET_SKY, highlight_row, message  # noqa: E402
from vo.samp.query import run_query  # noqa: E402

DEFAULT_TOOLS = REPO.parent / "shared" / "tools" / "samp"


class Stack:
    """Hub + TOPCAT + Aladin in one directory; ``stop`` ends exactly what it started."""

    def __init__(self, tools: Path, d: Path, hub: str) -> None:
        self.tools, self.dir, self.kind = tools, d, hub
        self.samp_hub = f"std-lockurl:file://{d}/.samp"
        self.hub_proc: subprocess.Popen[bytes] | None = None
        self.started: list[str] = []

    def _script(self, *args: str) -> None:
        subprocess.run([str(self.tools / args[0]), *args[1:]], check=True, capture_output=True)

    def start(self) -> None:
        if self.kind == "jsamp":
            self._script("hub.sh", "start", str(self.dir))
        else:
            log = (self.dir / "vohub.log").open("w")
            self.hub_proc = subprocess.Popen(
                [sys.executable, "-m", "vo.cli.samp", "hub", "--lockfile", str(self.dir / ".samp")],
                cwd=REPO,
                env={**os.environ, "SAMP_HUB": self.samp_hub},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 30
            while True:
                try:
                    find_hub({"SAMP_HUB": self.samp_hub}, timeout=1.0)
                    break
                except Exception:
                    if self.hub_proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("`vo samp hub` did not start") from None
                    time.sleep(0.1)
        self.started.append("hub")
        for tool in ("topcat.sh", "aladin.sh"):
            self._script(tool, "start", str(self.dir))
            self.started.append(tool)
        log = self.dir / "aladin.log"  # Aladin drops loads that come before this line
        deadline = time.monotonic() + 60
        while "Aladin is fully ready" not in log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Aladin never got fully ready, see {log}")
            time.sleep(0.2)

    def stop(self) -> None:
        for tool in reversed(self.started):
            if tool == "hub":
                if self.hub_proc is not None:
                    self.hub_proc.send_signal(signal.SIGTERM)
                    self.hub_proc.wait(timeout=20)
                else:
                    subprocess.run([str(self.tools / "hub.sh"), "stop", str(self.dir)])
            else:
                subprocess.run([str(self.tools / tool), "stop", str(self.dir)])
        self.started.clear()


class Report:
    def __init__(self) -> None:
        self.failed = 0

    def check(self, name: str, ok: bool, detail: str) -> bool:
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        self.failed += not ok
        return ok


def call_until_ok(samp: Samp, to: str, msg: dict[str, Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return samp.send(msg, to).replies[0]
        except SampCallFailed:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def compare_tables(sent: Any, back: Any) -> list[str]:
    problems = []
    if back.colnames != sent.colnames:
        return [f"columns {back.colnames} != {sent.colnames}"]
    if len(back) != len(sent):
        return [f"{len(back)} rows != {len(sent)}"]
    for name in sent.colnames:
        a, b = np.asarray(sent[name]), np.asarray(back[name])
        if a.dtype.kind in "fc":
            same = np.array_equal(a, b, equal_nan=True)
        else:
            same = bool(np.all(a == b))
        if not same:
            problems.append(f"values of {name} differ")
        if sent[name].unit != back[name].unit:
            problems.append(f"unit of {name}: {back[name].unit} != {sent[name].unit}")
    return problems


def sample_table() -> Any:
    from astropy.table import Table

    t = Table()
    t["id"] = np.arange(1, 9, dtype=np.int64)
    t["ra"] = np.linspace(10.60, 10.76, 8)
    t["dec"] = np.linspace(41.20, 41.34, 8)
    t["mag"] = np.linspace(15, 17, 8).astype(np.float32)
    t["ra"].unit, t["dec"].unit, t["mag"].unit = "deg", "deg", "mag"
    return t


def sample_image(path: Path) -> None:
    from astropy.io import fits
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval, w.wcs.crpix, w.wcs.cdelt = [10.684, 41.269], [32.5, 32.5], [-0.005, 0.005]
    data = np.random.default_rng(1).normal(100, 5, (64, 64)).astype(np.float32)
    fits.PrimaryHDU(data, header=w.to_header()).writeto(path, overwrite=True)


def image_centre(path: Path) -> tuple[float, float]:
    from astropy.io import fits
    from astropy.wcs import WCS

    header = fits.getheader(path)
    w = WCS(header).celestial
    ra, dec = w.wcs_pix2world([[(header["NAXIS1"] - 1) / 2, (header["NAXIS2"] - 1) / 2]], 0)[0]
    return float(ra), float(dec)


def run(args: argparse.Namespace, d: Path) -> int:
    from astropy.table import Table

    report = Report()
    stack = Stack(args.tools, d, args.hub)
    t0 = time.monotonic()
    try:
        stack.start()
        print(f"stack ({args.hub} hub, TOPCAT, Aladin) up in {time.monotonic() - t0:.1f} s")
        with Samp("vo-conformance", env={"SAMP_HUB": stack.samp_hub}) as samp:
            if args.query:
                body = run_query(args.service, args.query)
                sent = Table.read(io.BytesIO(body), format="votable")
                source: Any = body
            else:
                sent = source = sample_table()
            t = time.monotonic()
            delivery = samp.send_table(source, "topcat", name="conformance")
            took = f"{str(delivery.replies[0])} in {time.monotonic() - t:.2f} s"
            report.check("table.load.votable -> TOPCAT", delivery.ok, took)
            t = time.monotonic()
            reply = call_until_ok(samp, "topcat", highlight_row(delivery.ident, delivery.url, 0))
            took = f"{reply} after {time.monotonic() - t:.2f} s (TOPCAT registers tables late)"
            report.check("table.highlight.row by table-id", reply.ok, took)
            stil = call_until_ok(samp, "topcat", message("table.get.stil", format="votable"))
            with urllib.request.urlopen(stil.result["url"], timeout=30) as resp:
                back = Table.read(io.BytesIO(resp.read()), format="votable")
            problems = compare_tables(sent, back)
            report.check(
                "TOPCAT's copy (table.get.stil)",
                not problems,
                "; ".join(problems) or f"{len(sent)} rows x {len(sent.colnames)} columns identical",
            )

            image = Path(args.image) if args.image else d / "sample.fits"
            if not args.image:
                sample_image(image)
            ra, dec = image_centre(image)
            t = time.monotonic()
            delivery = samp.send_image(image, "Aladin", name="conformance_image")
            took = f"{str(delivery.replies[0])} in {time.monotonic() - t:.2f} s"
            report.check("image.load.fits -> Aladin", delivery.ok, took)
            sky = samp.send(message(GET_SKY), "Aladin").replies[0].result
            off = max(abs(float(sky["ra"]) - ra), abs(float(sky["dec"]) - dec))
            detail = f"{sky} vs ({ra:.5f}, {dec:.5f})"
            report.check("coord.get.sky = image centre", off < 0.02, detail)
            target = (ra + 0.05, dec - 0.04)
            delivery = samp.point_at(*target, to="Aladin")
            sky = samp.send(message(GET_SKY), "Aladin").replies[0].result
            off = max(abs(float(sky["ra"]) - target[0]), abs(float(sky["dec"]) - target[1]))
            report.check("coord.pointAt.sky moves Aladin", delivery.ok and off < 0.02, f"{sky}")
    finally:
        stack.stop()
    outcome = f"{report.failed} FAILED" if report.failed else "OK"
    print(f"{outcome} in {time.monotonic() - t0:.1f} s")
    return 1 if report.failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hub", choices=["jsamp", "vo"], default="jsamp")
    ap.add_argument("--service", help="TAP base URL (its /sync runs --query)")
    ap.add_argument("--query", help="ADQL whose result is sent to TOPCAT")
    ap.add_argument("--image", help="FITS file to send to Aladin (default: built-in)")
    tools = Path(os.environ.get("VO_SAMP_TOOLS", DEFAULT_TOOLS))
    ap.add_argument("--tools", type=Path, default=tools, help="../shared/tools/samp")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = ap.parse_args()
    if bool(args.service) != bool(args.query):
        ap.error("--service and --query go together")
    for jar in ("jsamp.jar", "starlink-topcat.jar", "aladin.jar"):
        if not (Path("/usr/share/java") / jar).exists():
            print(f"SKIP: /usr/share/java/{jar} missing (Debian packages jsamp topcat aladin xvfb)")
            return 77
    d = Path(tempfile.mkdtemp(prefix="vo-samp-conf-"))
    try:
        return run(args, d)
    finally:
        if args.keep:
            print(f"logs kept in {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
