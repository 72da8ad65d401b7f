"""`vo samp send --query`: a TAP result reaches a SAMP client with its values and metadata."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pyvo

from vo.samp import Samp, SampHub


def test_query_result_arrives_through_samp(live_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:file://{tmp_path / '.samp'}")
    adql = "SELECT TOP 5 hip, ra, dec, hpmag FROM hipparcos.hip2 ORDER BY hip"
    hub = SampHub().start()
    got: list = []
    arrived = threading.Event()
    try:
        with Samp("receiver") as rx:
            def on_table(table) -> None:
                got.append(table.read())  # fetched while the sender still serves it
                arrived.set()

            rx.on_table(on_table)
            res = subprocess.run(
                [sys.executable, "-m", "vo.cli.main", "samp", "send", "--query", adql,
                 "--service", f"{live_url}/tap", "--to", "receiver"],
                env={**os.environ}, capture_output=True, text=True, timeout=180)
            assert res.returncode == 0, res.stderr
            assert arrived.wait(60)
    finally:
        hub.stop()
    (table,) = got
    direct = pyvo.dal.TAPService(f"{live_url}/tap").run_sync(adql).to_table()
    assert list(table["hip"]) == list(direct["hip"]) and len(table) == 5
    assert list(table["hpmag"]) == list(direct["hpmag"])
    assert str(table["ra"].unit) == "deg" and str(table["hpmag"].unit) == "mag"
