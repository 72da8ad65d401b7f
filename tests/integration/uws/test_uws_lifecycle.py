"""UWS 1.1 job life cycle against real processes: gunicorn web server + worker."""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET

import requests
from astropy.io.votable import parse_single_table
from conftest import Processes, wait_for

NS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0", "xlink": "http://www.w3.org/1999/xlink"}


def phase_of(doc: bytes) -> str:
    return ET.fromstring(doc).findtext("uws:phase", namespaces=NS) or ""


def test_create_run_wait_fetch(processes: Processes, uws_schema) -> None:  # type: ignore[no-untyped-def]
    processes.worker()
    processes.web()
    base = processes.base + "/tap/async"
    r = requests.post(base, data={"QUERY": "SELECT 42 AS answer, 'x' AS tag", "LANG": "SQL",
                                  "PHASE": "RUN"}, allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    job_url = r.headers["Location"]
    assert job_url.startswith(base + "/")
    r = requests.get(job_url, params={"WAIT": "30"}, timeout=40)
    uws_schema.validate(r.text)
    doc = r.content
    if phase_of(doc) in ("QUEUED", "EXECUTING"):
        doc = requests.get(job_url, params={"WAIT": "30"}, timeout=40).content
    root = ET.fromstring(doc)
    assert root.get("version") == "1.1"
    assert phase_of(doc) == "COMPLETED", (doc, processes.logs())
    assert root.findtext("uws:startTime", namespaces=NS).endswith("Z")
    ref = root.find("uws:results/uws:result", NS)
    assert ref is not None and ref.get("id") == "result"
    href = ref.get(f"{{{NS['xlink']}}}href")
    assert href == job_url + "/results/result"
    res = requests.get(href, timeout=10)
    assert res.status_code == 200
    assert res.headers["Content-Type"] == "application/x-votable+xml"
    assert int(res.headers["Content-Length"]) == len(res.content) == int(ref.get("size"))
    table = parse_single_table(io.BytesIO(res.content)).to_table()
    assert list(table["answer"]) == [42]
    for sub, expected in (("phase", "COMPLETED"), ("error", ""), ("owner", ""), ("quote", "")):
        got = requests.get(f"{job_url}/{sub}", timeout=10)
        assert got.status_code == 200 and got.text == expected, sub
        assert got.headers["Content-Type"].startswith("text/plain")
    for sub in ("results", "parameters"):
        uws_schema.validate(requests.get(f"{job_url}/{sub}", timeout=10).text)
    uws_schema.validate(requests.get(base, timeout=10).text)


def test_bad_query_is_303_then_error(processes: Processes, uws_schema) -> None:  # type: ignore[no-untyped-def]
    processes.worker()
    processes.web()
    base = processes.base + "/tap/async"
    r = requests.post(base, data={"QUERY": "SELEKT nonsense", "PHASE": "RUN"},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 303
    job_url = r.headers["Location"]
    wait_for(lambda: requests.get(job_url + "/phase", timeout=5).text == "ERROR", what="ERROR")
    doc = requests.get(job_url, timeout=10).text
    uws_schema.validate(doc)
    root = ET.fromstring(doc)
    assert "bad SQL" in root.findtext("uws:errorSummary/uws:message", namespaces=NS)
    err = requests.get(job_url + "/error", timeout=10)
    assert err.status_code == 200 and "bad SQL" in err.text


def test_repeated_single_valued_parameter_is_an_error(processes: Processes) -> None:
    processes.worker()
    processes.web()
    r = requests.post(processes.base + "/tap/async",
                      data=[("QUERY", "SELECT 1"), ("QUERY", "SELECT 2"), ("PHASE", "RUN")],
                      allow_redirects=False, timeout=10)
    job_url = r.headers["Location"]
    wait_for(lambda: requests.get(job_url + "/phase", timeout=5).text == "ERROR", what="ERROR")
    assert "QUERY was given 2 times" in requests.get(job_url + "/error", timeout=5).text


def test_abort_cancels_the_running_query(processes: Processes, engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    processes.worker()
    processes.web()
    r = requests.post(processes.base + "/tap/async",
                      data={"QUERY": "SELECT pg_sleep(120) AS slept", "PHASE": "RUN"},
                      allow_redirects=False, timeout=10)
    job_url = r.headers["Location"]

    def sleeping() -> int:
        with engine.connect() as c:
            return int(c.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%' "
                "AND state = 'active'")).scalar_one())

    wait_for(lambda: sleeping() == 1, what="the query to run")
    t0 = time.monotonic()
    r = requests.post(job_url + "/phase", data={"PHASE": "ABORT"}, allow_redirects=False,
                      timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == job_url
    assert requests.get(job_url + "/phase", timeout=5).text == "ABORTED"
    wait_for(lambda: sleeping() == 0, timeout=10, what="the query to stop")
    assert time.monotonic() - t0 < 10
    time.sleep(1.5)  # the worker must not overwrite ABORTED
    assert requests.get(job_url + "/phase", timeout=5).text == "ABORTED"
