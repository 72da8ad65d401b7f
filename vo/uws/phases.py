"""UWS execution phases and the one table of allowed transitions (UWS 1.1 sec. 2.1.3).

Every phase change in the suite is an :class:`Event` looked up here; the job store
applies it atomically (``UPDATE ... WHERE phase = ANY(sources)``), so a late worker
cannot overwrite an ABORT and an ABORT cannot overwrite a finished job.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    """UWS 1.1 sec. 2.1.3 (the ExecutionPhase type of UWS-v1.1.xsd)."""

    PENDING = "PENDING"
    QUEUED = "QUEUED"
    EXECUTING = "EXECUTING"
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"
    ABORTED = "ABORTED"
    UNKNOWN = "UNKNOWN"
    HELD = "HELD"
    SUSPENDED = "SUSPENDED"
    ARCHIVED = "ARCHIVED"


ACTIVE = frozenset({Phase.PENDING, Phase.QUEUED, Phase.EXECUTING, Phase.HELD, Phase.SUSPENDED})
"""Phases from which a job may still move by itself or by request."""

FINAL = frozenset({Phase.COMPLETED, Phase.ERROR, Phase.ABORTED, Phase.ARCHIVED})

WAITABLE = frozenset({Phase.PENDING, Phase.QUEUED, Phase.EXECUTING})
"""UWS 1.1 sec. 2.2.1.1: a blocking WAIT may block only in these "active" phases."""

RUNNING_QUOTA_PHASES = frozenset({Phase.QUEUED, Phase.EXECUTING})
"""Phases counted against an owner's maximum of queued and running jobs."""


class Event(StrEnum):
    """What can happen to a job; who causes it is in the comment of the table entry."""

    RUN = "RUN"
    START = "START"
    COMPLETE = "COMPLETE"
    FAIL = "FAIL"
    ABORT = "ABORT"
    REQUEUE = "REQUEUE"
    HOLD = "HOLD"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Phase]
    target: Phase


TRANSITIONS: dict[Event, Transition] = {
    # client: PHASE=RUN (UWS 1.1 sec. 2.2.3.5); a HELD job may be run again
    Event.RUN: Transition(frozenset({Phase.PENDING, Phase.HELD}), Phase.QUEUED),
    # server: the job was refused a queue place for now (sec. 2.1.3, HELD)
    Event.HOLD: Transition(frozenset({Phase.PENDING}), Phase.HELD),
    # worker: picked the job from the queue
    Event.START: Transition(frozenset({Phase.QUEUED}), Phase.EXECUTING),
    # worker: the runner returned its results
    Event.COMPLETE: Transition(frozenset({Phase.EXECUTING}), Phase.COMPLETED),
    # worker or recovery: the job failed (also a queued job whose worker vanished)
    Event.FAIL: Transition(frozenset({Phase.QUEUED, Phase.EXECUTING}), Phase.ERROR),
    # client PHASE=ABORT (sec. 2.2.3.6), or the execution duration ran out (sec. 2.1.4)
    Event.ABORT: Transition(
        frozenset({Phase.PENDING, Phase.QUEUED, Phase.EXECUTING, Phase.HELD, Phase.SUSPENDED}),
        Phase.ABORTED),
    # recovery: the worker running the job died; it goes back to the queue
    Event.REQUEUE: Transition(frozenset({Phase.EXECUTING}), Phase.QUEUED),
}


def transition(event: Event) -> Transition:
    """The allowed sources and the target of ``event``."""
    return TRANSITIONS[event]


def allowed(event: Event, phase: Phase | str) -> bool:
    """May ``event`` happen to a job in ``phase``?"""
    return Phase(phase) in TRANSITIONS[event].sources
