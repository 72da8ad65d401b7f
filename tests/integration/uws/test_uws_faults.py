"""Fault scenarios with real processes (issue 5): kill -9 of a worker mid-query, restart of
the web server and of PostgreSQL mid-job, the execution-duration watchdog, destruction."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from conftest import Processes, wait_for
from sqlalchemy import create_engine, text


def submit(procs: Processes, **params: str) -> str:
    r = requests.post(procs.base + "/tap/async", data={"PHASE": "RUN", **params},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 303, r.text
    return r.headers["Location"]


def phase(job_url: str) -> str:
    return requests.get(job_url + "/phase", timeout=10).text


def sleeping_backends(db_url: str) -> int:
    eng = create_engine(db_url, poolclass=None)
    try:
        with eng.connect() as c:
            return int(c.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE 'SELECT pg_sleep(%'")).scalar_one())
    finally:
        eng.dispose()


def test_worker_killed_mid_query_is_retried(processes: Processes, db_url: str) -> None:
    first = processes.worker()
    processes.web()
    job = submit(processes, QUERY="SELECT 7 AS seven", SLEEP="4")
    wait_for(lambda: phase(job) == "EXECUTING", what="EXECUTING")
    wait_for(lambda: sleeping_backends(db_url) == 1, what="the query")
    processes.kill(first)
    # client_connection_check_interval ends the orphaned backend
    wait_for(lambda: sleeping_backends(db_url) == 0, timeout=15, what="the orphan to stop")
    processes.worker()  # detects the dead worker by its missing heartbeat
    wait_for(lambda: phase(job) == "COMPLETED", timeout=40,
             what=f"COMPLETED after retry\n{processes.logs()}")
    assert b"seven" in requests.get(job + "/results/result", timeout=10).content


def test_worker_killed_without_retries_left_is_error(processes: Processes) -> None:
    first = processes.worker(max_attempts=1)
    processes.web()
    job = submit(processes, QUERY="SELECT 1", SLEEP="30")
    wait_for(lambda: phase(job) == "EXECUTING", what="EXECUTING")
    processes.kill(first)
    processes.worker(max_attempts=1)
    wait_for(lambda: phase(job) == "ERROR", timeout=40, what=f"ERROR\n{processes.logs()}")
    assert "worker process running this job stopped" in requests.get(job + "/error",
                                                                     timeout=10).text


def test_worker_stopped_by_sigterm_requeues_its_job(processes: Processes, db_url: str) -> None:
    import signal

    first = processes.worker()
    processes.web()
    job = submit(processes, QUERY="SELECT 'again' AS word", SLEEP="6")
    wait_for(lambda: phase(job) == "EXECUTING", what="EXECUTING")
    wait_for(lambda: sleeping_backends(db_url) == 1, what="the query")
    t0 = time.monotonic()
    processes.kill(first, signal.SIGTERM)  # graceful stop, 1 s grace for running jobs
    assert time.monotonic() - t0 < 15, processes.logs()
    assert phase(job) == "QUEUED", processes.logs()
    wait_for(lambda: sleeping_backends(db_url) == 0, timeout=10, what="the query to stop")
    processes.worker()  # another worker runs it from the start
    wait_for(lambda: phase(job) == "COMPLETED", timeout=40, what="the job to run again")
    assert b"again" in requests.get(job + "/results/result", timeout=10).content


def test_queued_job_without_queue_entry_is_queued_again(processes: Processes,
                                                        engine) -> None:  # type: ignore[no-untyped-def]
    processes.web()
    job = submit(processes, QUERY="SELECT 'found' AS word")
    with engine.begin() as c:  # as if the web server died between storing and queueing
        assert c.execute(text("DELETE FROM procrastinate_jobs")).rowcount == 1
    processes.worker()
    wait_for(lambda: phase(job) == "COMPLETED", timeout=30, what=f"COMPLETED\n{processes.logs()}")
    assert b"found" in requests.get(job + "/results/result", timeout=10).content


def test_executing_job_nobody_runs_is_recovered(processes: Processes,
                                                engine) -> None:  # type: ignore[no-untyped-def]
    processes.web()
    job = submit(processes, QUERY="SELECT 'rescued' AS word")
    with engine.begin() as c:  # as if a worker's last words never reached the job
        c.execute(text("DELETE FROM procrastinate_jobs"))
        c.execute(text("UPDATE uws.job SET phase = 'EXECUTING', start_time = now()"))
    processes.worker()
    wait_for(lambda: phase(job) == "COMPLETED", timeout=30, what=f"COMPLETED\n{processes.logs()}")
    assert b"rescued" in requests.get(job + "/results/result", timeout=10).content


def test_dead_workers_query_is_ended_by_recovery(processes: Processes, db_url: str) -> None:
    first = processes.worker(max_attempts=1, VO_TEST_CONN_CHECK="0")
    processes.web()
    job = submit(processes, QUERY="SELECT 1", SLEEP="120")
    wait_for(lambda: sleeping_backends(db_url) == 1, what="the query")
    processes.kill(first)
    time.sleep(3)
    assert sleeping_backends(db_url) == 1  # nothing in the server noticed the dead client
    processes.worker(max_attempts=1)
    wait_for(lambda: sleeping_backends(db_url) == 0, timeout=30,
             what=f"the orphan backend to be ended\n{processes.logs()}")
    wait_for(lambda: phase(job) == "ERROR", timeout=30, what="ERROR")


def test_web_server_restart_mid_job(processes: Processes) -> None:
    processes.worker()
    web = processes.web()
    job = submit(processes, QUERY="SELECT 'kept' AS word", SLEEP="3")
    wait_for(lambda: phase(job) == "EXECUTING", what="EXECUTING")
    processes.kill(web)
    processes.web()
    r = requests.get(job, params={"WAIT": "30", "PHASE": "EXECUTING"}, timeout=40)
    assert "COMPLETED" in r.text
    assert b"kept" in requests.get(job + "/results/result", timeout=10).content
    processes.kill(processes.procs[-1])  # and results survive another restart
    processes.web()
    assert b"kept" in requests.get(job + "/results/result", timeout=10).content


def test_execution_duration_aborts_the_query(processes: Processes, db_url: str) -> None:
    processes.worker()
    processes.web()
    job = submit(processes, QUERY="SELECT 1", SLEEP="60", EXECUTIONDURATION="2")
    wait_for(lambda: phase(job) == "ABORTED", timeout=20, what="ABORTED")
    assert "execution duration of 2 s" in requests.get(job + "/error", timeout=10).text
    wait_for(lambda: sleeping_backends(db_url) == 0, timeout=10, what="the query to stop")


def test_destruction_sweep(processes: Processes, settings) -> None:  # type: ignore[no-untyped-def]
    processes.worker()
    processes.web()
    job = submit(processes, QUERY="SELECT 1 AS one")
    wait_for(lambda: phase(job) == "COMPLETED", what="COMPLETED")
    job_id = job.rsplit("/", 1)[1]
    results = Path(settings.results_dir) / job_id
    assert results.is_dir()
    past = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = requests.post(job + "/destruction", data={"DESTRUCTION": past}, allow_redirects=False,
                      timeout=10)
    assert r.status_code == 303
    wait_for(lambda: requests.get(job, timeout=10).status_code == 404, timeout=15,
             what="the sweeper")
    assert not results.exists()


def test_postgres_restart_mid_job(tmp_path: Path) -> None:
    from vo.db.bootstrap import bootstrap
    from vo.db.cluster import PrivateCluster

    cluster = PrivateCluster(tmp_path / "own-cluster", fast=True)
    url = cluster.start()
    try:
        eng = create_engine(url)
        bootstrap(eng)
        eng.dispose()
        logs = tmp_path / "logs"
        logs.mkdir()
        procs = Processes(url, tmp_path / "data", logs)
        try:
            procs.worker()
            procs.web()
            job = submit(procs, QUERY="SELECT 'survived' AS word", SLEEP="3")
            wait_for(lambda: phase(job) == "EXECUTING", what="EXECUTING")
            state = cluster._load_state()
            port = cluster.status().port
            assert state is not None and port is not None
            cluster.stop()  # fast shutdown: every connection is cut
            time.sleep(1)
            res = cluster._run([  # the same port, so the URL the processes know stays right
                str(Path(state.bindir) / "pg_ctl"), "-D", str(Path(state.cluster_dir) / "data"),
                "-l", str(Path(state.cluster_dir) / "postgres.log"), "-w", "-o", f"-p {port}",
                "start"])
            assert res.returncode == 0, res.stderr
            time.sleep(1)

            def done() -> bool:
                try:
                    return phase(job) in ("COMPLETED", "ERROR")
                except requests.RequestException:
                    return False

            wait_for(done, timeout=60, what=f"the job to finish\n{procs.logs()}")
            assert phase(job) == "COMPLETED", procs.logs()
            assert b"survived" in requests.get(job + "/results/result", timeout=10).content
            # the worker took new jobs after the restart
            job2 = submit(procs, QUERY="SELECT 2 AS two")
            wait_for(lambda: phase(job2) == "COMPLETED", timeout=30, what="a second job")
        finally:
            procs.close()
    finally:
        cluster.destroy()
