"""The UWS 1.1 REST binding (UWS 1.1 sec. 2.2) as a Flask blueprint, one per job kind.

``make_uws_blueprint("tap_async", "/tap/async", "tap", settings, engine)`` gives the job
list, job creation, the job and its sub-resources. Handlers only parse the request,
call one :class:`~vo.uws.service.UwsService` method and serialise the answer.
UWS parameter names (PHASE, WAIT, ACTION, ...) are case-insensitive like DALI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, redirect, request, stream_with_context
from werkzeug.datastructures import MultiDict

from vo.config import Settings
from vo.db import Engine
from vo.db.jobs import JobRecord, JobStore, ParameterRecord
from vo.errors import VOError
from vo.uws.documents import (
    XML_CONTENT_TYPE,
    iso_utc,
    job_document,
    job_list_document,
    parameters_document,
    results_document,
)
from vo.uws.errors import BadJobRequest, JobNotFound
from vo.uws.queue import JobQueue, ProcrastinateQueue
from vo.uws.results import FilesystemResultStorage, ResultStorage
from vo.uws.service import Upload, UwsService, parse_utc

OwnerOf = Callable[[], str | None]
TEXT = "text/plain; charset=utf-8"

CONTROL = {"PHASE", "RUNID", "ACTION", "WAIT", "EXECUTIONDURATION", "DESTRUCTION",
           "REQUEST_ID"}
"""UWS control parameters (UWS 1.1 sec. 2.2.3): never stored as job parameters."""


def uws_error_response(exc: VOError) -> Response:
    """Errors on job resources: plain text with the UWS status (404 unknown job, 403 refused
    or illegal in this phase, 400 bad value, 500 the service's own failure)."""
    return Response(f"{exc.code}: {exc.message}\n", status=exc.http_status, content_type=TEXT)


def _anonymous() -> str | None:
    return None


def make_uws_blueprint(name: str, url_prefix: str, job_kind: str, settings: Settings,
                       engine: Engine, *, owner_of: OwnerOf = _anonymous,
                       queue: JobQueue | None = None, storage: ResultStorage | None = None,
                       handle_errors: bool = True) -> Blueprint:
    """A blueprint serving the UWS job list of ``job_kind`` at ``url_prefix``.

    ``owner_of`` names the caller (None: anonymous) once users exist. With
    ``handle_errors`` the blueprint answers its own ``VOError``s as plain text
    (:func:`uws_error_response`); the web app may register that renderer itself instead.
    """
    svc = UwsService(kind=job_kind, store=JobStore(engine),
                     storage=storage or FilesystemResultStorage(settings.results_dir),
                     queue=queue or ProcrastinateQueue(engine), settings=settings)
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    def list_url() -> str:
        base = settings.base_url.rstrip("/") if settings.base_url else request.host_url.rstrip("/")
        return base + url_prefix.rstrip("/")

    def job_url(job_id: str) -> str:
        return f"{list_url()}/{job_id}"

    def to_job(job_id: str) -> Response:
        return redirect(job_url(job_id), code=303)  # type: ignore[return-value]

    def xml(body: bytes) -> Response:
        return Response(body, content_type=XML_CONTENT_TYPE)

    def text(value: str) -> Response:
        return Response(value, content_type=TEXT)

    # -- job list ------------------------------------------------------------------
    @bp.get("")
    def job_list() -> Response:
        args = _upper(request.args)
        phases = args.getlist("PHASE") or None
        after = parse_utc(args["AFTER"], "AFTER") if "AFTER" in args else None
        last = _int(args["LAST"], "LAST") if "LAST" in args else None
        jobs = svc.list_jobs(owner_of(), phases=phases, after=after, last=last)
        return xml(job_list_document(jobs, list_url()))

    @bp.post("")
    def create_job() -> Response:
        params, control = _split(request.values, set(request.form.keys()))
        run = _single(control, "PHASE")
        if run is not None and run.upper() != "RUN":
            raise BadJobRequest(f"PHASE={run!r} cannot be given when creating a job; use "
                                "PHASE=RUN to queue it at once")
        duration = _single(control, "EXECUTIONDURATION")
        destruction = _single(control, "DESTRUCTION")
        uploads = [Upload(key, fs.stream) for key, fs in request.files.items(multi=True)]
        job = svc.create(
            owner_of(), params, run_id=_single(control, "RUNID"), run=run is not None,
            uploads=uploads,
            execution_duration=_int(duration, "EXECUTIONDURATION") if duration else None,
            destruction=parse_utc(destruction, "DESTRUCTION") if destruction else None,
            client=request.remote_addr)
        return to_job(job.job_id)

    # -- one job -------------------------------------------------------------------
    @bp.get("/<job_id>")
    def get_job(job_id: str) -> Response:
        args = _upper(request.args)
        if "WAIT" in args:
            job = svc.wait(job_id, owner_of(), _int(args["WAIT"], "WAIT"), args.get("PHASE"))
        else:
            job = svc.get(job_id, owner_of())
        return xml(job_document(job, job_url(job_id)))

    @bp.post("/<job_id>")
    def post_job(job_id: str) -> Response:
        params, control = _split(request.form, set(request.form.keys()))
        action = _single(control, "ACTION")
        if action is not None:
            if action.upper() != "DELETE":
                raise BadJobRequest(f"ACTION={action!r} is not known: use ACTION=DELETE")
            svc.delete(job_id, owner_of())
            return redirect(list_url(), code=303)  # type: ignore[return-value]
        owner = owner_of()
        if params:
            svc.update_parameters(job_id, owner, params)
        for key, apply in (("RUNID", svc.set_run_id),
                           ("EXECUTIONDURATION", svc.set_execution_duration),
                           ("DESTRUCTION", svc.set_destruction), ("PHASE", svc.set_phase)):
            value = _single(control, key)
            if value is not None:
                apply(job_id, owner, value)
        svc.get(job_id, owner)
        return to_job(job_id)

    @bp.delete("/<job_id>")
    def delete_job(job_id: str) -> Response:
        svc.delete(job_id, owner_of())
        return redirect(list_url(), code=303)  # type: ignore[return-value]

    # -- sub-resources (UWS 1.1 sec. 2.2.1) ---------------------------------------
    @bp.get("/<job_id>/<resource>")
    def get_resource(job_id: str, resource: str) -> Response:
        job = svc.get(job_id, owner_of())
        render = _ATOMIC.get(resource.lower())
        if render is not None:
            return text(render(job))
        if resource == "results":
            return xml(results_document(job, job_url(job_id)))
        if resource == "parameters":
            return xml(parameters_document(job))
        raise JobNotFound(f"a job has no resource {resource!r}: see UWS 1.1 sec. 2.2.1",
                          code="UWS-NO-SUCH-RESOURCE")

    @bp.post("/<job_id>/<resource>")
    def post_resource(job_id: str, resource: str) -> Response:
        owner = owner_of()
        form = _upper(request.form)
        setters: dict[str, tuple[str, Callable[[str, str | None, str], Any]]] = {
            "phase": ("PHASE", svc.set_phase),
            "executionduration": ("EXECUTIONDURATION", svc.set_execution_duration),
            "destruction": ("DESTRUCTION", svc.set_destruction),
        }
        if resource == "parameters":
            params, control = _split(request.form, set(request.form.keys()))
            svc.update_parameters(job_id, owner, params)
            run_id = _single(control, "RUNID")
            if run_id is not None:
                svc.set_run_id(job_id, owner, run_id)
            return to_job(job_id)
        if resource not in setters:
            svc.get(job_id, owner)
            raise JobNotFound(f"{resource!r} of a job cannot be changed",
                              code="UWS-NO-SUCH-RESOURCE")
        key, apply = setters[resource]
        value = _single(form, key)
        if value is None:
            raise BadJobRequest(f"POST to {resource} needs the parameter {key}")
        apply(job_id, owner, value)
        return to_job(job_id)

    @bp.get("/<job_id>/results/<result_id>")
    def get_result(job_id: str, result_id: str) -> Response:
        fh, size, mime = svc.open_result(job_id, owner_of(), result_id)
        resp = Response(stream_with_context(_chunks(fh)), content_type=mime)
        resp.headers["Content-Length"] = str(size)
        return resp

    @bp.get("/<job_id>/parameters/<param>")
    def get_inline_parameter(job_id: str, param: str) -> Response:
        fh = svc.open_input(job_id, owner_of(), param)
        return Response(_chunks(fh), content_type="application/octet-stream")

    if handle_errors:
        bp.register_error_handler(VOError, uws_error_response)
    return bp


def mount(app: Flask, settings: Settings, engine: Engine) -> None:
    """Hook for ``vo.web.create_app``: TAP async jobs (TAP 1.1 sec. 2.2) at ``/tap/async``."""
    app.register_blueprint(make_uws_blueprint("tap_async", "/tap/async", "tap", settings, engine))


_ATOMIC: dict[str, Callable[[JobRecord], str]] = {
    "phase": lambda j: j.phase,
    "executionduration": lambda j: str(j.execution_duration),
    "destruction": lambda j: iso_utc(j.destruction),
    "quote": lambda j: iso_utc(j.quote),
    "owner": lambda j: j.owner or "",
    "error": lambda j: (j.error_message or "") if j.phase in ("ERROR", "ABORTED") else "",
    "runid": lambda j: j.run_id or "",
}


def _chunks(fh: Any, size: int = 1 << 16) -> Any:
    with fh:
        while True:
            block = fh.read(size)
            if not block:
                return
            yield block


def _upper(values: MultiDict[str, str]) -> MultiDict[str, str]:
    return MultiDict([(k.upper(), v) for k, v in values.items(multi=True)])


def _split(values: MultiDict[str, str], posted: set[str]
           ) -> tuple[list[ParameterRecord], MultiDict[str, str]]:
    """Job parameters (names lower case, DALI) apart from UWS control parameters."""
    params: list[ParameterRecord] = []
    control: MultiDict[str, str] = MultiDict()
    for key, value in values.items(multi=True):
        if key.upper() in CONTROL:
            control.add(key.upper(), value)
        else:
            params.append(ParameterRecord(key.lower(), value, is_post=key in posted))
    return params, control


def _single(values: MultiDict[str, str], key: str) -> str | None:
    got = values.getlist(key)
    if len(got) > 1 and len(set(got)) > 1:
        raise BadJobRequest(f"{key} was given {len(got)} times with different values; give "
                            "it once")
    return got[0] if got else None


def _int(value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise BadJobRequest(f"{what}={value!r} is not an integer") from None
