"""A client that hangs up before its sync result starts gets its query cancelled."""

from __future__ import annotations

import socket
import time
import urllib.parse

import requests
from sqlalchemy import text

SLOW = ("SELECT COUNT(*) FROM hipparcos.hip2 AS a, hipparcos.hip2 AS b, hipparcos.hip2 AS c "
        "WHERE a.ra + b.ra > c.ra")


def _running(engine) -> int:
    with engine.connect() as c:
        return c.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND query LIKE '%hip2%hip2%hip2%' AND pid <> pg_backend_pid()")).scalar_one()


def _post(url: str, query: str) -> socket.socket:
    u = urllib.parse.urlsplit(url)
    body = urllib.parse.urlencode({"LANG": "ADQL", "QUERY": query, "FORMAT": "csv"}).encode()
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(
        f"POST /tap/sync HTTP/1.1\r\nHost: {u.netloc}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    )
    return s


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_hangup_cancels_the_running_query(live_url, demo_engine):
    s = _post(live_url, SLOW)
    assert _wait(lambda: _running(demo_engine) == 1, 20), "the slow query never started"
    s.close()
    # the sync execution duration is 60 s; the hang-up is noticed within a second or so
    assert _wait(lambda: _running(demo_engine) == 0, 10), "the query outlived its client"


def test_a_waiting_client_is_not_cancelled(live_url, demo_engine):
    # a query of a few seconds, and a client that waits quietly for it
    query = ("SELECT COUNT(*) AS n FROM hipparcos.hip2 AS a, hipparcos.hip2 AS b, "
             "hipparcos.hip2 AS c WHERE a.hip <= 2 AND a.ra + b.ra > c.ra - 1000")
    r = requests.post(f"{live_url}/tap/sync",
                      data={"LANG": "ADQL", "QUERY": query, "FORMAT": "csv"}, timeout=60)
    assert r.status_code == 200
    assert r.text.split() == ["n", "8000000"]
