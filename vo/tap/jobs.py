"""TAP async (TAP 1.1 sec. 2.2): the ``tap`` UWS job kind, run by ``vo worker``.

UWS never imports TAP: ``vo worker`` calls ``register_uws_kinds`` (the loader named in
``vo.cli.main.KIND_LOADERS``), and the runner executes exactly what /sync does,
writing the result document through the job's result sink instead of an HTTP
response. The query's backend pid goes to UWS, whose guard cancels it on ABORT or
when the execution duration runs out.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from vo.config import Settings, load_settings
from vo.db import Engine
from vo.db.engine import database_url, make_engine
from vo.db.query import StreamedQuery
from vo.errors import QueryError
from vo.tap.params import SINGLE_VALUED
from vo.tap.service import TapService
from vo.uws.kinds import JobContext, register_kind

JOB_KIND = "tap"
_lock = threading.Lock()
_service: TapService | None = None


class _JobInputs(Mapping[str, Any]):
    """``param:name`` uploads of a job, opened from UWS input storage on demand."""

    def __init__(self, ctx: JobContext) -> None:
        self._ctx = ctx

    def __getitem__(self, name: str) -> Any:
        fh = self._ctx.open_input(name) or self._ctx.open_input(name.lower())
        if fh is None:
            raise KeyError(name)
        return fh

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _default_service() -> TapService:
    global _service
    with _lock:
        if _service is None:
            settings = load_settings()
            engine = make_engine(database_url(settings), pool_size=4)
            _service = TapService(settings, engine)
        return _service


def make_runner(service: TapService | None = None) -> Any:
    """The runner of ``tap`` jobs over ``service`` (default: one built from the environment)."""

    def run_tap_job(ctx: JobContext) -> None:
        svc = service or _default_service()
        timeout = float(svc.settings.execution_duration_hard)
        if ctx.deadline is not None:
            left = (ctx.deadline - dt.datetime.now(dt.UTC)).total_seconds()
            timeout = max(1.0, left + 5.0)  # UWS's guard aborts at the deadline itself

        def on_start(q: StreamedQuery) -> None:
            ctx.set_backend_pid(q.backend_pid)

        result = svc.open_result(
            ctx.parameters, _JobInputs(ctx), timeout_s=timeout, on_start=on_start
        )
        try:
            with ctx.results.open("result", result.content_type) as out:
                for block in result.stream():
                    out.write(block)
        finally:
            result.close()
            ctx.set_backend_pid(None)
        ctx.check_cancelled()
        outcome = result.outcome()
        if outcome.error is not None:
            raise QueryError(
                f"the query failed after {outcome.rows} rows: {outcome.error}",
                code="TAP-ASYNC-FAILED",
            )

    return run_tap_job


def register_uws_kinds(settings: Settings | None = None, engine: Engine | None = None) -> None:
    """Register the ``tap`` job kind (with its own service when settings/engine are given)."""
    service = TapService(settings, engine) if settings is not None and engine is not None else None
    register_kind(JOB_KIND, make_runner(service), single_valued=set(SINGLE_VALUED))


__all__ = ["JOB_KIND", "make_runner", "register_uws_kinds"]
