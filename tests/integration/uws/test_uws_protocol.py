"""UWS 1.1 REST binding through the Flask test client (real PostgreSQL, no worker:
jobs stay QUEUED, which is what these protocol checks need)."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from uws_app import create

NS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0", "xlink": "http://www.w3.org/1999/xlink"}
BASE = "/tap/async"


@pytest.fixture
def client(settings):  # type: ignore[no-untyped-def]
    app = create(settings.replace(max_jobs_per_owner=5, max_running_jobs_per_owner=2,
                                  uws_wait_max=3))
    return app.test_client()


def create_job(client, owner: str | None = None, **params: str) -> str:  # type: ignore[no-untyped-def]
    headers = {"X-Owner": owner} if owner else {}
    r = client.post(BASE, data=params or {"QUERY": "SELECT 1"}, headers=headers)
    assert r.status_code == 303, r.get_data(as_text=True)
    return r.headers["Location"].rsplit("/", 1)[1]


def test_job_document_and_parameter_updates(client, uws_schema) -> None:  # type: ignore[no-untyped-def]
    job = create_job(client, QUERY="SELECT 1", LANG="ADQL", RUNID="mine", Custom="x")
    r = client.get(f"{BASE}/{job}")
    assert r.status_code == 200 and r.content_type.startswith("text/xml")
    uws_schema.validate(r.get_data(as_text=True))
    root = ET.fromstring(r.data)
    assert root.get("version") == "1.1"
    assert root.findtext("uws:phase", namespaces=NS) == "PENDING"
    assert root.findtext("uws:runId", namespaces=NS) == "mine"
    params = {p.get("id"): p.text for p in root.iterfind("uws:parameters/uws:parameter", NS)}
    assert params == {"query": "SELECT 1", "lang": "ADQL", "custom": "x"}
    assert root.findtext("uws:creationTime", namespaces=NS).endswith("Z")
    # UWS 1.1 sec. 2.1.11: parameters may change while PENDING
    r = client.post(f"{BASE}/{job}/parameters", data={"QUERY": "SELECT 2"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"{BASE}/{job}")
    root = ET.fromstring(client.get(f"{BASE}/{job}/parameters").data)
    assert [p.text for p in root if p.get("id") == "query"] == ["SELECT 2"]
    client.post(f"{BASE}/{job}/parameters", data={"RUNID": "relabelled"})
    assert client.get(f"{BASE}/{job}/runId").get_data(as_text=True) == "relabelled"
    # execution duration: a request above the hard limit is capped; 0 (unlimited) too
    client.post(f"{BASE}/{job}/executionduration", data={"EXECUTIONDURATION": "10"})
    assert client.get(f"{BASE}/{job}/executionduration").get_data(as_text=True) == "10"
    client.post(f"{BASE}/{job}/executionduration", data={"EXECUTIONDURATION": "0"})
    assert client.get(f"{BASE}/{job}/executionduration").get_data(as_text=True) == str(4 * 3600)
    # destruction: earlier is accepted, later than the maximum is capped
    soon = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    client.post(f"{BASE}/{job}/destruction",
                data={"DESTRUCTION": soon.strftime("%Y-%m-%dT%H:%M:%SZ")})
    got = client.get(f"{BASE}/{job}/destruction").get_data(as_text=True)
    assert got == soon.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    r = client.post(f"{BASE}/{job}/destruction", data={"DESTRUCTION": "2999-01-01T00:00:00Z"})
    assert r.status_code == 303
    assert client.get(f"{BASE}/{job}/destruction").get_data(as_text=True) < "2999"
    # once queued, parameters are frozen (403)
    assert client.post(f"{BASE}/{job}/phase", data={"PHASE": "RUN"}).status_code == 303
    assert client.get(f"{BASE}/{job}/phase").get_data(as_text=True) == "QUEUED"
    r = client.post(f"{BASE}/{job}/parameters", data={"QUERY": "SELECT 3"})
    assert r.status_code == 403 and "PENDING" in r.get_data(as_text=True)


def test_not_found_and_bad_requests(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get(f"{BASE}/nosuchjob").status_code == 404
    assert client.get(f"{BASE}/nosuchjob/phase").status_code == 404
    job = create_job(client)
    assert client.get(f"{BASE}/{job}/nosuchthing").status_code == 404
    assert client.get(f"{BASE}/{job}/results/result").status_code == 404
    assert client.get(f"{BASE}/{job}/error").status_code == 200
    r = client.post(f"{BASE}/{job}/phase", data={"PHASE": "SPIN"})
    assert r.status_code == 400 and "PHASE=RUN" in r.get_data(as_text=True)
    assert client.get(f"{BASE}/{job}", query_string={"WAIT": "soon"}).status_code == 400
    assert client.get(BASE, query_string={"PHASE": "SLEEPING"}).status_code == 400


def test_job_list_filters(client, uws_schema, engine) -> None:  # type: ignore[no-untyped-def]
    jobs = [create_job(client) for _ in range(3)]
    client.post(f"{BASE}/{jobs[0]}/phase", data={"PHASE": "RUN"})
    with engine.begin() as c:  # an archived job is listed only when asked for
        c.execute(text("UPDATE uws.job SET phase = 'ARCHIVED' WHERE job_id = :j"),
                  {"j": jobs[2]})

    def listed(**q: str) -> list[str]:
        r = client.get(BASE, query_string=q)
        uws_schema.validate(r.get_data(as_text=True))
        return [j.get("id") for j in ET.fromstring(r.data).iterfind("uws:jobref", NS)]

    assert listed() == [jobs[1], jobs[0]]  # newest first, ARCHIVED hidden
    assert listed(PHASE="QUEUED") == [jobs[0]]
    assert listed(PHASE="ARCHIVED") == [jobs[2]]
    assert listed(LAST="1") == [jobs[1]]
    with engine.connect() as c:
        t0 = c.execute(text("SELECT creation_time FROM uws.job WHERE job_id = :j"),
                       {"j": jobs[0]}).scalar_one()
    assert listed(AFTER=t0.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")) == [jobs[1]]
    assert client.get(BASE, query_string={"LAST": "0"}).status_code == 400


def test_owner_quotas_and_privacy(client) -> None:  # type: ignore[no-untyped-def]
    # max_running_jobs_per_owner=2: a third PHASE=RUN is refused, the job stays PENDING
    a = [create_job(client, owner="alice") for _ in range(3)]
    for j in a[:2]:
        assert client.post(f"{BASE}/{j}/phase", data={"PHASE": "RUN"},
                           headers={"X-Owner": "alice"}).status_code == 303
    r = client.post(f"{BASE}/{a[2]}/phase", data={"PHASE": "RUN"}, headers={"X-Owner": "alice"})
    assert r.status_code == 403 and "UWS-QUOTA" in r.get_data(as_text=True)
    r = client.post(BASE, data={"QUERY": "SELECT 1", "PHASE": "RUN"},
                    headers={"X-Owner": "alice"})
    assert r.status_code == 403  # refused creation (UWS 1.1 sec. 2.2.3.1)
    # another owner is not limited by alice's jobs, and cannot see them
    assert client.post(BASE, data={"QUERY": "SELECT 1", "PHASE": "RUN"},
                       headers={"X-Owner": "bob"}).status_code == 303
    assert client.get(f"{BASE}/{a[0]}", headers={"X-Owner": "bob"}).status_code == 403
    ids = [j.get("id") for j in ET.fromstring(
        client.get(BASE, headers={"X-Owner": "bob"}).data).iterfind("uws:jobref", NS)]
    assert not set(ids) & set(a)
    # max_jobs_per_owner=5: alice has 3 (+ the refused one was not created); 2 more, then 403
    create_job(client, owner="alice")
    create_job(client, owner="alice")
    r = client.post(BASE, data={"QUERY": "SELECT 1"}, headers={"X-Owner": "alice"})
    assert r.status_code == 403 and "delete finished jobs" in r.get_data(as_text=True)
    # anonymous callers are counted per client address, not as one owner
    anon = [client.post(BASE, data={"QUERY": "SELECT 1", "PHASE": "RUN"},
                        environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code for _ in range(3)]
    assert anon == [303, 303, 403]
    assert client.post(BASE, data={"QUERY": "SELECT 1", "PHASE": "RUN"},
                       environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 303
    # deleting frees a place
    assert client.delete(f"{BASE}/{a[2]}", headers={"X-Owner": "alice"}).status_code == 303
    create_job(client, owner="alice")


def test_delete_and_action_delete(client) -> None:  # type: ignore[no-untyped-def]
    j1, j2 = create_job(client), create_job(client)
    r = client.delete(f"{BASE}/{j1}")
    assert r.status_code == 303 and r.headers["Location"].endswith(BASE)
    assert client.get(f"{BASE}/{j1}").status_code == 404
    r = client.post(f"{BASE}/{j2}", data={"ACTION": "DELETE"})
    assert r.status_code == 303
    assert client.get(f"{BASE}/{j2}").status_code == 404


def test_blocking_wait(client, engine) -> None:  # type: ignore[no-untyped-def]
    job = create_job(client)
    # WAIT on a PENDING job returns on the phase change, not at the timeout
    timer = threading.Timer(0.5, lambda: client.post(f"{BASE}/{job}/phase",
                                                     data={"PHASE": "ABORT"}))
    t0 = time.monotonic()
    timer.start()
    r = client.get(f"{BASE}/{job}", query_string={"WAIT": "30"})
    elapsed = time.monotonic() - t0
    assert ET.fromstring(r.data).findtext("uws:phase", namespaces=NS) == "ABORTED"
    assert 0.4 < elapsed < 2.5
    # a final phase never blocks
    t0 = time.monotonic()
    client.get(f"{BASE}/{job}", query_string={"WAIT": "30"})
    assert time.monotonic() - t0 < 0.5
    # WAIT=-1 (pyvo) is capped by uws_wait_max (3 s here)
    job2 = create_job(client)
    t0 = time.monotonic()
    client.get(f"{BASE}/{job2}", query_string={"WAIT": "-1"})
    assert 2.5 < time.monotonic() - t0 < 5
    # PHASE given and the job not in it: no blocking
    t0 = time.monotonic()
    client.get(f"{BASE}/{job2}", query_string={"WAIT": "30", "PHASE": "EXECUTING"})
    assert time.monotonic() - t0 < 0.5


def test_inline_upload_is_stored_with_the_job(client) -> None:  # type: ignore[no-untyped-def]
    import io

    data = {"QUERY": "SELECT 1", "UPLOAD": "t1,param:t1",
            "t1": (io.BytesIO(b"<VOTABLE>tiny</VOTABLE>"), "t1.xml")}
    r = client.post(BASE, data=data, content_type="multipart/form-data")
    assert r.status_code == 303
    job = r.headers["Location"].rsplit("/", 1)[1]
    root = ET.fromstring(client.get(f"{BASE}/{job}/parameters").data)
    refs = {p.get("id"): (p.text, p.get("byReference")) for p in root}
    assert refs["t1"] == ("param:t1", "true")
    assert refs["upload"] == ("t1,param:t1", "false")
    assert client.get(f"{BASE}/{job}/parameters/t1").data == b"<VOTABLE>tiny</VOTABLE>"
