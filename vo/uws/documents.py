"""UWS 1.1 XML documents (job, job list, results, parameters) through vo-models.

Valid against UWS-v1.1.xsd: ``version="1.1"`` on job and jobs (UWS 1.1 sec. 2.2.1),
times in UTC with ``Z``. Jobs are serialised without ``skip_empty`` (DESIGN.md:
vo-models quirk: nillable elements must stay as ``xsi:nil``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic_xml import element
from vo_models.uws import (
    ErrorSummary,
    Jobs,
    JobSummary,
    Parameter,
    Parameters,
    ResultReference,
    Results,
    ShortJobDescription,
)
from vo_models.uws.types import ErrorType, ExecutionPhase

from vo.db.jobs import JobRecord

XML_CONTENT_TYPE = "text/xml; charset=utf-8"


class JobParameters(Parameters):
    """Parameters of any job kind: one ``uws:parameter`` per stored value, in order.

    vo-models expects one field per known parameter; a job kind's parameters are not
    known here, so this subclass keeps them as a plain list (DESIGN.md quirk).
    """

    params: list[Parameter] | None = element(tag="parameter", default_factory=list)

    def __init__(self, **data: Any) -> None:
        super(Parameters, self).__init__(**data)


def _parameters(job: JobRecord) -> JobParameters:
    return JobParameters(params=[
        Parameter(id=p.name, value=p.value, by_reference=p.by_reference, is_post=p.is_post)
        for p in job.parameters])


def _results(job: JobRecord, job_url: str) -> Results:
    return Results(results=[
        ResultReference(id=r.result_id, href=f"{job_url}/results/{r.result_id}", size=r.size,
                        mime_type=r.mime_type)
        for r in job.results])


def _error(job: JobRecord) -> ErrorSummary | None:
    if job.phase not in ("ERROR", "ABORTED") or not job.error_message:
        return None
    return ErrorSummary(message=job.error_message,
                        type=ErrorType(job.error_type or "fatal"), has_detail=True)


def job_document(job: JobRecord, job_url: str) -> bytes:
    """The ``uws:job`` element of UWS 1.1 sec. 2.2.1 for one job."""
    summary = JobSummary[JobParameters](
        job_id=job.job_id,
        run_id=job.run_id,
        owner_id=job.owner,
        phase=ExecutionPhase(job.phase),
        quote=job.quote,
        creation_time=job.creation_time,
        start_time=job.start_time,
        end_time=job.end_time,
        execution_duration=job.execution_duration,
        destruction=job.destruction,
        parameters=_parameters(job),
        results=_results(job, job_url),
        error_summary=_error(job),
    )
    return _with_declaration(summary.to_xml())


def job_list_document(jobs: list[JobRecord], list_url: str) -> bytes:
    """The ``uws:jobs`` element of UWS 1.1 sec. 2.2.2.1."""
    doc = Jobs(jobref=[
        ShortJobDescription(job_id=j.job_id, phase=ExecutionPhase(j.phase), run_id=j.run_id,
                            owner_id=j.owner, creation_time=j.creation_time,
                            href=f"{list_url}/{j.job_id}")
        for j in jobs])
    return _with_declaration(doc.to_xml())


def results_document(job: JobRecord, job_url: str) -> bytes:
    return _with_declaration(_results(job, job_url).to_xml())


def parameters_document(job: JobRecord) -> bytes:
    return _with_declaration(_parameters(job).to_xml())


def _with_declaration(body: bytes | str) -> bytes:
    data = body.encode() if isinstance(body, str) else body
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + data


def iso_utc(t: datetime | None) -> str:
    """UTC ISO 8601 with milliseconds and ``Z`` (UWS 1.1 sec. 2.1.5), "" for no time."""
    if t is None:
        return ""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
