"""The transition table (UWS 1.1 sec. 2.1.3) and its enforcement in the job store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vo.db.jobs import JobStore, NewJob
from vo.uws.phases import FINAL, TRANSITIONS, Event, Phase, allowed, transition


def test_final_phases_are_final() -> None:
    for event, t in TRANSITIONS.items():
        assert not (t.sources & FINAL), f"{event} leaves a final phase"
    assert allowed(Event.ABORT, "EXECUTING") and not allowed(Event.ABORT, "COMPLETED")
    assert transition(Event.RUN).target is Phase.QUEUED
    assert not allowed(Event.COMPLETE, Phase.QUEUED)  # only an executing job completes


def test_store_applies_transitions_atomically(engine) -> None:  # type: ignore[no-untyped-def]
    store = JobStore(engine)
    store.create(NewJob("j1", "k", None, None, 60, datetime.now(UTC) + timedelta(days=1)))

    def apply(event: Event) -> str | None:
        t = transition(event)
        moved = store.transition("j1", [p.value for p in t.sources], t.target.value)
        return moved.phase if moved else None

    assert apply(Event.START) is None  # PENDING cannot start
    assert apply(Event.RUN) == "QUEUED"
    assert apply(Event.START) == "EXECUTING"
    assert apply(Event.ABORT) == "ABORTED"
    assert apply(Event.COMPLETE) is None  # a late worker cannot overwrite the ABORT
    assert apply(Event.FAIL) is None
    job = store.get("j1")
    assert job is not None and job.phase == "ABORTED"
