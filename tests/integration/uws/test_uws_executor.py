"""The job executor in-process (real PostgreSQL, the real ``test-sql`` kind): outcomes
that need no extra processes, e.g. the result size limit and unknown kinds."""

from __future__ import annotations

import pytest

from vo.db.jobs import JobStore, ParameterRecord
from vo.uws.execution import JobExecutor
from vo.uws.kinds import get_kind
from vo.uws.results import FilesystemResultStorage
from vo.uws.service import UwsService


class NoQueue:
    """Jobs are executed directly below, so nothing is deferred."""

    def defer(self, job_id: str) -> int:
        return 0

    def cancel(self, queue_job_id: int) -> bool:
        return False


@pytest.fixture
def parts(settings, engine, monkeypatch):  # type: ignore[no-untyped-def]
    import uws_kinds

    monkeypatch.setenv("VO_DATABASE_URL", settings.database_url)
    uws_kinds.register()
    store = JobStore(engine)
    storage = FilesystemResultStorage(settings.results_dir)
    svc = UwsService(kind="test-sql", store=store, storage=storage, queue=NoQueue(),
                     settings=settings)
    return svc, store, storage


def test_result_size_limit_puts_the_job_in_error(parts, settings) -> None:  # type: ignore[no-untyped-def]
    svc, store, storage = parts
    job = svc.create(None, [ParameterRecord("query", "SELECT g FROM generate_series(1, 5000) g")],
                     run=True)
    JobExecutor(store, storage, settings, worker_name="t", result_max_bytes=2000).execute(
        job.job_id)
    done = store.get(job.job_id)
    assert done is not None and done.phase == "ERROR"
    assert done.error_code == "UWS-RESULT-SIZE" and "2000 bytes" in (done.error_message or "")
    assert done.results == ()

    ok = svc.create(None, [ParameterRecord("query", "SELECT 1 AS one")], run=True)
    JobExecutor(store, storage, settings, worker_name="t").execute(ok.job_id)
    finished = store.get(ok.job_id)
    assert finished is not None and finished.phase == "COMPLETED"
    assert [r.result_id for r in finished.results] == ["result"]
    assert finished.results[0].size and finished.results[0].size > 100
    assert finished.start_time and finished.end_time and finished.end_time >= finished.start_time


def test_unknown_kind_is_an_error_with_a_message(parts, settings) -> None:  # type: ignore[no-untyped-def]
    svc, store, storage = parts
    other = UwsService(kind="no-such-kind", store=store, storage=storage, queue=NoQueue(),
                       settings=settings)
    job = other.create(None, [], run=True)
    JobExecutor(store, storage, settings, worker_name="t").execute(job.job_id)
    done = store.get(job.job_id)
    assert done is not None and done.phase == "ERROR" and done.error_code == "UWS-NO-RUNNER"
    assert "no runner for jobs of kind 'no-such-kind'" in (done.error_message or "")
    get_kind("test-sql")  # the registered kind is still there


def test_a_job_runs_once(parts, settings) -> None:  # type: ignore[no-untyped-def]
    svc, store, storage = parts
    job = svc.create(None, [ParameterRecord("query", "SELECT 1 AS one")], run=True)
    ex = JobExecutor(store, storage, settings, worker_name="t")
    ex.execute(job.job_id)
    first = store.get(job.job_id)
    ex.execute(job.job_id)  # a duplicate queue entry finds the job no longer QUEUED
    again = store.get(job.job_id)
    assert first is not None and again is not None
    assert again.end_time == first.end_time and again.phase == "COMPLETED"
