"""TAP 1.1 HTTP endpoints (Flask): sync, capabilities, availability, tables, examples.

Handlers are thin: gather the request's parameters (query string and form alike,
TAP 1.1 sec. 2.7; names case-insensitive, DALI 1.1 sec. 3.1) and files, call
``TapService`` or a VOSI builder, and serialise. Errors propagate to the web layer's
one handler, which answers them with a DALI error VOTable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.http import parse_options_header

from vo.db.jobs import JobStore
from vo.db.query import StreamedQuery
from vo.errors import NotFoundError
from vo.formats import output_formats
from vo.tap.disconnect import ClientWatch
from vo.tap.examples import examples_xhtml
from vo.tap.service import TapService
from vo.tap.vosi import (
    FeatureGroup,
    FormatEntry,
    availability_xml,
    capabilities_xml,
    table_xml,
    tableset_xml,
)
from vo.votable import error_document

XML = "text/xml; charset=utf-8"


def request_params() -> dict[str, list[str]]:
    """Query-string and form parameters together, names as sent (parsed case-insensitively)."""
    params: dict[str, list[str]] = {}
    for source in (request.args, request.form):
        for name in source:
            params.setdefault(name, []).extend(source.getlist(name))
    return params


def request_files() -> dict[str, Any]:
    """Multipart parts by name, also findable by lower-case name (param:NAME references)."""
    files: dict[str, Any] = {}
    for name in request.files:
        stream = request.files[name].stream
        files.setdefault(name, stream)
        files.setdefault(name.lower(), stream)
    return files


def adql_feature_groups() -> list[FeatureGroup]:
    """The translator's feature list (``vo.adql.features()``) as languageFeatures blocks."""
    from vo.adql import features

    return [
        FeatureGroup(
            _FEATURE_TYPE_SPELLING.get(type_, type_), tuple((f.form, f.description) for f in group)
        )
        for type_, group in features().by_type().items()
    ]


_FEATURE_TYPE_SPELLING = {
    # ADQL 2.1 sec. 4.8 writes this id as ivo://ivoa.net/std/tapregext#features-adql-conditional
    # (IVOA ids compare case-insensitively). STILTS 3.4.7 knows every other ADQL 2.1 group
    # but not this one, and reports an unknown key under the TAPRegExt spelling as an error;
    # in the REC's own spelling it is a declared, non-TAPRegExt-1.0 feature type.
    "ivo://ivoa.net/std/TAPRegExt#features-adql-conditional": "ivo://ivoa.net/std/tapregext#features-adql-conditional",
}


def tap_blueprint(tap: TapService) -> Blueprint:
    bp = Blueprint("tap", __name__)
    settings = tap.settings
    started = dt.datetime.now(dt.UTC)
    base_url = f"{settings.public_url}/tap"

    @bp.before_request
    def _lenient_multipart_boundary() -> None:
        """astroquery's TapPlus sends ``boundary====123===`` unquoted ('=' needs quotes,
        RFC 2046 sec. 5.1.1); quote it so the form parser finds the parts."""
        ct = request.environ.get("CONTENT_TYPE", "")
        if ct.lower().startswith("multipart/") and "boundary=" in ct and '"' not in ct:
            if "boundary" not in parse_options_header(ct)[1]:
                boundary = ct.split("boundary=", 1)[1].split(";")[0].strip()
                request.environ["CONTENT_TYPE"] = f'{ct.split(";")[0]}; boundary="{boundary}"'

    @bp.route("/sync", methods=["GET", "POST"])
    def sync() -> Response:
        """TAP 1.1 sec. 2.1 / 2.7: run the query and stream the result."""
        started: list[StreamedQuery] = []

        def hangup() -> None:
            for query in started:
                query.cancel("hangup")

        sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
        with ClientWatch(sock, hangup) as watch:

            def on_start(query: StreamedQuery) -> None:
                started.append(query)
                if watch.hung_up:  # noticed while the uploads were loading
                    query.cancel("hangup")

            result = tap.open_result(request_params(), request_files(), on_start=on_start)

        def body() -> Iterator[bytes]:
            yield from result.stream()

        resp = Response(
            body(), status=200, content_type=result.content_type, direct_passthrough=True
        )
        if not result.format.key.startswith("votable"):
            resp.headers["Content-Disposition"] = (
                f'inline; filename="result.{result.format.extension}"'
            )
        resp.call_on_close(result.close)
        return resp

    @bp.get("")
    @bp.get("/")
    def root() -> Response:
        page = (
            f"<html><head><title>{settings.service_title} TAP</title></head><body>"
            f"<h1>{settings.service_title}: TAP 1.1</h1><ul>"
            + "".join(
                f'<li><a href="{base_url}/{p}">{p}</a></li>'
                for p in ("sync", "async", "capabilities", "availability", "tables", "examples")
            )
            + "</ul></body></html>"
        )
        return Response(page, content_type="text/html; charset=utf-8")

    @bp.get("/capabilities")
    def capabilities() -> Response:
        formats = [FormatEntry(f.mime, f.aliases, f.ivo_id) for f in output_formats()]
        body = capabilities_xml(settings, base_url, adql_feature_groups(), formats)
        return Response(body, content_type=XML)

    @bp.get("/availability")
    def availability() -> Response:
        ok, note = True, "the service is accepting queries"
        try:
            tap.schema.lookup()
        except Exception as exc:  # noqa: BLE001 - reported as unavailable
            ok, note = False, f"the database is unreachable ({type(exc).__name__})"
        return Response(availability_xml(started, ok, note), content_type=XML)

    @bp.get("/tables")
    def tables() -> Response:
        detail = request.args.get("detail") or request.args.get("DETAIL")
        lookup = tap.schema.lookup()
        descriptions = tap.schema.schema_descriptions()
        body = tableset_xml(lookup.tables(), descriptions, detail_min=(detail == "min"))
        return Response(body, content_type=XML)

    @bp.get("/tables/<path:name>")
    def table(name: str) -> Response:
        t = tap.schema.lookup().table(name)
        if t is None:
            raise NotFoundError(
                f"there is no table {name!r}; {base_url}/tables lists them",
                code="TAP-UNKNOWN-TABLE",
            )
        return Response(table_xml(t), content_type=XML)

    @bp.get("/async/<job_id>/error")
    def async_error(job_id: str) -> Response:
        """TAP 1.1 sec. 2.2 / DALI 1.1 sec. 4.4.2: a failed job's error is a VOTable.

        Served here rather than by the generic UWS blueprint (whose ``error`` resource is
        plain text); the more specific URL rule wins over UWS's ``/<job_id>/<resource>``.
        """
        job = JobStore(tap.engine).get(job_id, with_details=False)
        if job is None or job.kind != "tap":
            raise NotFoundError(
                f"there is no job {job_id!r}: it may have been destroyed", code="UWS-NO-SUCH-JOB"
            )
        if job.phase not in ("ERROR", "ABORTED") or not job.error_message:
            return Response("", content_type="text/plain; charset=utf-8")
        body = error_document(job.error_message, code=job.error_code)
        return Response(body, content_type="application/x-votable+xml")

    @bp.get("/examples")
    def examples() -> Response:
        lookup = tap.schema.lookup()
        body = examples_xhtml(settings.service_title, lambda n: lookup.table(n) is not None)
        return Response(body, content_type="application/xhtml+xml; charset=utf-8")

    return bp


__all__ = ["adql_feature_groups", "request_files", "request_params", "tap_blueprint"]
