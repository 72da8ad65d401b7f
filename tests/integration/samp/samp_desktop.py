"""Helpers for SAMP tests with real hubs and desktop tools (../shared/tools/samp/).

Each test gets its own DIR: its hub lockfile DIR/.samp, its Xvfb displays, logs
and PID files; the shared scripts stop exactly the PIDs they recorded there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
TOOLS = Path(os.environ.get("VO_SAMP_TOOLS", REPO.parent / "shared" / "tools" / "samp"))
JSAMP_JAR = Path("/usr/share/java/jsamp.jar")
TOPCAT_JAR = Path("/usr/share/java/starlink-topcat.jar")
ALADIN_JAR = Path("/usr/share/java/aladin.jar")


def require(*what: str) -> None:
    """Skip the test, saying which Debian package is missing."""
    checks = {
        "tools": (TOOLS.is_dir(), f"SAMP test scripts not found at {TOOLS} (set VO_SAMP_TOOLS)"),
        "java": (shutil.which("java") is not None, "java not installed (Debian: default-jre)"),
        "jsamp": (JSAMP_JAR.is_file(), "JSAMP not installed (Debian package jsamp)"),
        "topcat": (TOPCAT_JAR.is_file(), "TOPCAT not installed (Debian package topcat)"),
        "aladin": (ALADIN_JAR.is_file(), "Aladin not installed (Debian package aladin)"),
        "xvfb": (shutil.which("Xvfb") is not None, "Xvfb not installed (Debian package xvfb)"),
        "chromium": (
            Path("/usr/bin/chromium").exists(),
            "Chromium not installed (Debian package chromium)",
        ),
        "chromedriver": (
            Path("/usr/bin/chromedriver").exists(),
            "chromedriver not installed (Debian package chromium-driver)",
        ),
    }
    for name in what:
        ok, reason = checks[name]
        if not ok:
            pytest.skip(reason)


def script(name: str, *args: str, env: dict[str, str] | None = None, timeout: float = 180) -> str:
    """Run one of the shared scripts; its stdout, or a failure with its stderr."""
    proc = subprocess.run(
        [str(TOOLS / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        pytest.fail(f"{name} {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


@dataclass
class Hub:
    kind: str  # "jsamp" (hub.sh) or "vo" (`vo samp hub`, pyvo's hub server)
    dir: Path
    samp_hub: str  # the SAMP_HUB value
    process: subprocess.Popen[str] | None = None

    @property
    def lockfile(self) -> Path:
        return self.dir / ".samp"


def start_jsamp_hub(d: Path, web: bool = False) -> Hub:
    require("tools", "java", "jsamp")
    value = script("hub.sh", "start", str(d), env={"SAMP_WEB": "1" if web else "0"})
    return Hub("jsamp", d, value)


def start_vo_hub(d: Path) -> Hub:
    """``python -m vo.cli.samp hub --lockfile DIR/.samp`` in a subprocess, until it answers."""
    from vo.samp.hub import find_hub

    value = f"std-lockurl:file://{d}/.samp"
    env = {**os.environ, "SAMP_HUB": value}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vo.cli.samp", "hub", "--lockfile", str(d / ".samp")],
        cwd=REPO,
        env=env,
        stdout=open(d / "vohub.log", "w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            find_hub({"SAMP_HUB": value}, timeout=1.0)
            break
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"`vo samp hub` did not start: {(d / 'vohub.log').read_text()}")
            time.sleep(0.1)
    return Hub("vo", d, value, proc)


def stop_hub(hub: Hub) -> None:
    if hub.kind == "jsamp":
        script("hub.sh", "stop", str(hub.dir))
        return
    assert hub.process is not None
    if hub.process.poll() is None:
        hub.process.send_signal(signal.SIGTERM)
        try:
            hub.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            hub.process.kill()
            hub.process.wait()


def call_until_ok(bridge: Any, to: str, message: dict[str, Any], timeout: float = 30.0) -> Any:
    """Call ``to`` until it answers samp.ok (TOPCAT answers table.load.* before its GUI
    registers the table, so queries right after it fail for up to ~1.5 s)."""
    from vo.samp import SampCallFailed

    deadline = time.monotonic() + timeout
    while True:
        try:
            return bridge.send(message, to).replies[0]
        except SampCallFailed:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def topcat_current_table(bridge: Any, fmt: str = "votable") -> tuple[bytes, str]:
    """TOPCAT's current table as served by TOPCAT itself (``table.get.stil``)."""
    from vo.samp.messages import message

    reply = call_until_ok(bridge, "topcat", message("table.get.stil", format=fmt))
    url = reply.result["url"]
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read(), url


__all__ = [
    "Hub",
    "call_until_ok",
    "require",
    "script",
    "start_jsamp_hub",
    "start_vo_hub",
    "stop_hub",
    "topcat_current_table",
]
