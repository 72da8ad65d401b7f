"""The browser-side Web Profile client (vo/web/static/samp/samp.js) in headless Chromium.

A page served from 127.0.0.1 loads our JS client, registers with a hub's Web
Profile (SAMP 1.3 sec. 5, port 21012, registrations auto-accepted), and sends a
table.load.votable: broadcast (the snooper logs it) and called on TOPCAT (which
then holds the table under the page's table-id, with the page's values).

Port 21012 is fixed, so only one Web Profile hub can run per host: these tests
take a lock file and wait for the port to be free.
"""

from __future__ import annotations

import fcntl
import functools
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from astropy.table import Table
from samp_data import write_votable
from samp_desktop import REPO, Hub, call_until_ok, require, script, stop_hub, topcat_current_table

from vo.samp import Samp, find_hub
from vo.samp.messages import STATUS_OK, highlight_row

JS_CLIENT = REPO / "vo" / "web" / "static" / "samp" / "samp.js"
LOCK = Path("/tmp/vo-samp-web-profile.lock")
WEB_PORT = 21012

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>vo-suite SAMP Web Profile test</title>
<script src="/static/samp/samp.js"></script></head>
<body><pre id="status"></pre>
<button id="send" data-samp-table="/data/sources.vot" data-samp-name="web_button"
        data-samp-to="topcat">Send to TOPCAT</button>
<button id="send-nobody" data-samp-image="/data/none.fits" data-samp-to="nosuchtool">x</button>
<script>
VoSamp.wireButtons(document, "vo-web-buttons");
(async function () {
  var out = document.getElementById("status");
  try {
    var conn = await VoSamp.register("vo-web-page", {"samp.description.text": "test page"});
    var clients = await conn.clients();
    var broadcast = await conn.sendTable("/data/sources.vot",
      {name: "web_sources", tableId: "web-41"});
    var called = await conn.sendTable("/data/sources.vot",
      {name: "web_sources_called", tableId: "web-42", to: "topcat", wait: true});
    var unknown = "";
    try { await conn.sendTable("/data/sources.vot", {to: "nosuchtool"}); }
    catch (e) { unknown = e.message; }
    await conn.unregister();
    out.textContent = JSON.stringify({ok: true, self: conn.selfId, clients: clients,
      broadcast: broadcast, called: called, unknown: unknown});
  } catch (e) {
    out.textContent = JSON.stringify({ok: false, error: String(e && e.message || e)});
  }
})();
</script></body></html>
"""


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def web_profile_lock() -> Iterator[None]:
    with LOCK.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        deadline = time.monotonic() + 60
        while not port_free(WEB_PORT):
            if time.monotonic() > deadline:
                pytest.skip(f"port {WEB_PORT} is held by another Web Profile hub on this host")
            time.sleep(0.5)
        yield


@pytest.fixture(params=["jsamp", "vo"])
def web_hub(
    request: pytest.FixtureRequest,
    web_profile_lock: None,
    samp_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Hub]:
    """A hub with the Web Profile, auto-accepting: JSAMP's (-web:auth true) or ours."""
    require("tools", "java", "jsamp")
    if request.param == "jsamp":
        h = Hub("jsamp", samp_dir, script("hub.sh", "start", str(samp_dir), env={"SAMP_WEB": "1"}))
    else:
        value = f"std-lockurl:file://{samp_dir}/.samp"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vo.cli.samp",
                "hub",
                "--lockfile",
                str(samp_dir / ".samp"),
                "--web-auto-accept",
            ],
            cwd=REPO,
            env={**os.environ, "SAMP_HUB": value},
            stdout=(samp_dir / "vohub.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        h = Hub("vo", samp_dir, value, proc)
        deadline = time.monotonic() + 30
        while True:
            try:
                find_hub({"SAMP_HUB": value}, timeout=1.0)
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    stop_hub(h)
                    pytest.fail(
                        f"`vo samp hub --web-auto-accept` did not start: "
                        f"{(samp_dir / 'vohub.log').read_text()}"
                    )
                time.sleep(0.1)
    monkeypatch.setenv("SAMP_HUB", h.samp_hub)
    try:
        deadline = time.monotonic() + 15
        while port_free(WEB_PORT):
            if time.monotonic() > deadline:
                pytest.fail(f"the {h.kind} hub's Web Profile is not listening on {WEB_PORT}")
            time.sleep(0.2)
        yield h
    finally:
        stop_hub(h)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Table]]:
    """A tiny 'service' on 127.0.0.1: the test page, our JS client, a VOTable."""
    root = tmp_path / "site"
    (root / "static" / "samp").mkdir(parents=True)
    (root / "data").mkdir()
    shutil.copy(JS_CLIENT, root / "static" / "samp" / "samp.js")
    (root / "index.html").write_text(PAGE)
    table = write_votable(root / "data" / "sources.vot", nrows=9)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", table
    finally:
        server.shutdown()
        server.server_close()


