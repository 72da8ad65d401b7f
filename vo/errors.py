"""The one root of every error the suite reports to a person (L0: imports nothing of ours).

Each error carries a stable ``code`` a user can search for, a ``message`` that says
what was wrong and what to do, optional ``detail`` and the HTTP status the web layer
uses. The web layer turns any VOError into the protocol's error document (a DALI
error VOTable, a UWS errorSummary, an OAI-PMH error) in exactly one place.
"""

from __future__ import annotations


class VOError(Exception):
    """Root of all user-facing errors.

    ``http_status`` is 400 for the client's mistakes and 500 for the service's own
    failures (TAP 1.1 sec. 2.9 allows either with an error VOTable; we keep these).
    """

    code: str = "VO-ERROR"
    http_status: int = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        detail: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.detail = detail
        if http_status is not None:
            self.http_status = http_status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ConfigError(VOError):
    """The service's configuration is invalid (a setting's value or the TOML file)."""

    code = "CONFIG"
    http_status = 500


class DatabaseError(VOError):
    """The database could not be reached, started or queried for a reason not the user's."""

    code = "DATABASE"
    http_status = 500


class IngestError(VOError):
    """An input file could not be ingested; the message names file, row/line and column."""

    code = "INGEST"


class NotFoundError(VOError):
    """A named resource (table, job, result) does not exist or is not visible."""

    code = "NOT-FOUND"
    http_status = 404


class QueryError(VOError):
    """A query is invalid (ADQL syntax or semantics, bad parameter values)."""

    code = "QUERY"


class LimitError(VOError):
    """A configured limit (upload size, quota, execution time) was exceeded."""

    code = "LIMIT"
