"""Real clients against a real server on loopback: pyvo, astroquery, stilts tapquery."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
from astropy.table import Table


def test_pyvo_sync_formats_and_overflow(live_url):
    import pyvo

    svc = pyvo.dal.TAPService(f"{live_url}/tap")
    res = svc.run_sync("SELECT TOP 7 hip, ra, dec FROM hipparcos.hip2 ORDER BY hip")
    assert len(res) == 7 and list(res["hip"]) == list(range(1, 8))
    over = svc.run_sync("SELECT hip FROM hipparcos.hip2", maxrec=5)
    assert len(over) == 5
    assert over.query_status == "OVERFLOW"  # from the trailing INFO (DALI 1.1 sec. 4.4.1)
    for fmt in ("votable", "votable/td", "votable/b"):
        r = svc.run_sync("SELECT TOP 3 hip FROM hipparcos.hip2", format=fmt)
        assert len(r) == 3


def test_pyvo_metadata(live_url):
    import pyvo

    svc = pyvo.dal.TAPService(f"{live_url}/tap")
    names = [t.name for t in svc.tables]
    assert "hipparcos.hip2" in names
    cols = [c.name for c in svc.tables["hipparcos.hip2"].columns]
    assert cols[:3] == ["hip", "ra", "dec"]
    assert svc.maxrec == 1000 and svc.hardlimit == 5000
    langs = (
        [lang.name for lang in svc.capabilities[0].languages]
        if hasattr(svc.capabilities[0], "languages")
        else []
    )
    assert "ADQL" in langs
    assert svc.upload_methods
    examples = svc.examples
    assert examples and any("hipparcos.hip2" in e["QUERY"] for e in examples)
    for ex in examples:
        ex.execute()  # every example runs


def test_pyvo_error_message(live_url):
    import pyvo

    svc = pyvo.dal.TAPService(f"{live_url}/tap")
    with pytest.raises(pyvo.dal.DALQueryError) as ei:
        svc.run_sync("SELECT nosuch FROM hipparcos.hip2")
    assert "nosuch" in str(ei.value)


def _votable_bytes(t: Table) -> bytes:
    buf = io.BytesIO()
    t.write(buf, format="votable")
    return buf.getvalue()


def test_pyvo_uploads_file_and_url(live_url):
    import pyvo

    svc = pyvo.dal.TAPService(f"{live_url}/tap")
    t = Table({"k": np.array([1, 2, 3], dtype=np.int32), "x": np.array([0.5, 1.5, 2.5])})
    r = svc.run_sync("SELECT k, x FROM TAP_UPLOAD.t1 ORDER BY k", uploads={"t1": t})
    assert list(r["k"]) == [1, 2, 3]
    body = _votable_bytes(t)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/t.vot")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-votable+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    srv = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_port}/t.vot"
        r = svc.run_sync("SELECT sum(x) AS s FROM TAP_UPLOAD.remote", uploads={"remote": url})
        assert float(r["s"][0]) == pytest.approx(4.5)
        moved = f"http://127.0.0.1:{srv.server_port}/moved"  # redirects are followed
        r = svc.run_sync("SELECT COUNT(*) AS n FROM TAP_UPLOAD.remote", uploads={"remote": moved})
        assert int(r["n"][0]) == 3
    finally:
        srv.shutdown()


def test_url_upload_to_loopback_refused_by_default(live_url, tap_settings, demo_engine):
    from vo.web import create_app

    app = create_app(tap_settings.replace(upload_allow_private_urls=False), demo_engine)
    r = app.test_client().post(
        "/tap/sync",
        data={
            "LANG": "ADQL",
            "QUERY": "SELECT * FROM TAP_UPLOAD.x",
            "UPLOAD": f"x,{live_url}/tap/availability",
        },
    )
    assert r.status_code == 400 and b"TAP-UPLOAD-PRIVATE" in r.data


def test_astroquery_tapplus(live_url):
    from astroquery.utils.tap.core import TapPlus

    tap = TapPlus(url=f"{live_url}/tap", verbose=False)
    job = tap.launch_job("SELECT TOP 4 hip, ra FROM hipparcos.hip2 ORDER BY hip")
    t = job.get_results()
    assert list(t["hip"]) == [1, 2, 3, 4]
    up = Table({"k": np.array([5, 6], dtype=np.int32)})
    job = tap.launch_job(
        "SELECT k FROM TAP_UPLOAD.mine ORDER BY k", upload_resource=up, upload_table_name="mine"
    )
    assert list(job.get_results()["k"]) == [5, 6]


def test_astroquery_pyvo_based(live_url):
    import pyvo
    from astroquery.utils.tap import TapPlus  # noqa: F401 - the legacy interface above

    # astroquery's modern modules (e.g. astroquery.ipac, .simbad) wrap pyvo.dal.TAPService
    svc = pyvo.dal.TAPService(f"{live_url}/tap")
    t = svc.search("SELECT TOP 2 hip FROM hipparcos.hip2 ORDER BY hip").to_table()
    assert list(t["hip"]) == [1, 2]


@pytest.mark.skipif(shutil.which("stilts") is None, reason="stilts not installed")
def test_stilts_tapquery(live_url):
    out = subprocess.run(
        [
            "stilts",
            "tapquery",
            f"tapurl={live_url}/tap",
            "adql=SELECT TOP 3 hip FROM hipparcos.hip2 ORDER BY hip",
            "sync=true",
            "ofmt=csv",
            "out=-",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["hip", "1", "2", "3"]


def test_client_going_away_mid_stream_releases_the_connection(tap_settings, demo_engine):
    """A client that stops reading early: the server closes the cursor and transaction."""
    import time

    import requests
    from sqlalchemy import text
    from werkzeug.serving import make_server

    from vo.web import create_app

    settings = tap_settings.replace(maxrec_hard=4_000_000, maxrec_default=4_000_000)
    server = make_server("127.0.0.1", 0, create_app(settings, demo_engine), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/tap/sync"
    query = "SELECT a.hip, b.hip AS h2 FROM hipparcos.hip2 AS a, hipparcos.hip2 AS b"

    def busy() -> int:
        with demo_engine.connect() as c:
            return int(
                c.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid() AND (state LIKE 'idle in transaction%'"
                        " OR state = 'active')"
                    )
                ).scalar()
            )

    try:
        with requests.post(
            url,
            stream=True,
            timeout=60,
            data={"LANG": "ADQL", "RESPONSEFORMAT": "votable/td", "QUERY": query},
        ) as r:
            assert r.status_code == 200
            blocks = r.iter_content(1024)  # kept referenced: the connection stays open
            next(blocks)
            time.sleep(0.5)
            assert busy() == 1  # 4M rows: the query is still streaming
            del blocks
        deadline = time.monotonic() + 20
        while busy() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert busy() == 0
    finally:
        server.shutdown()
