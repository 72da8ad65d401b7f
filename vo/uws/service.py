"""UWS 1.1 operations on jobs of one kind: the service layer between HTTP and the store.

Handlers parse a request and call one method here; every phase change is an
:class:`~vo.uws.phases.Event` of the transition table. Limits: per-owner quotas
(``max_jobs_per_owner`` jobs kept, ``max_running_jobs_per_owner`` queued or
executing; anonymous callers are counted per client address, not as one owner),
execution duration capped at ``execution_duration_hard`` (UWS 1.1 sec. 2.1.4,
0 = unlimited becomes the cap), destruction at most ``destruction_days`` ahead
(sec. 2.1.5), WAIT capped at ``uws_wait_max`` seconds (sec. 2.2.1.1).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, BinaryIO

from vo.config import Settings
from vo.db.jobs import JobRecord, JobStore, NewJob, ParameterRecord
from vo.uws.errors import BadJobRequest, JobNotFound, PhaseConflict, QuotaExceeded
from vo.uws.phases import RUNNING_QUOTA_PHASES, WAITABLE, Event, Phase, transition
from vo.uws.queue import JobQueue
from vo.uws.results import ResultStorage, check_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Upload:
    """An inline parameter's content (multipart part), stored with the job."""

    name: str
    stream: IO[bytes]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UwsService:
    """UWS operations for the jobs of one kind (e.g. ``tap``), as seen by one owner."""

    def __init__(self, *, kind: str, store: JobStore, storage: ResultStorage, queue: JobQueue,
                 settings: Settings) -> None:
        self.kind = kind
        self.store = store
        self.storage = storage
        self.queue = queue
        self.settings = settings

    # -- reading ------------------------------------------------------------------
    def get(self, job_id: str, owner: str | None) -> JobRecord:
        """The job, if it exists and belongs to ``owner`` (UWS 1.1 sec. 3: others get 403)."""
        job = self.store.get(job_id)
        if job is None or job.kind != self.kind:
            raise JobNotFound(f"there is no job {job_id!r}: it may have been destroyed; "
                              "list your jobs at the job list")
        if job.owner is not None and job.owner != owner:
            raise PhaseConflict(f"job {job_id!r} belongs to another user", code="UWS-FORBIDDEN")
        return job

    def list_jobs(self, owner: str | None, *, phases: Sequence[str] | None = None,
             after: datetime | None = None, last: int | None = None) -> list[JobRecord]:
        """UWS 1.1 sec. 2.2.2.1: ARCHIVED jobs only when PHASE asks for them."""
        if phases is not None:
            for p in phases:
                _phase(p)
        if last is not None and last <= 0:
            raise BadJobRequest("LAST must be an integer greater than 0")
        return self.store.list_jobs(owner=owner, kind=self.kind, phases=phases,
                                    exclude_phases=() if phases else (Phase.ARCHIVED.value,),
                                    after=after, last=last)

    def wait(self, job_id: str, owner: str | None, seconds: int,
             phase: str | None = None) -> JobRecord:
        """Block per UWS 1.1 sec. 2.2.1.1 until the phase changes or the wait is over.

        Blocks only in PENDING/QUEUED/EXECUTING, and not at all if ``phase`` is given
        and the job is not in it. ``seconds`` < 0 (block indefinitely) and anything
        longer than ``uws_wait_max`` are capped at ``uws_wait_max``.
        """
        job = self.get(job_id, owner)
        wanted = _phase(phase).value if phase else None
        cap = self.settings.uws_wait_max
        timeout = cap if seconds < 0 else min(seconds, cap)
        if timeout == 0 or job.phase not in {p.value for p in WAITABLE}:
            return job
        if wanted is not None and job.phase != wanted:
            return job
        self.store.wait_for_phase_change(job_id, job.phase, timeout)
        return self.get(job_id, owner)

    # -- creating and changing ----------------------------------------------------------
    def create(self, owner: str | None, parameters: Sequence[ParameterRecord], *,
               run_id: str | None = None, run: bool = False, uploads: Sequence[Upload] = (),
               execution_duration: int | None = None,
               destruction: datetime | None = None, client: str | None = None) -> JobRecord:
        """UWS 1.1 sec. 2.2.3.1: a new PENDING job (QUEUED at once with PHASE=RUN).

        Parameters are stored as given and validated only when the job runs.
        Refused (403) when the owner already keeps ``max_jobs_per_owner`` jobs.
        """
        client = None if owner is not None else client
        counts = self.store.count_by_phase(owner=owner, client=client)
        kept = sum(n for p, n in counts.items() if p != Phase.ARCHIVED.value)
        if kept >= self.settings.max_jobs_per_owner:
            raise QuotaExceeded(
                f"you already have {kept} jobs (the limit is {self.settings.max_jobs_per_owner}):"
                " delete finished jobs you no longer need, then try again")
        if run:
            self._check_running_quota(owner, client, counts)
        job_id = secrets.token_hex(8)
        stored = list(parameters)
        for up in uploads:
            name = check_name(up.name, "upload name")
            self.storage.save_input(job_id, name, up.stream, self.settings.upload_max_bytes)
            stored.append(ParameterRecord(name.lower(), f"param:{name}", by_reference=True,
                                          is_post=True))
        job = self.store.create(NewJob(
            job_id=job_id, kind=self.kind, owner=owner, run_id=run_id,
            execution_duration=self._duration(execution_duration),
            destruction=self._destruction(destruction), parameters=stored, client=client),
            phase=transition(Event.RUN).target.value if run else Phase.PENDING.value)
        if run:
            return self._enqueue(job)
        return job

    def update_parameters(self, job_id: str, owner: str | None,
                          parameters: Sequence[ParameterRecord]) -> JobRecord:
        """UWS 1.1 sec. 2.1.11: parameters may change only while the job is PENDING."""
        job = self.get(job_id, owner)
        if parameters and not self.store.replace_parameters(job_id, parameters,
                                                            in_phases=[Phase.PENDING.value]):
            raise PhaseConflict(
                f"job {job_id} is {job.phase}: parameters can only be changed while it is PENDING")
        return self.get(job_id, owner)

    def set_run_id(self, job_id: str, owner: str | None, value: str) -> JobRecord:
        """UWS 1.1 sec. 2.1.9: the client's own label for the job, settable at any time."""
        self.get(job_id, owner)
        self.store.update(job_id, run_id=value[:256])
        return self.get(job_id, owner)

    def set_phase(self, job_id: str, owner: str | None, value: str) -> JobRecord:
        """PHASE=RUN (sec. 2.2.3.5) or PHASE=ABORT (sec. 2.2.3.6)."""
        job = self.get(job_id, owner)
        action = value.strip().upper()
        if action == "RUN":
            if job.phase in (Phase.QUEUED.value, Phase.EXECUTING.value):
                return job  # already running: RUN again changes nothing
            self._check_running_quota(job.owner, job.client)
            return self._run(job)
        if action == "ABORT":
            return self.abort(job)
        raise BadJobRequest(f"PHASE={value!r} is not a request: use PHASE=RUN or PHASE=ABORT")

    def _run(self, job: JobRecord) -> JobRecord:
        t = transition(Event.RUN)
        moved = self.store.transition(job.job_id, [p.value for p in t.sources], t.target.value)
        if moved is None:
            raise PhaseConflict(f"job {job.job_id} is {job.phase}: only a PENDING or HELD job "
                                "can be run; create a new job to run it again")
        return self._enqueue(moved)

    def _enqueue(self, job: JobRecord) -> JobRecord:
        """Hand a QUEUED job to the queue (a queue failure puts it in ERROR)."""
        try:
            queue_id = self.queue.defer(job.job_id)
        except Exception:
            log.exception("could not queue job %s", job.job_id)
            f = transition(Event.FAIL)
            self.store.transition(job.job_id, [p.value for p in f.sources], f.target.value,
                                  error_code="UWS-QUEUE", error_type="transient",
                                  error_message="the job could not be queued (the job queue "
                                  "is unavailable); create the job again later",
                                  end_time="now()")
            return self.get(job.job_id, job.owner)
        self.store.update(job.job_id, queue_job_id=queue_id, durable=False)  # a hint only
        return job

    def abort(self, job: JobRecord, message: str | None = None) -> JobRecord:
        """Stop the job: ABORTED at once, its query cancelled in PostgreSQL (sec. 2.2.3.6)."""
        t = transition(Event.ABORT)
        changes: dict[str, object] = {"end_time": "now()"}
        if message:
            changes.update(error_code="UWS-ABORTED", error_message=message, error_type="fatal")
        moved = self.store.transition(job.job_id, [p.value for p in t.sources], t.target.value,
                                      **changes)
        if moved is None:
            current = self.get(job.job_id, job.owner)
            if current.phase in (Phase.ABORTED.value,):
                return current
            raise PhaseConflict(f"job {job.job_id} is {current.phase}: only a job that has not "
                                "finished can be aborted")
        self._stop_execution(moved)
        return self.get(job.job_id, job.owner)

    def _stop_execution(self, job: JobRecord) -> None:
        if job.backend_pid is not None:
            try:
                self.store.cancel_backend(job.backend_pid)
            except Exception:  # the worker's guard cancels it too
                log.warning("could not cancel backend %s of job %s", job.backend_pid, job.job_id)
        if job.queue_job_id is not None:
            try:
                self.queue.cancel(job.queue_job_id)
            except Exception:
                log.warning("could not cancel queue job %s", job.queue_job_id)

    def set_execution_duration(self, job_id: str, owner: str | None, value: str) -> JobRecord:
        """UWS 1.1 sec. 2.2.3.4; the service caps the value (and 0, unlimited) at its limit."""
        job = self.get(job_id, owner)
        try:
            seconds = int(value.strip())
        except ValueError:
            raise BadJobRequest(f"EXECUTIONDURATION={value!r} is not a whole number of "
                                "seconds") from None
        if job.phase != Phase.PENDING.value:
            raise PhaseConflict(f"job {job_id} is {job.phase}: the execution duration can only "
                                "be changed while it is PENDING")
        self.store.update(job_id, execution_duration=self._duration(seconds))
        return self.get(job_id, owner)

    def set_destruction(self, job_id: str, owner: str | None, value: str) -> JobRecord:
        """UWS 1.1 sec. 2.2.3.3; later than ``destruction_days`` from now is capped."""
        self.get(job_id, owner)
        self.store.update(job_id, destruction=self._destruction(parse_utc(value, "DESTRUCTION")))
        return self.get(job_id, owner)

    def delete(self, job_id: str, owner: str | None) -> None:
        """UWS 1.1 sec. 2.2.3.2: stop the job if it runs, then remove it and its results."""
        job = self.get(job_id, owner)
        if job.phase in {p.value for p in transition(Event.ABORT).sources}:
            try:
                self.abort(job)
            except PhaseConflict:
                pass
        self.store.delete(job_id)
        self.storage.delete_job(job_id)

    def open_result(self, job_id: str, owner: str | None,
                    result_id: str) -> tuple[BinaryIO, int, str]:
        """A result's bytes, size and media type (UWS 1.1 sec. 2.2.1)."""
        job = self.get(job_id, owner)
        record = next((r for r in job.results if r.result_id == result_id), None)
        opened = self.storage.open_result(job_id, result_id) if record else None
        if record is None or opened is None:
            raise JobNotFound(f"job {job_id} has no result {result_id!r}; its results are "
                              "listed at its results resource", code="UWS-NO-SUCH-RESULT")
        return opened[0], opened[1], record.mime_type or "application/octet-stream"

    def open_input(self, job_id: str, owner: str | None, name: str) -> BinaryIO:
        job = self.get(job_id, owner)
        fh = self.storage.open_input(job.job_id, name) if _is_name(name) else None
        if fh is None:
            raise JobNotFound(f"job {job_id} has no parameter {name!r}",
                              code="UWS-NO-SUCH-PARAMETER")
        return fh

    # -- limits -------------------------------------------------------------------
    def _check_running_quota(self, owner: str | None, client: str | None,
                             counts: dict[str, int] | None = None) -> None:
        if counts is None:
            counts = self.store.count_by_phase(owner=owner, client=client)
        active = sum(counts.get(p.value, 0) for p in RUNNING_QUOTA_PHASES)
        limit = self.settings.max_running_jobs_per_owner
        if active >= limit:
            raise QuotaExceeded(
                f"you already have {active} queued or executing jobs (the limit is {limit}): "
                "wait for one to finish, or abort one, then run this job")

    def _duration(self, requested: int | None) -> int:
        hard = self.settings.execution_duration_hard
        if requested is None:
            return self.settings.execution_duration_default
        if requested <= 0 or requested > hard:
            return hard
        return requested

    def _destruction(self, requested: datetime | None) -> datetime:
        latest = utcnow() + timedelta(days=self.settings.destruction_days)
        if requested is None or requested > latest:
            return latest
        return requested


def _is_name(name: str) -> bool:
    try:
        check_name(name, "name")
    except BadJobRequest:
        return False
    return True


def _phase(value: str | None) -> Phase:
    try:
        return Phase((value or "").strip().upper())
    except ValueError:
        raise BadJobRequest(f"{value!r} is not a UWS phase: use one of "
                            f"{', '.join(p.value for p in Phase)}") from None


def parse_utc(value: str, what: str) -> datetime:
    """An ISO 8601 time (UWS 1.1 sec. 2.1.5: UTC; a missing zone is taken as UTC)."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise BadJobRequest(f"{what}={value!r} is not an ISO 8601 time such as "
                            "2030-01-31T12:00:00Z") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)
