"""Unmodified VO clients against the UWS blueprint on a real server: pyvo's TAP async
job classes and astroquery's TapPlus (the kind runs SQL; TAP's own kind comes with TAP)."""

from __future__ import annotations

import pytest
import requests
from conftest import Processes


@pytest.fixture
def served(processes: Processes) -> Processes:
    processes.worker(concurrency=2)
    processes.web()
    return processes


def test_pyvo_run_async_and_job_api(served: Processes) -> None:
    import pyvo

    tap = pyvo.dal.TAPService(served.base + "/tap")
    result = tap.run_async("SELECT g AS n FROM generate_series(1, 5) g", language="SQL")
    assert [int(v) for v in result.to_table()["n"]] == [1, 2, 3, 4, 5]

    job = tap.submit_job("SELECT 'hello' AS greeting", language="SQL")
    assert job.phase == "PENDING"
    job.run()
    job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert job.phase == "COMPLETED"
    assert job.result_uri == job.url + "/results/result"
    assert str(job.fetch_result().to_table()["greeting"][0]) == "hello"
    url = job.url
    job.delete()
    assert requests.get(url, timeout=10).status_code == 404

    failing = tap.submit_job("SELEKT 1", language="SQL")
    failing.run().wait(timeout=60)
    assert failing.phase == "ERROR"
    with pytest.raises(pyvo.dal.DALQueryError, match="bad SQL"):
        failing.raise_if_error()


def test_astroquery_tapplus_launch_job_async(served: Processes) -> None:
    from astroquery.utils.tap.core import TapPlus

    tap = TapPlus(url=served.base + "/tap", verbose=False)
    job = tap.launch_job_async("SELECT 3 AS three, 'x' AS tag", verbose=False)
    table = job.get_results()
    assert int(table["three"][0]) == 3
