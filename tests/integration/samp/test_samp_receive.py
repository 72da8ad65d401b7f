"""Receiving: a table another tool sends us reaches our callback, with its metadata.

The sender is JSAMP's command-line messagesender, a real third-party SAMP client;
it prints the reply our bridge gives (samp.ok, or samp.error with our message).
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from samp_data import write_votable
from samp_desktop import JSAMP_JAR, Hub, require

from vo.samp import IncomingTable, Samp


def jsamp_send(hub: Hub, target: str, mtype: str, **params: str) -> str:
    args = [
        "java",
        "-Xmx64m",
        "-cp",
        str(JSAMP_JAR),
        "org.astrogrid.samp.JSamp",
        "messagesender",
        "-mtype",
        mtype,
        "-targetname",
        target,
        "-mode",
        "sync",
        "-sendername",
        "jsamp-sender",
    ]
    for key, value in params.items():
        args += ["-param", key.replace("_", "-"), value]
    proc = subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=60,
        env={"SAMP_HUB": hub.samp_hub, "PATH": "/usr/bin:/bin"},
    )
    return proc.stdout + proc.stderr


def test_table_sent_to_us_reaches_callback_with_units(hub: Hub, tmp_path: Path) -> None:
    require("java", "jsamp")
    path = tmp_path / "from_topcat.vot"
    sent = write_votable(path)
    got: list[IncomingTable] = []
    arrived = threading.Event()

    def on_table(table: IncomingTable) -> None:
        got.append(table)
        arrived.set()

    with Samp("vo-receiver") as samp:
        samp.on_table(on_table)
        out = jsamp_send(
            hub,
            "vo-receiver",
            "table.load.votable",
            url=f"file://localhost{path}",
            table_id="t-42",
            name="from_jsamp",
        )
        assert '"samp.ok"' in out, out
        assert arrived.wait(10)
        [table] = got
        assert (table.table_id, table.name, table.sender_name) == (
            "t-42",
            "from_jsamp",
            "jsamp-sender",
        )
        received = table.read()
        assert list(received["ra"]) == list(sent["ra"])
        assert received["ra"].unit == sent["ra"].unit


def test_failing_callback_answers_samp_error_with_its_message(hub: Hub) -> None:
    require("java", "jsamp")

    def refuse(table: IncomingTable) -> None:
        raise ValueError("uploads are limited to 100 MB")

    with Samp("vo-receiver") as samp:
        samp.on_table(refuse)
        out = jsamp_send(hub, "vo-receiver", "table.load.votable", url="http://127.0.0.1:9/x.vot")
    assert '"samp.error"' in out, out
    assert "uploads are limited to 100 MB" in out


def test_pyvo_result_set_travels_as_its_votable_with_metadata(hub: Hub, tmp_path: Path) -> None:
    """A pyvo result set (what pyvo's TAP search returns) is sent as its own VOTable."""
    from astropy.io.votable import parse
    from pyvo.dal import DALResults

    path = tmp_path / "result.vot"
    sent = write_votable(path)
    results = DALResults(parse(str(path)), url="http://127.0.0.1:8080/tap/sync")
    got: list[IncomingTable] = []
    arrived = threading.Event()
    with Samp("vo-receiver") as receiver, Samp("vo-sender") as sender:
        receiver.on_table(lambda t: (got.append(t), arrived.set()))
        delivery = sender.send_table(results, "vo-receiver", name="pyvo_result")
        assert delivery.ok and arrived.wait(10)
        received = got[0].read()
    assert got[0].url.startswith("http://127.0.0.1:")
    assert list(received["source_id"]) == list(sent["source_id"])
    for name in sent.colnames:
        assert received[name].unit == sent[name].unit
        assert received[name].meta.get("ucd") == sent[name].meta.get("ucd")
        assert received[name].description == sent[name].description


def test_vo_samp_receive_saves_the_sent_bytes(hub: Hub, tmp_path: Path) -> None:
    """`vo samp receive` registers, saves what a tool sends byte for byte, and stops."""
    require("java", "jsamp")
    import os
    import sys
    import time

    from samp_desktop import REPO

    path = tmp_path / "sources.vot"
    write_votable(path)
    out_dir = tmp_path / "received"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vo.cli.samp",
            "receive",
            "--dir",
            str(out_dir),
            "--count",
            "1",
            "--name",
            "vo-inbox",
        ],
        cwd=REPO,
        env={**os.environ, "SAMP_HUB": hub.samp_hub},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "registered as 'vo-inbox'" in first, first
        # sent with our bridge: JSAMP's messagesender asks for the receiver's metadata
        # after the reply, by when `--count 1` has already unregistered it
        with Samp("vo-sender") as sender:
            delivery = sender.send_table(path, "vo-inbox", name="m31 sources")
        assert delivery.replies[0].status == "samp.ok", delivery
        assert proc.wait(timeout=30) == 0
        saved = out_dir / "m31_sources.vot"
        assert f"saved {saved}" in proc.stdout.read()
        assert saved.read_bytes() == path.read_bytes()
    finally:
        if proc.poll() is None:
            proc.kill()
            time.sleep(0.1)
