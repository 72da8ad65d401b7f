"""Fixtures: a fresh DIR per test with its own hub (JSAMP's or ours) and desktop tools.

``hub`` is parametrised over both hubs the bridge must work with: JSAMP's (the
shared hub.sh) and pyvo's hub server started by ``vo samp hub``. Tools started for
a test are stopped after it, before its hub.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from samp_desktop import (  # noqa: E402
    Hub,
    require,
    script,
    start_jsamp_hub,
    start_vo_hub,
    stop_hub,
)


@pytest.fixture
def samp_dir(tmp_path: Path) -> Path:
    d = tmp_path / "samp"
    d.mkdir()
    assert " " not in str(d), "SAMP test DIR must not contain spaces (file: URLs)"
    return d


@pytest.fixture(params=["jsamp", "vo"])
def hub(
    request: pytest.FixtureRequest, samp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Hub]:
    """A running hub in samp_dir, SAMP_HUB pointing at it."""
    h = start_jsamp_hub(samp_dir) if request.param == "jsamp" else start_vo_hub(samp_dir)
    monkeypatch.setenv("SAMP_HUB", h.samp_hub)
    try:
        yield h
    finally:
        stop_hub(h)


@pytest.fixture
def topcat(hub: Hub) -> Iterator[str]:
    require("tools", "java", "jsamp", "topcat", "xvfb")
    script("topcat.sh", "start", str(hub.dir))
    try:
        yield "topcat"
    finally:
        script("topcat.sh", "stop", str(hub.dir))


@pytest.fixture
def aladin(hub: Hub) -> Iterator[str]:
    require("tools", "java", "jsamp", "aladin", "xvfb")
    script("aladin.sh", "start", str(hub.dir))
    # aladin.sh returns once Aladin answers ping, but a load arriving before its log
    # says "fully ready" hits an NPE (Calque.newPlan: aladin.dialog is null) and is
    # never answered; wait for that line
    log, deadline = hub.dir / "aladin.log", time.monotonic() + 60
    while "Aladin is fully ready" not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            script("aladin.sh", "stop", str(hub.dir))
            pytest.fail(f"Aladin never got fully ready, see {log}")
        time.sleep(0.2)
    try:
        yield "Aladin"
    finally:
        script("aladin.sh", "stop", str(hub.dir))


@pytest.fixture
def snooper(hub: Hub) -> Iterator[Path]:
    """JSAMP's snooper (subscribes to every MType); yields the file it logs to."""
    require("tools", "java", "jsamp")
    out = hub.dir / "snoop.txt"
    script("snoop.sh", str(hub.dir), str(out))
    try:
        yield out
    finally:
        script("snoop.sh", "stop", str(hub.dir))
