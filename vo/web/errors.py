"""The ONE error handler: any error becomes the protocol's error document, by endpoint.

DALI 1.1 sec. 4.4.2 / TAP 1.1 sec. 2.9: TAP and SIA answer with an error VOTable
(QUERY_STATUS=ERROR) and HTTP 400 for the client's mistakes, 500 for the service's
own failures, never with HTML or a traceback. Other protocols (UWS job resources,
OAI-PMH) register their own renderer for their URL prefix with
``register_error_renderer``; the longest matching prefix wins. Unexpected exceptions
are logged with their traceback and answered 500 with a message that says what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from vo.errors import VOError
from vo.votable import error_document

log = logging.getLogger(__name__)

ErrorRenderer = Callable[[VOError], Response]
_RENDERERS_KEY = "vo.error_renderers"


class HTTPProtocolError(VOError):
    """An HTTP-level refusal (unknown URL, wrong method) reported in the protocol's form."""

    code = "HTTP"


class InternalServiceError(VOError):
    """An unexpected failure of the service itself (logged with its traceback)."""

    code = "INTERNAL"
    http_status = 500


def dali_error_response(exc: VOError) -> Response:
    """A DALI error VOTable with the error's status (DALI 1.1 sec. 4.4.2)."""
    body = error_document(exc.message, code=exc.code)
    return Response(
        body, status=exc.http_status, content_type="application/x-votable+xml; charset=utf-8"
    )


def plain_error_response(exc: VOError) -> Response:
    """For non-protocol pages (landing page, /health): short plain text."""
    return Response(
        f"{exc.code}: {exc.message}\n",
        status=exc.http_status,
        content_type="text/plain; charset=utf-8",
    )


def register_error_renderer(app: Flask, prefix: str, render: ErrorRenderer) -> None:
    """Answer errors under URL ``prefix`` (e.g. ``/tap/async``) with ``render``."""
    app.extensions.setdefault(_RENDERERS_KEY, {})[prefix.rstrip("/")] = render


def _renderer(app: Flask, path: str) -> ErrorRenderer:
    best, found = -1, plain_error_response
    for prefix, render in app.extensions.get(_RENDERERS_KEY, {}).items():
        if (path == prefix or path.startswith(prefix + "/")) and len(prefix) > best:
            best, found = len(prefix), render
    return found


def _as_vo_error(exc: BaseException) -> VOError:
    if isinstance(exc, VOError):
        return exc
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        if status == 404:
            msg = f"there is no resource at {request.path}; see {request.host_url} for the services"
        elif status == 405:
            msg = f"{request.method} is not allowed on {request.path}"
        else:
            msg = exc.description or exc.name
        return HTTPProtocolError(msg, code=f"HTTP-{status}", http_status=status)
    log.error("unexpected failure on %s %s", request.method, request.path, exc_info=exc)
    return InternalServiceError(
        f"the service failed unexpectedly ({type(exc).__name__}); the failure was logged: "
        "try again later or tell the operators"
    )


def install_error_handler(app: Flask) -> None:
    """Register the one handler on ``app``; renderers are registered per prefix."""

    @app.errorhandler(Exception)
    def _handle(exc: Exception) -> Response:
        err = _as_vo_error(exc)
        if err.http_status >= 500 and isinstance(exc, VOError):
            log.error("service error on %s: %s", request.path, err)
        resp = _renderer(app, request.path)(err)
        if isinstance(exc, HTTPException) and exc.code == 405:
            valid = getattr(exc, "valid_methods", None)
            if valid:
                resp.headers["Allow"] = ", ".join(valid)
        return resp


__all__ = [
    "HTTPProtocolError",
    "InternalServiceError",
    "dali_error_response",
    "install_error_handler",
    "plain_error_response",
    "register_error_renderer",
]
