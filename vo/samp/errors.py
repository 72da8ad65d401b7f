"""Errors of the SAMP bridge: each says what went wrong and what the person can do.

All derive from ``vo.errors.VOError`` so the CLI and the web layer report them the
same way as every other error of the suite (a stable code, an actionable message).
"""

from __future__ import annotations

from vo.errors import VOError

NO_HUB_MESSAGE = "no SAMP hub: start TOPCAT or run `vo samp hub`"


class SampError(VOError):
    """Root of the SAMP bridge's errors."""

    code = "SAMP"
    http_status = 500


class SampHubNotFound(SampError):
    """No hub answers at the lockfile named by SAMP_HUB or ~/.samp (SAMP 1.3 sec. 3.3)."""

    code = "SAMP-NO-HUB"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(NO_HUB_MESSAGE, detail=detail)


class SampHubRunning(SampError):
    """A hub is already running where a new one was asked to start."""

    code = "SAMP-HUB-RUNNING"


class SampUnknownClient(SampError):
    """A recipient given by id or name is not registered with the hub."""

    code = "SAMP-UNKNOWN-CLIENT"
    http_status = 400


class SampNotSubscribed(SampError):
    """The recipient (or every client) does not subscribe to the message's MType."""

    code = "SAMP-NOT-SUBSCRIBED"
    http_status = 400


class SampUnreadable(SampError):
    """A file to send cannot be read, or is not the kind of file the message needs."""

    code = "SAMP-UNREADABLE"
    http_status = 400


class SampCallFailed(SampError):
    """A recipient answered a call with samp.error, or did not answer in time."""

    code = "SAMP-CALL-FAILED"


class SampQueryFailed(SampError):
    """A TAP query whose result was to be sent failed (service down or query error)."""

    code = "SAMP-QUERY-FAILED"
    http_status = 400


__all__ = [
    "NO_HUB_MESSAGE",
    "SampCallFailed",
    "SampError",
    "SampHubNotFound",
    "SampHubRunning",
    "SampNotSubscribed",
    "SampQueryFailed",
    "SampUnknownClient",
    "SampUnreadable",
]
