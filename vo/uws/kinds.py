"""Job kinds: what a UWS job does is registered here by the protocol that owns it.

UWS never imports TAP (DESIGN.md, layers): TAP calls :func:`register_kind` with a
runner; a worker process looks the runner up by the job's kind. A runner receives
a :class:`JobContext` (parameters, a result sink, inputs, cancellation) and returns
nothing: its results are what it wrote through ``ctx.results``. It raises a
``VOError`` to put the job in ERROR with that message (UWS 1.1 sec. 2.1.10).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

from vo.uws.errors import JobCancelled, UnknownJobKind
from vo.uws.results import ResultSink


class JobContext:
    """Everything a runner may use while its job executes."""

    def __init__(self, *, job_id: str, owner: str | None, parameters: Mapping[str, list[str]],
                 results: ResultSink, open_input: Callable[[str], BinaryIO | None],
                 deadline: datetime | None, on_backend: Callable[[int | None], None]) -> None:
        self.job_id = job_id
        self.owner = owner
        self.parameters = parameters
        """Parameter values by lower-case name, in the order given (DALI: names are
        case-insensitive)."""
        self.results = results
        self._open_input = open_input
        self.deadline = deadline
        """When the execution duration runs out (UTC), or None for no limit."""
        self._on_backend = on_backend
        self._cancelled = threading.Event()
        self.cancel_reason: str | None = None

    def open_input(self, name: str) -> BinaryIO | None:
        """An inline parameter's bytes (``param:name``, UWS 1.1 sec. 2.2.3.1.1), or None."""
        return self._open_input(name)

    def set_backend_pid(self, pid: int | None) -> None:
        """Tell UWS which PostgreSQL backend runs the job's query, so ABORT and the
        execution-duration watchdog can pg_cancel_backend it; None when it is done."""
        self._on_backend(pid)

    def first(self, name: str) -> str | None:
        values = self.parameters.get(name.lower())
        return values[0] if values else None

    # -- cancellation -------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self, reason: str) -> None:
        if not self._cancelled.is_set():
            self.cancel_reason = reason
            self._cancelled.set()

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` if the job was aborted (call between chunks of work)."""
        if self._cancelled.is_set():
            raise JobCancelled(self.cancel_reason or "the job was aborted")

    def wait_cancelled(self, timeout: float) -> bool:
        return self._cancelled.wait(timeout)


Runner = Callable[[JobContext], None]


@dataclass(frozen=True)
class JobKind:
    """A registered job kind: its runner and the parameters it takes once only."""

    name: str
    runner: Runner
    single_valued: frozenset[str] = field(default_factory=frozenset)
    """Lower-case names that may appear once; a repeat puts the job in ERROR."""


_KINDS: dict[str, JobKind] = {}


def register_kind(name: str, runner: Runner, *,
                  single_valued: frozenset[str] | set[str] = frozenset()) -> JobKind:
    """Register (or replace) the runner of job kind ``name`` in this process."""
    kind = JobKind(name, runner, frozenset(s.lower() for s in single_valued))
    _KINDS[name] = kind
    return kind


def get_kind(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownJobKind(
            f"this worker has no runner for jobs of kind {name!r}: start the worker with the "
            "module that registers it (vo worker loads the suite's own kinds)") from None


def registered_kinds() -> list[str]:
    return sorted(_KINDS)
