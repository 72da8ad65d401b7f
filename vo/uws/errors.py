"""Errors of the UWS layer, each with a stable code (UWS 1.1 sec. 2.2: 403/404 semantics)."""

from __future__ import annotations

from vo.errors import LimitError, NotFoundError, VOError


class JobNotFound(NotFoundError):
    """UWS 1.1 sec. 2.2: an unknown job or sub-resource is a 404."""

    code = "UWS-NO-SUCH-JOB"


class PhaseConflict(VOError):
    """The request is illegal in the job's current phase (UWS 1.1 sec. 2.2: 403)."""

    code = "UWS-PHASE"
    http_status = 403


class QuotaExceeded(LimitError):
    """The owner has too many jobs, or too many queued/running ones: creation or RUN is refused
    (UWS 1.1 sec. 2.2.3.1: a refused creation is a 403)."""

    code = "UWS-QUOTA"
    http_status = 403


class BadJobRequest(VOError):
    """A malformed UWS request value (PHASE, WAIT, DESTRUCTION, EXECUTIONDURATION, ...)."""

    code = "UWS-BAD-REQUEST"


class UnknownJobKind(VOError):
    """No runner is registered for a job's kind in this worker process."""

    code = "UWS-NO-RUNNER"
    http_status = 500


class ResultTooLarge(LimitError):
    """A job wrote more bytes than the configured result size limit."""

    code = "UWS-RESULT-SIZE"


class JobCancelled(VOError):
    """Raised inside a runner once the job was aborted or ran out of time."""

    code = "UWS-ABORTED"
