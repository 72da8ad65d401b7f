"""Destruction of jobs whose destruction time has passed (UWS 1.1 sec. 2.1.5).

The job and its results are deleted outright (no ARCHIVED phase is kept): a running
job is aborted first so its query stops, then its rows and files go.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from vo.db.jobs import JobStore
from vo.uws.phases import Event, transition
from vo.uws.results import ResultStorage

log = logging.getLogger(__name__)


def sweep(store: JobStore, storage: ResultStorage, now: datetime | None = None) -> list[str]:
    """Destroy every job past its destruction time; returns the ids destroyed."""
    now = now or datetime.now(UTC)
    destroyed: list[str] = []
    abort = transition(Event.ABORT)
    while True:
        batch = store.expired(now)
        if not batch:
            return destroyed
        for job_id in batch:
            stopped = store.transition(job_id, [p.value for p in abort.sources],
                                       abort.target.value, end_time="now()")
            if stopped is not None and stopped.backend_pid is not None:
                store.cancel_backend(stopped.backend_pid)
            store.delete(job_id)
            storage.delete_job(job_id)
            destroyed.append(job_id)
        log.info("destroyed %d expired jobs", len(batch))
