"""`vo samp` commands against real hubs, with JSAMP's snooper as the observer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from samp_data import write_votable
from samp_desktop import REPO, Hub, start_vo_hub

from vo.cli.samp import samp as samp_cli
from vo.samp import Samp, SampHub, SampHubRunning, find_hub
from vo.samp.fileserver import FileServer


def wait_for_text(path: Path, text: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while True:
        content = path.read_text(errors="replace")
        if text in content or time.monotonic() > deadline:
            return content
        time.sleep(0.2)


def test_clients_lists_the_snooper(hub: Hub, snooper: Path) -> None:
    result = CliRunner().invoke(samp_cli, ["clients"])
    assert result.exit_code == 0, result.output
    [line] = [ln for ln in result.output.splitlines() if "\tsnooper\t" in ln]
    assert "*" in line.split("\t")[2]  # the snooper subscribes to every MType
    with Samp("vo-test") as samp:
        reply = samp.ping("snooper")
    assert (reply.client_name, reply.status) == ("snooper", "samp.ok")


def test_send_notify_serves_until_fetched_and_snooper_sees_it(
    hub: Hub, snooper: Path, tmp_path: Path
) -> None:
    path = tmp_path / "sources.vot"
    write_votable(path)
    result = CliRunner().invoke(samp_cli, ["send", str(path), "--notify", "--name", "m31_sources"])
    assert result.exit_code == 0, result.output
    assert "notified (table.load.votable" in result.output
    log = wait_for_text(snooper, '"name": "m31_sources"')
    assert '"samp.mtype": "table.load.votable"' in log
    assert f'"url": "file://localhost{path}"' in log


def test_send_call_to_snooper_reports_its_warning(hub: Hub, snooper: Path, tmp_path: Path) -> None:
    """The snooper answers direct calls samp.warning: reported, not an error."""
    path = tmp_path / "sources.vot"
    write_votable(path)
    result = CliRunner().invoke(samp_cli, ["send", str(path), "--to", "snooper", "--serve"])
    assert result.exit_code == 0, result.output
    assert "table -> snooper" in result.output and "samp.warning" in result.output


def test_point_broadcast_reaches_snooper(hub: Hub, snooper: Path) -> None:
    result = CliRunner().invoke(samp_cli, ["point", "10.684", "41.269"])
    assert result.exit_code == 0, result.output
    log = wait_for_text(snooper, "coord.pointAt.sky")
    assert '"ra": "10.684"' in log and '"dec": "41.269"' in log


def test_vo_samp_hub_stops_on_sigterm_and_removes_its_lockfile(samp_dir: Path) -> None:
    hub = start_vo_hub(samp_dir)
    assert hub.process is not None
    with Samp("vo-test", env={"SAMP_HUB": hub.samp_hub}) as samp:
        assert any(c.name == "PyVO SAMP Hub" for c in samp.clients())
    hub.process.send_signal(signal.SIGTERM)
    assert hub.process.wait(timeout=20) == 0
    assert not hub.lockfile.exists()
    assert "SAMP hub stopped" in (samp_dir / "vohub.log").read_text()


def test_second_hub_on_same_lockfile_is_refused(
    samp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lockfile = samp_dir / ".samp"
    monkeypatch.delenv("SAMP_HUB", raising=False)
    with SampHub(lockfile) as first:
        assert find_hub({"SAMP_HUB": first.samp_hub_value}).lockfile.endswith("/.samp")
        with pytest.raises(SampHubRunning, match="already answers"):
            SampHub(lockfile).start()
        proc = subprocess.run(
            [sys.executable, "-m", "vo.cli.samp", "hub", "--lockfile", str(lockfile)],
            cwd=REPO,
            env={**os.environ, "SAMP_HUB": first.samp_hub_value},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 1
        assert "SAMP-HUB-RUNNING" in proc.stderr
    assert not lockfile.exists()


def test_file_server_serves_only_published_files(tmp_path: Path) -> None:
    path = tmp_path / "t.vot"
    write_votable(path)
    files = FileServer()
    try:
        url = files.publish(path)
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.read() == path.read_bytes()
            assert resp.headers["Content-Type"] == "application/x-votable+xml"
        assert files.fetch_count(path) == 1
        guessed = url.rsplit("/", 2)[0] + "/t.vot"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(guessed, timeout=10)
        assert err.value.code == 404
    finally:
        files.close()


def test_send_query_with_unreachable_service_says_what_to_do() -> None:
    """--query runs before any hub is needed; the TAP service being down is reported."""
    result = CliRunner().invoke(
        samp_cli,
        ["send", "--query", "SELECT TOP 5 * FROM gaia.dr3", "--service", "http://127.0.0.1:9/tap"],
    )
    assert result.exit_code == 1
    assert (
        "SAMP-QUERY-FAILED: cannot reach the TAP service at http://127.0.0.1:9/tap/sync"
        in result.output
    )
    assert "--service" in result.output


def test_send_needs_exactly_one_source() -> None:
    result = CliRunner().invoke(samp_cli, ["send"])
    assert result.exit_code == 2
    assert "give exactly one of SOURCE (file or URL) or --query ADQL" in result.output
