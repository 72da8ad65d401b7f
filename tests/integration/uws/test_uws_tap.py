"""TAP async (TAP 1.1 sec. 2.2) on the real web app (`vo.web`) and a real worker running
the ``tap`` job kind: unmodified clients and `stilts taplint`'s async stages."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import requests
from conftest import Processes

TAP_ENV = {"VO_MAXREC_DEFAULT": "1000", "VO_MAXREC_HARD": "5000"}


@pytest.fixture
def tap(processes: Processes) -> str:
    processes.worker(kinds="vo.tap.jobs:register_uws_kinds", **TAP_ENV)
    processes.web("vo.web.wsgi:app_from_env()", VO_PORT=str(processes.port), **TAP_ENV)
    return processes.base + "/tap"


def test_pyvo_and_astroquery_on_tap_async(tap: str) -> None:
    import pyvo
    from astroquery.utils.tap.core import TapPlus

    svc = pyvo.dal.TAPService(tap)
    res = svc.run_async("SELECT table_name FROM TAP_SCHEMA.tables ORDER BY table_name")
    names = [str(n) for n in res["table_name"]]
    assert "TAP_SCHEMA.columns" in names or "tap_schema.columns" in names

    job = svc.submit_job("SELECT TOP 2 table_name FROM TAP_SCHEMA.tables", maxrec=10,
                         responseformat="csv")
    job.run().wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert job.phase == "COMPLETED"
    r = requests.get(job.result_uri, timeout=10)
    assert r.headers["Content-Type"].startswith("text/csv")
    assert r.text.splitlines()[0].strip() == "table_name"
    url = job.url
    job.delete()
    assert requests.get(url, timeout=10).status_code == 404

    plus = TapPlus(url=tap, verbose=False)
    table = plus.launch_job_async("SELECT TOP 3 schema_name FROM TAP_SCHEMA.schemas",
                                  verbose=False).get_results()
    assert len(table) >= 1


@pytest.mark.skipif(shutil.which("stilts") is None, reason="stilts is not installed")
def test_taplint_async_stages(tap: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = subprocess.run(["stilts", "taplint", f"tapurl={tap}", "stages=CAP TMS QAS UWS",
                          "maxrepeat=3"], capture_output=True, text=True, timeout=300)
    report = out.stdout + out.stderr
    (tmp_path / "taplint.txt").write_text(report)
    errors = [ln for ln in report.splitlines() if re.match(r"^E-(QAS|UWS)-", ln)]
    assert not errors, "\n".join(errors)
    assert re.search(r"^I-UWS-", report, re.M) or "Stage UWS" in report or "UWS" in report
    print(report[-2000:])
