"""Running one UWS job inside a worker: phases, watchdog, abort, results, recovery.

:meth:`JobExecutor.execute` is what the queue task calls. It moves the job
QUEUED -> EXECUTING, runs the kind's runner with a :class:`JobGuard` beside it, and
records the outcome through the transition table:

- the runner returned: COMPLETED with the results it wrote;
- it raised a ``VOError``: ERROR with that code and message (UWS 1.1 sec. 2.1.10);
- the job was aborted (by a client, or because its execution duration ran out, which
  UWS 1.1 sec. 2.1.4 treats as an abort): ABORTED, results written so far kept;
- the database connection was lost (server restart): back to QUEUED and retried, at
  most ``max_attempts`` executions in all, then ERROR saying so.

:meth:`JobExecutor.recover` handles a job whose worker died (kill -9): retried once
more or put in ERROR with a message, never left EXECUTING.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from vo.config import Settings
from vo.db.jobs import JobRecord, JobStore, ResultRecord, is_connection_lost
from vo.errors import VOError
from vo.uws.errors import JobCancelled
from vo.uws.kinds import JobContext, get_kind
from vo.uws.phases import Event, Phase, transition
from vo.uws.results import ResultSink, ResultStorage

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_RESULT_MAX_BYTES = 20 * 1024**3


class JobInterrupted(Exception):
    """The job lost its database connection; the queue runs it again (see worker)."""


class JobGuard(threading.Thread):
    """Watches one executing job: the wall-clock limit and aborts from other processes.

    A statement timeout alone does not bound a streamed query (each FETCH is a new
    statement), so the guard cancels the backend itself when the deadline passes, and
    when it sees the job's phase leave EXECUTING (an ABORT or DELETE by the web server).
    """

    def __init__(self, executor: JobExecutor, job: JobRecord, ctx: JobContext,
                 poll_seconds: float = 0.5, should_stop: Callable[[], bool] | None = None
                 ) -> None:
        super().__init__(name=f"uws-guard-{job.job_id}", daemon=True)
        self.executor = executor
        self.job = job
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self.backend_pid: int | None = None
        self.timed_out = False
        self.worker_stopping = False
        self._should_stop = should_stop
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        store = self.executor.store
        while not self._stop_event.wait(self.poll_seconds):
            try:
                if self.ctx.deadline is not None and _now() >= self.ctx.deadline:
                    self.timed_out = True
                    self._cancel(f"the job ran longer than its execution duration of "
                                 f"{self.job.execution_duration} s and was aborted (UWS 1.1 "
                                 "sec. 2.1.4): ask for a longer EXECUTIONDURATION or a "
                                 "smaller query")
                    return
                current = store.get(self.job.job_id, with_details=False)
                if current is None or current.phase != Phase.EXECUTING.value:
                    self._cancel("the job was aborted" if current else "the job was deleted")
                    return
                if self._should_stop is not None and self._should_stop():
                    self.worker_stopping = True  # the worker is shutting down: queue it again
                    self._cancel("the worker running the job stopped")
                    return
            except Exception as exc:  # database away: keep watching the deadline
                log.debug("guard of job %s: %s", self.job.job_id, exc)

    def _cancel(self, reason: str) -> None:
        self.ctx.cancel(reason)
        if self.backend_pid is not None:
            try:
                self.executor.store.cancel_backend(self.backend_pid)
            except Exception as exc:
                log.warning("could not cancel backend %s: %s", self.backend_pid, exc)


class JobExecutor:
    """Executes UWS jobs in a worker process."""

    def __init__(self, store: JobStore, storage: ResultStorage, settings: Settings, *,
                 worker_name: str, max_attempts: int = 2, guard_poll_seconds: float = 0.5,
                 result_max_bytes: int = DEFAULT_RESULT_MAX_BYTES) -> None:
        self.store = store
        self.storage = storage
        self.settings = settings
        self.worker_name = worker_name
        self.max_attempts = max_attempts
        self.guard_poll_seconds = guard_poll_seconds
        self.result_max_bytes = result_max_bytes

    # -- execution ------------------------------------------------------------------
    def execute(self, job_id: str, should_stop: Callable[[], bool] | None = None) -> None:
        """Run one job to a final phase (or back to QUEUED, raising :class:`JobInterrupted`,
        when the database went away or the worker is stopping: the queue runs it again)."""
        t = transition(Event.START)
        job = self._persist(lambda: self.store.transition(
            job_id, [p.value for p in t.sources], t.target.value, start_time="now()",
            worker=self.worker_name, backend_pid=None))
        if job is None:
            return  # aborted or deleted while queued, or already taken: nothing to do
        job = self.store.get(job_id) or job
        try:
            kind = get_kind(job.kind)
            params = _grouped(job)
            for name in sorted(kind.single_valued):
                if len(params.get(name, [])) > 1:
                    raise VOError(f"parameter {name.upper()} was given "
                                  f"{len(params[name])} times; give it once",
                                  code="UWS-REPEATED-PARAMETER")
        except VOError as exc:
            self._finish(job, Event.FAIL, error=exc)
            return
        sink = ResultSink(self.storage, job_id, self.result_max_bytes)
        deadline = (job.start_time or _now()) + timedelta(seconds=job.execution_duration) \
            if job.execution_duration > 0 else None
        guard: JobGuard
        ctx = JobContext(job_id=job_id, owner=job.owner, parameters=params, results=sink,
                         open_input=lambda name: self.storage.open_input(job_id, name),
                         deadline=deadline, on_backend=lambda pid: self._on_backend(guard, pid))
        guard = JobGuard(self, job, ctx, self.guard_poll_seconds, should_stop)
        guard.start()
        error: BaseException | None = None
        try:
            kind.runner(ctx)
        except BaseException as exc:  # noqa: BLE001 - every outcome is recorded below
            error = exc
        finally:
            guard.stop()
        results = list(sink.records)
        if not ctx.cancelled and error is not None:
            current = self._persist(lambda: self.store.get(job_id, with_details=False))
            if current is None or current.phase != Phase.EXECUTING.value:
                ctx.cancel("the job was aborted")  # its query was cancelled by the ABORT
        if guard.worker_stopping:
            self._requeue(job, results, count_attempt=False)
            return
        if ctx.cancelled:
            message = ctx.cancel_reason if guard.timed_out else None
            if self._finish(job, Event.ABORT, results=results, message=message) is None \
                    and self.store.get(job_id, with_details=False) is None:
                self.storage.delete_job(job_id)  # deleted while it ran
            return
        if error is None:
            self._finish(job, Event.COMPLETE, results=results)
        elif isinstance(error, JobCancelled):
            self._finish(job, Event.ABORT, results=results, message=error.message)
        elif isinstance(error, VOError):
            self._finish(job, Event.FAIL, results=results, error=error)
        elif is_connection_lost(error):
            self._interrupted(job, error)
        else:
            log.error("job %s failed", job_id, exc_info=error)
            self._finish(job, Event.FAIL, results=results, error=VOError(
                f"the job failed because of an internal error ({type(error).__name__}); "
                f"the service log has the details under job {job_id}", code="UWS-INTERNAL"))

    def _on_backend(self, guard: JobGuard, pid: int | None) -> None:
        guard.backend_pid = pid
        self._persist(lambda: self.store.update(guard.job.job_id, backend_pid=pid,
                                                durable=False))
        if pid is not None and guard.ctx.cancelled:
            self.store.cancel_backend(pid)

    def _requeue(self, job: JobRecord, results: Sequence[ResultRecord], *,
                 count_attempt: bool) -> None:
        """Back to QUEUED; the queue retries on :class:`JobInterrupted`."""
        r = transition(Event.REQUEUE)
        moved = self._persist(lambda: self.store.finish(
            job.job_id, results, [p.value for p in r.sources], r.target.value,
            attempts=job.attempts + (1 if count_attempt else 0), backend_pid=None,
            start_time=None))
        if moved is not None:
            log.warning("job %s interrupted; it is queued again", job.job_id)
            raise JobInterrupted(job.job_id)

    def _interrupted(self, job: JobRecord, error: BaseException) -> None:
        if job.attempts + 1 < self.max_attempts:
            self._requeue(job, (), count_attempt=True)
            return
        self._finish(job, Event.FAIL, error=VOError(
            "the job lost its database connection (the database restarted or the network "
            f"failed) {job.attempts + 1} times; run it again later", code="UWS-INTERRUPTED"),
            error_type="transient")

    def _finish(self, job: JobRecord, event: Event, *, results: Sequence[ResultRecord] = (),
                error: VOError | None = None, message: str | None = None,
                error_type: str = "fatal") -> JobRecord | None:
        """Store the results and apply ``event`` (a no-op if the job already left EXECUTING,
        e.g. an ABORT won: the results written so far are kept all the same)."""
        t = transition(event)
        changes: dict[str, Any] = {"end_time": "now()", "backend_pid": None}
        if error is not None:
            changes.update(error_code=error.code, error_message=error.message,
                           error_type=error_type)
        elif message is not None:
            changes.update(error_code="UWS-ABORTED", error_message=message, error_type="fatal")
        return self._persist(lambda: self.store.finish(
            job.job_id, results, [p.value for p in t.sources], t.target.value, **changes))

    # -- recovery of jobs whose worker died -------------------------------------------
    def recover(self, job_id: str) -> bool:
        """A worker died while running ``job_id``: True to run it again, False if it is done
        with (now in ERROR, or it had finished, been aborted or deleted)."""
        job = self.store.get(job_id, with_details=False)
        if job is None:
            return False
        if job.phase == Phase.QUEUED.value:
            return True  # requeued already, the queue entry was stuck
        if job.phase != Phase.EXECUTING.value:
            return False
        if job.backend_pid is not None and job.backend_since is not None:
            # a dead worker's query may still run (no client_connection_check_interval)
            if self.store.terminate_orphan_backend(job.backend_pid, job.backend_since):
                log.warning("job %s: ended backend %s of its dead worker", job_id,
                            job.backend_pid)
        if job.attempts + 1 < self.max_attempts:
            r = transition(Event.REQUEUE)
            return self.store.transition(job_id, [p.value for p in r.sources], r.target.value,
                                         attempts=job.attempts + 1, backend_pid=None) is not None
        f = transition(Event.FAIL)
        self.store.transition(
            job_id, [p.value for p in f.sources], f.target.value, end_time="now()",
            backend_pid=None, error_code="UWS-WORKER-LOST", error_type="transient",
            error_message=f"the worker process running this job stopped unexpectedly (killed or "
                          f"crashed) {job.attempts + 1} times; run the job again, and if it "
                          "keeps failing ask for less data")
        return False

    def _persist(self, action: Callable[[], T], patience: float = 120.0) -> T:
        """Run a store write, retrying while the database is unreachable (restarting)."""
        deadline = time.monotonic() + patience
        delay = 0.2
        while True:
            try:
                return action()
            except Exception as exc:
                if not is_connection_lost(exc) or time.monotonic() > deadline:
                    raise
                log.warning("database unreachable (%s); retrying in %.1f s", exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)


def _grouped(job: JobRecord) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for p in job.parameters:
        out[p.name.lower()].append(p.value)
    return dict(out)


def _now() -> datetime:
    return datetime.now(UTC)
