"""The web app: one error handler per endpoint family, 500s without tracebacks, wsgi entry."""

from __future__ import annotations

import os
import subprocess
import sys

from vo.errors import VOError


def test_unexpected_exception_is_logged_and_500_votable(app, caplog):
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/tap/boom", "boom", boom)
    r = app.test_client().get("/tap/boom")
    assert r.status_code == 500
    assert r.mimetype == "application/x-votable+xml"
    assert b'value="ERROR"' in r.data and b"INTERNAL" in r.data
    assert b"Traceback" not in r.data and b"secret internal detail" not in r.data
    assert any("unexpected failure" in rec.message for rec in caplog.records)


def test_voerror_outside_protocols_is_plain_text(app):
    def refuse() -> None:
        raise VOError("no", code="X-TEST", http_status=409)

    app.add_url_rule("/plain", "plain", refuse)
    r = app.test_client().get("/plain")
    assert r.status_code == 409 and r.data == b"X-TEST: no\n"


def test_method_not_allowed_is_dali(client):
    r = client.delete("/tap/sync")
    assert r.status_code == 405 and b'value="ERROR"' in r.data
    assert "GET" in r.headers.get("Allow", "")


def test_uws_job_errors_use_uws_style(client):
    r = client.get("/tap/async/doesnotexist")
    assert r.status_code == 404
    assert r.mimetype == "text/plain"


def test_wsgi_app_from_env(db_url, tmp_path):
    code = (
        "from vo.web.wsgi import app_from_env\n"
        "app = app_from_env()\n"
        "r = app.test_client().get('/tap/availability')\n"
        "assert r.status_code == 200, r.data\n"
        "print('ok', app.extensions['vo.engine'].pool.size())\n"
    )
    env = {
        **os.environ,
        "VO_DATABASE_URL": db_url,
        "VO_DATA_DIR": str(tmp_path),
        "VO_THREADS": "12",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["ok", "14"]  # one connection per gunicorn thread + 2
