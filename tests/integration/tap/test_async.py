"""TAP async (TAP 1.1 sec. 2.2) through UWS with a real `vo worker` process."""

from __future__ import annotations

import pyvo


def test_pyvo_async_query(live_url, live_worker):
    svc = pyvo.dal.TAPService(f"{live_url}/tap")
    res = svc.run_async("SELECT TOP 6 hip, ra FROM hipparcos.hip2 ORDER BY hip", maxrec=100)
    assert list(res["hip"]) == [1, 2, 3, 4, 5, 6]


def test_async_error_reported(live_url, live_worker):
    svc = pyvo.dal.TAPService(f"{live_url}/tap")
    job = svc.submit_job("SELECT nosuch FROM hipparcos.hip2")
    job.run()
    job.wait(phases={"COMPLETED", "ERROR", "ABORTED"}, timeout=60)
    assert job.phase == "ERROR"
    try:
        job.raise_if_error()
    except pyvo.dal.DALQueryError as exc:
        assert "nosuch" in str(exc)
    else:
        raise AssertionError("the job's error was not reported")


def test_async_inline_upload(live_url, live_worker):
    import numpy as np
    from astropy.table import Table

    svc = pyvo.dal.TAPService(f"{live_url}/tap")
    t = Table({"k": np.array([3, 1, 2], dtype=np.int32)})
    res = svc.run_async("SELECT k FROM TAP_UPLOAD.t1 ORDER BY k", uploads={"t1": t})
    assert list(res["k"]) == [1, 2, 3]
