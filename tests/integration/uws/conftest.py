"""Fixtures for UWS tests: real worker processes and a real web server on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).parent
REPO = HERE.parents[2]
STANDARDS = Path(os.environ.get("VO_STANDARDS_DIR", REPO.parent / "shared" / "standards"))
UWS_XSD = STANDARDS / "UWS" / "UWS-v1.1.xsd"
XLINK_XSD = STANDARDS / "_common-xsd" / "xlink.xsd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_env(db_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VO_")}
    env.update(VO_DATABASE_URL=db_url, VO_DATA_DIR=str(data_dir),
               PYTHONPATH=os.pathsep.join([str(HERE), str(REPO)]), VO_LOG_LEVEL="INFO")
    env.update(extra)
    return env


class Processes:
    """Starts workers and web servers for one test; kills what is left at the end."""

    def __init__(self, db_url: str, data_dir: Path, log_dir: Path) -> None:
        self.db_url = db_url
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.port = free_port()

    def _spawn(self, args: list[str], log_name: str, **env: str) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / log_name, "ab")
        p = subprocess.Popen(args, env=process_env(self.db_url, self.data_dir, **env),
                             stdout=log, stderr=subprocess.STDOUT, cwd=HERE,
                             start_new_session=True)
        self.procs.append(p)
        return p

    def worker(self, *, concurrency: int = 1, stalled_after: float = 4.0, max_attempts: int = 2,
               kinds: str = "uws_kinds:register", **env: str) -> subprocess.Popen[bytes]:
        return self._spawn([sys.executable, "-m", "vo.uws.worker", "--kinds", kinds,
                            "--concurrency", str(concurrency), "--heartbeat", "1",
                            "--stalled-after", str(stalled_after), "--maintenance", "1",
                            "--max-attempts", str(max_attempts), "--shutdown-grace", "1",
                            "--orphan-grace", "2"],
                           f"worker-{len(self.procs)}.log", **env)

    def web(self, app: str = "uws_app:create()", **env: str) -> subprocess.Popen[bytes]:
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        p = self._spawn([gunicorn, "-b", f"127.0.0.1:{self.port}", "-w", "1", "-k", "gthread",
                         "--threads", "8", "--graceful-timeout", "2", app],
                        f"web-{len(self.procs)}.log", **env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/tap/async", timeout=5)
                return p
            except (requests.ConnectionError, requests.Timeout):
                if p.poll() is not None:
                    raise RuntimeError(f"web server exited: {self.logs()}") from None
                time.sleep(0.1)
        raise RuntimeError("web server did not start")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self, p: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        if p.poll() is None:
            os.killpg(p.pid, sig)
            p.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-3000:]}"
                         for f in sorted(self.log_dir.glob("*.log")))

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)


@pytest.fixture
def processes(db_url: str, settings, tmp_path: Path) -> Iterator[Processes]:  # type: ignore[no-untyped-def]
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = Processes(db_url, settings.data_dir, logs)
    try:
        yield procs
    finally:
        procs.close()


@pytest.fixture(scope="session")
def uws_schema():  # type: ignore[no-untyped-def]
    import xmlschema

    return xmlschema.XMLSchema(str(UWS_XSD), locations=[
        ("http://www.w3.org/1999/xlink", str(XLINK_XSD))])


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, step: float = 0.1,
             what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
