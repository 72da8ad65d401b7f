"""The execution queue of UWS jobs: procrastinate on the service's own PostgreSQL.

The web side only defers and cancels (a synchronous connector over the service's
SQLAlchemy engine); workers run an asynchronous procrastinate worker
(:mod:`vo.uws.worker`). One task, :data:`TASK_NAME`, takes a UWS job id; the UWS
tables, not the queue, are the truth about a job's phase.
"""

from __future__ import annotations

from typing import Protocol

import procrastinate
from procrastinate.contrib.sqlalchemy import SQLAlchemyPsycopg2Connector

from vo.db import Engine

TASK_NAME = "vo.uws.execute"
QUEUE_NAME = "uws"


class JobQueue(Protocol):
    """What the UWS service needs from a queue."""

    def defer(self, job_id: str) -> int: ...

    def cancel(self, queue_job_id: int) -> bool: ...


class ProcrastinateQueue:
    """Defers UWS jobs to procrastinate through the service's engine (sync, thread-safe)."""

    def __init__(self, engine: Engine) -> None:
        connector = SQLAlchemyPsycopg2Connector()
        connector.open(engine)
        self.app = procrastinate.App(connector=connector)
        self._task = self.app.configure_task(name=TASK_NAME, queue=QUEUE_NAME)

    def defer(self, job_id: str) -> int:
        """Queue the execution of UWS job ``job_id``; returns the queue's job id."""
        return self._task.defer(job_id=job_id)

    def cancel(self, queue_job_id: int) -> bool:
        """Drop a queued execution (a running one is stopped by UWS itself, see worker)."""
        return self.app.job_manager.cancel_job_by_id(queue_job_id, abort=True)
