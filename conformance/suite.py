"""The suite under test: a fresh state directory, demo + synthetic data, `vo serve` on loopback.

Everything goes through the operator's own commands (``vo db start``, ``vo ingest``,
``vo serve``) with ``VO_DATA_DIR`` pointing at a new directory, so the run proves
what a fresh install does. The synthetic catalogue comes from
../shared/bench/make_catalog.py. Only processes started here are stopped, by pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
MAKE_CATALOG = Path(os.environ.get("VO_SHARED_DIR", ROOT.parent / "shared")) / "bench" / \
    "make_catalog.py"
SYNTHETIC_TABLE = "bench.synthetic"


class SuiteError(RuntimeError):
    """The suite could not be set up; the message names the step and its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SuiteUnderTest:
    """Start/stop the suite; ``base_url`` once started."""

    def __init__(self, work_dir: Path, synthetic_rows: int, port: int | None = None,
                 log=print) -> None:  # type: ignore[no-untyped-def]
        self.work_dir = work_dir
        self.data_dir = work_dir / "state"
        self.synthetic_rows = synthetic_rows
        self.port = port or free_port()
        self.log = log
        self.server: subprocess.Popen[bytes] | None = None
        self.timings: dict[str, float] = {}
        self.env = {**os.environ, "VO_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1"}
        self.env.pop("VO_DATABASE_URL", None)
        self.env.pop("VO_CONFIG", None)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _vo(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "vo.cli.main", *args]

    def _run(self, step: str, cmd: list[str], timeout: float) -> None:
        logf = self.work_dir / f"{step}.log"
        t0 = time.monotonic()
        with open(logf, "wb") as fh:
            proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=self.env,
                                  timeout=timeout, check=False, cwd=ROOT)
        self.timings[step] = round(time.monotonic() - t0, 2)
        if proc.returncode != 0:
            tail = logf.read_text(errors="replace").strip().splitlines()[-5:]
            raise SuiteError(f"{step} failed (exit {proc.returncode}); {logf}: "
                             + " | ".join(tail))

    def prepare(self) -> None:
        """Fresh state dir, private cluster, demo tables and the synthetic catalogue."""
        if not MAKE_CATALOG.exists():
            raise SuiteError(f"{MAKE_CATALOG} not found: set VO_SHARED_DIR to the shared folder "
                             "(with bench/, standards/, conformance/adql/)")
        if self.data_dir.exists():
            self._stop_cluster()
            shutil.rmtree(self.data_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.log(f"state directory {self.data_dir}")
        self._run("db-start", self._vo("db", "start"), 180)
        csv = self.work_dir / f"synthetic_{self.synthetic_rows}.csv"
        make = subprocess.Popen([sys.executable, str(MAKE_CATALOG), "--rows",
                                 str(self.synthetic_rows), "--out", str(csv)], cwd=ROOT)
        self.log("ingesting the demo catalogues (hipparcos.hip2, gaia.dr3_bright)...")
        self._run("ingest-demo", self._vo("ingest", "--demo", "--quiet"), 900)
        if make.wait(timeout=600) != 0:
            raise SuiteError(f"{MAKE_CATALOG} failed (exit {make.returncode})")
        self.log(f"ingesting {self.synthetic_rows} synthetic rows as {SYNTHETIC_TABLE}...")
        self._run("ingest-synthetic", self._vo("ingest", str(csv), "--table", SYNTHETIC_TABLE,
                                                "--description", "Synthetic catalogue "
                                                "(make_catalog.py) for conformance runs",
                                                "--quiet"), 900)
        csv.unlink(missing_ok=True)

    def start(self, timeout: float = 180) -> None:
        """`vo serve` (gunicorn + a UWS worker) on a free loopback port; wait for VOSI."""
        logf = open(self.work_dir / "serve.log", "wb")  # noqa: SIM115 - lives with the server
        self.server = subprocess.Popen(self._vo("serve", "--host", "127.0.0.1", "--port",
                                                str(self.port)),
                                       stdout=logf, stderr=subprocess.STDOUT, env=self.env,
                                       cwd=ROOT, start_new_session=True)
        t0 = time.monotonic()
        url = self.base_url + "/tap/availability"
        while time.monotonic() - t0 < timeout:
            if self.server.poll() is not None:
                raise SuiteError(f"vo serve exited with status {self.server.returncode}; "
                                 f"see {self.work_dir / 'serve.log'}")
            try:
                r = requests.get(url, timeout=5)
                if r.ok and b"<available>true</available>" in r.content.replace(b" ", b""):
                    self.timings["serve-start"] = round(time.monotonic() - t0, 2)
                    self.log(f"service up at {self.base_url} "
                             f"after {self.timings['serve-start']} s")
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SuiteError(f"{url} did not report available within {timeout} s")

    def stop(self, keep: bool = False) -> None:
        """Stop the server (SIGTERM, which `vo serve` forwards), the cluster, clean up."""
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=10)
        self._stop_cluster()
        if not keep and self.data_dir.exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _stop_cluster(self) -> None:
        subprocess.run(self._vo("db", "stop"), env=self.env, cwd=ROOT, capture_output=True,
                       timeout=120, check=False)