def run_page(
    url: str, profile_dir: Path, timeout: float = 60, click: tuple[str, ...] = ()
) -> dict[str, object]:
    """Load the page in headless Chromium; the JSON its script writes to #status, plus
    for each id in ``click`` the data-samp-status its button ends with after a click."""
    require("chromium", "chromedriver")
    pytest.importorskip("selenium", reason="selenium (PyPI) is needed to drive Chromium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        driver.get(url)
        WebDriverWait(driver, timeout).until(lambda d: d.find_element(By.ID, "status").text.strip())
        result: dict[str, object] = json.loads(driver.find_element(By.ID, "status").text)
        for element_id in click:
            button = driver.find_element(By.ID, element_id)
            button.click()
            WebDriverWait(driver, timeout).until(
                lambda d, b=button: b.get_attribute("data-samp-status") not in (None, "sending")
            )
            result[element_id] = button.get_attribute("data-samp-status")
        return result
    finally:
        driver.quit()


def test_web_page_sends_table_through_web_profile(
    web_hub: Hub, site: tuple[str, Table], tmp_path: Path
) -> None:
    require("topcat", "xvfb")
    base, sent = site
    snoop = web_hub.dir / "snoop.txt"
    script("snoop.sh", str(web_hub.dir), str(snoop))
    script("topcat.sh", "start", str(web_hub.dir))
    try:
        t0 = time.monotonic()
        page = run_page(
            base + "/index.html", tmp_path / "chromium-profile", click=("send", "send-nobody")
        )
        elapsed = time.monotonic() - t0
        assert page.get("ok"), page
        names = {c["name"] for c in page["clients"]}  # type: ignore[union-attr]
        assert {"snooper", "topcat"} <= names, page
        [reply] = page["called"]["replies"]  # type: ignore[index]
        assert reply["status"] == STATUS_OK, page
        assert "SAMP-UNKNOWN-CLIENT" in str(page["unknown"]), page
        # the declarative buttons: one called TOPCAT (answered samp.ok), one had no one
        assert page["send"] == "ok", page
        assert str(page["send-nobody"]).startswith("SAMP-UNKNOWN-CLIENT: no single SAMP client"), (
            page
        )

        # the broadcast reached the snooper, with the page's absolute URL
        deadline = time.monotonic() + 15
        while '"web_sources"' not in snoop.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        log = snoop.read_text()
        assert '"samp.mtype": "table.load.votable"' in log
        assert f'"url": "{base}/data/sources.vot"' in log
        assert '"table-id": "web-41"' in log

        # TOPCAT holds the called table under the page's table-id, with its values
        with Samp("vo-test") as samp:
            assert call_until_ok(
                samp, "topcat", highlight_row("web-42", f"{base}/data/sources.vot", 0)
            ).ok
            data, _ = topcat_current_table(samp, "votable")
        back = Table.read(io.BytesIO(data), format="votable")
        assert list(back["source_id"]) == list(sent["source_id"])
        assert back["ra"].unit == sent["ra"].unit
        print(
            f"web profile ({web_hub.kind} hub): page registered, broadcast, called "
            f"in {elapsed:.1f} s"
        )
    finally:
        script("topcat.sh", "stop", str(web_hub.dir))
        script("snoop.sh", "stop", str(web_hub.dir))


CODEC_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><script src="/static/samp/samp.js"></script></head>
<body><pre id="status"></pre><script>
var results = {};
results.call = VoSamp.encodeCall("samp.webhub.notifyAll",
  ["key&1", {"samp.mtype": "table.load.votable",
             "samp.params": {"name": "a <b> & \\u00fc", "row-list": ["0", "7"], "n": 3}}]);
results.decoded = VoSamp.decodeResponse(
  '<?xml version="1.0"?><methodResponse><params><param><value><struct>' +
  '<member><name>samp.status</name><value>samp.ok</value></member>' +
  '<member><name>samp.result</name><value><struct><member><name>list</name><value><array><data>' +
  '<value><string>x &amp; y</string></value><value><i4>5</i4></value></data></array></value>' +
  '</member></struct></value></member></struct></value></param></params></methodResponse>');
try {
  VoSamp.decodeResponse('<?xml version="1.0"?><methodResponse><fault><value><struct>' +
    '<member><name>faultCode</name><value><int>1</int></value></member>' +
    '<member><name>faultString</name><value><string>Invalid key</string></value></member>' +
    '</struct></value></fault></methodResponse>');
} catch (e) { results.fault = {code: e.code, message: e.message}; }
document.getElementById("status").textContent = JSON.stringify(results);
</script></body></html>
"""


def test_js_client_xmlrpc_codec(site: tuple[str, Table], tmp_path: Path) -> None:
    """samp.js encodes SAMP values as XML-RPC strings/arrays/structs, escaped, and
    decodes responses and faults (SAMP 1.3 sec. 4.2; no hub needed)."""
    import xml.etree.ElementTree as ET
    import xmlrpc.client

    base, _ = site
    (tmp_path / "site" / "codec.html").write_text(CODEC_PAGE)  # the site fixture's root
    page = run_page(base + "/codec.html", tmp_path / "chromium-codec")
    # what the browser encoded, read back by Python's own XML-RPC parser
    params, method = xmlrpc.client.loads(page["call"])  # type: ignore[arg-type]
    assert method == "samp.webhub.notifyAll"
    assert params == (
        "key&1",
        {
            "samp.mtype": "table.load.votable",
            "samp.params": {"name": "a <b> & \u00fc", "row-list": ["0", "7"], "n": "3"},
        },
    )
    ET.fromstring(page["call"])  # well-formed
    assert page["decoded"] == {"samp.status": "samp.ok", "samp.result": {"list": ["x & y", "5"]}}
    assert page["fault"] == {
        "code": "SAMP-HUB-ERROR",
        "message": "SAMP-HUB-ERROR: the hub refused the request: Invalid key",
    }
