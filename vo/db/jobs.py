"""The UWS job store: every SQL statement on the ``uws`` schema (migration 0002).

UWS 1.1 sec. 2.1 defines the job object; ``vo.uws`` owns the rules (which phase may
follow which) and passes them here as data: :meth:`JobStore.transition` changes a
phase only if the job is in one of the allowed source phases, atomically, so two
processes (a web server handling ABORT, a worker finishing the job) cannot both win.
A trigger NOTIFYs ``uws_phase`` on every phase change; :meth:`JobStore.wait_for_phase_change`
LISTENs for it to implement the blocking WAIT of UWS 1.1 sec. 2.2.1.1.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

PHASE_CHANNEL = "uws_phase"

_JOB_COLUMNS = (
    "job_id, kind, owner, client, run_id, phase, creation_time, start_time, end_time, "
    "execution_duration, destruction, quote, error_code, error_message, error_type, "
    "queue_job_id, backend_pid, backend_since, worker, attempts"
)


@dataclass(frozen=True)
class ParameterRecord:
    """One UWS parameter (UWS 1.1 sec. 2.1.11); names are stored lower case."""

    name: str
    value: str
    by_reference: bool = False
    is_post: bool = False


@dataclass(frozen=True)
class ResultRecord:
    """One result reference (UWS 1.1 sec. 2.1.12); the bytes live in result storage."""

    result_id: str
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class JobRecord:
    """One row of ``uws.job`` with its parameters and results."""

    job_id: str
    kind: str
    owner: str | None
    client: str | None
    run_id: str | None
    phase: str
    creation_time: datetime
    start_time: datetime | None
    end_time: datetime | None
    execution_duration: int
    destruction: datetime
    quote: datetime | None
    error_code: str | None
    error_message: str | None
    error_type: str | None
    queue_job_id: int | None
    backend_pid: int | None
    backend_since: datetime | None
    worker: str | None
    attempts: int
    parameters: tuple[ParameterRecord, ...] = field(default=())
    results: tuple[ResultRecord, ...] = field(default=())


@dataclass(frozen=True)
class NewJob:
    """What job creation stores (UWS 1.1 sec. 2.2.3.1)."""

    job_id: str
    kind: str
    owner: str | None
    run_id: str | None
    execution_duration: int
    destruction: datetime
    parameters: Sequence[ParameterRecord] = ()
    client: str | None = None
    """Address of an anonymous caller: per-owner quotas apply per address to them."""


class JobStore:
    """SQL on the ``uws`` tables; ``vo.uws`` decides, this class only reads and writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- reading ------------------------------------------------------------------
    def get(self, job_id: str, *, with_details: bool = True) -> JobRecord | None:
        with self.engine.connect() as conn:
            return self._get(conn, job_id, with_details=with_details)

    def _get(self, conn: Connection, job_id: str, *, with_details: bool) -> JobRecord | None:
        row = conn.execute(text(f"SELECT {_JOB_COLUMNS} FROM uws.job WHERE job_id = :id"),
                           {"id": job_id}).mappings().first()
        if row is None:
            return None
        if not with_details:
            return JobRecord(**row)
        params = conn.execute(text(
            "SELECT name, value, by_reference, is_post FROM uws.job_parameter "
            "WHERE job_id = :id ORDER BY position"), {"id": job_id}).mappings().all()
        results = conn.execute(text(
            "SELECT result_id, mime_type, size FROM uws.job_result "
            "WHERE job_id = :id ORDER BY position"), {"id": job_id}).mappings().all()
        return JobRecord(**row, parameters=tuple(ParameterRecord(**p) for p in params),
                         results=tuple(ResultRecord(**r) for r in results))

    def list_jobs(self, *, owner: str | None, kind: str, phases: Iterable[str] | None = None,
             exclude_phases: Iterable[str] = (), after: datetime | None = None,
             last: int | None = None) -> list[JobRecord]:
        """Jobs of one owner (None: anonymous) and kind, newest first (UWS 1.1 sec. 2.2.2.1)."""
        sql = [f"SELECT {_JOB_COLUMNS} FROM uws.job WHERE owner IS NOT DISTINCT FROM :owner "
               "AND kind = :kind"]
        args: dict[str, Any] = {"owner": owner, "kind": kind}
        if phases is not None:
            sql.append("AND phase = ANY(:phases)")
            args["phases"] = list(phases)
        excluded = list(exclude_phases)
        if excluded:
            sql.append("AND phase <> ALL(:excluded)")
            args["excluded"] = excluded
        if after is not None:
            sql.append("AND creation_time > :after")
            args["after"] = after
        sql.append("ORDER BY creation_time DESC, job_id")
        if last is not None:
            sql.append("LIMIT :last")
            args["last"] = last
        with self.engine.connect() as conn:
            rows = conn.execute(text(" ".join(sql)), args).mappings().all()
        return [JobRecord(**r) for r in rows]

    def count(self, *, owner: str | None, phases: Iterable[str]) -> int:
        """How many jobs of this owner are in the given phases (for per-owner quotas)."""
        with self.engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM uws.job WHERE owner IS NOT DISTINCT FROM :owner "
                "AND phase = ANY(:phases)"), {"owner": owner, "phases": list(phases)}).scalar_one())

    def count_by_phase(self, *, owner: str | None, client: str | None = None) -> dict[str, int]:
        """Jobs per phase of one owner, or of one anonymous client address (quota checks)."""
        where = ("owner = :owner" if owner is not None
                 else "owner IS NULL AND client IS NOT DISTINCT FROM :client")
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                f"SELECT phase, count(*) FROM uws.job WHERE {where} GROUP BY phase"),
                {"owner": owner, "client": client}).all()
        return {str(p): int(n) for p, n in rows}

    def orphaned_queued(self, grace_seconds: float) -> list[str]:
        """QUEUED jobs with no live procrastinate entry (``todo``/``doing``) for longer than
        ``grace_seconds``: e.g. the web server died between storing and queueing a job."""
        with self.engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT j.job_id FROM uws.job j LEFT JOIN procrastinate_jobs q "
                "ON q.id = j.queue_job_id AND q.status IN ('todo', 'doing') "
                "WHERE j.phase = 'QUEUED' AND q.id IS NULL "
                "AND greatest(j.creation_time, coalesce(j.start_time, j.creation_time)) "
                "< now() - make_interval(secs => :grace) LIMIT 100"),
                {"grace": grace_seconds}).scalars())

    def orphaned_executing(self, grace_seconds: float) -> list[str]:
        """EXECUTING jobs whose queue entry is no longer ``doing`` (its worker recorded a
        failure but could not update the job, e.g. the database was away too long)."""
        with self.engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT j.job_id FROM uws.job j LEFT JOIN procrastinate_jobs q "
                "ON q.id = j.queue_job_id AND q.status = 'doing' "
                "WHERE j.phase = 'EXECUTING' AND q.id IS NULL "
                "AND coalesce(j.start_time, j.creation_time) "
                "< now() - make_interval(secs => :grace) LIMIT 100"),
                {"grace": grace_seconds}).scalars())

    def expired(self, now: datetime, limit: int = 1000) -> list[str]:
        """Ids of jobs whose destruction time has passed (UWS 1.1 sec. 2.1.5)."""
        with self.engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT job_id FROM uws.job WHERE destruction <= :now ORDER BY destruction "
                "LIMIT :limit"), {"now": now, "limit": limit}).scalars())

    # -- writing ------------------------------------------------------------------
    def create(self, job: NewJob, *, phase: str = "PENDING") -> JobRecord:
        with self.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO uws.job (job_id, kind, owner, client, run_id, phase, "
                "execution_duration, destruction) VALUES (:job_id, :kind, :owner, :client, "
                ":run_id, :phase, :duration, :destruction)"),
                {"job_id": job.job_id, "kind": job.kind, "owner": job.owner, "client": job.client,
                 "run_id": job.run_id, "phase": phase, "duration": job.execution_duration,
                 "destruction": job.destruction})
            self._insert_parameters(conn, job.job_id, job.parameters, start=0)
            created = self._get(conn, job.job_id, with_details=True)
        assert created is not None
        return created

    @staticmethod
    def _insert_parameters(conn: Connection, job_id: str, params: Sequence[ParameterRecord],
                           start: int) -> None:
        if not params:
            return
        conn.execute(text(
            "INSERT INTO uws.job_parameter (job_id, position, name, value, by_reference, is_post) "
            "VALUES (:job_id, :position, :name, :value, :by_reference, :is_post)"),
            [{"job_id": job_id, "position": start + i, "name": p.name, "value": p.value,
              "by_reference": p.by_reference, "is_post": p.is_post}
             for i, p in enumerate(params)])

    def replace_parameters(self, job_id: str, params: Sequence[ParameterRecord],
                           *, in_phases: Sequence[str]) -> bool:
        """Set parameters (replacing same-named ones) if the job is in ``in_phases``
        (UWS 1.1 sec. 2.1.11: updates only while PENDING). False if it is not."""
        with self.engine.begin() as conn:
            ok = conn.execute(text(
                "SELECT 1 FROM uws.job WHERE job_id = :id AND phase = ANY(:phases) FOR UPDATE"),
                {"id": job_id, "phases": list(in_phases)}).first()
            if ok is None:
                return False
            conn.execute(text(
                "DELETE FROM uws.job_parameter WHERE job_id = :id AND name = ANY(:names)"),
                {"id": job_id, "names": sorted({p.name for p in params})})
            start = conn.execute(text(
                "SELECT coalesce(max(position) + 1, 0) FROM uws.job_parameter WHERE job_id = :id"),
                {"id": job_id}).scalar_one()
            self._insert_parameters(conn, job_id, params, start=int(start))
        return True

    def transition(self, job_id: str, from_phases: Iterable[str], to_phase: str,
                   **changes: Any) -> JobRecord | None:
        """Move the job to ``to_phase`` only if it is in ``from_phases``; also set ``changes``
        (column -> value; ``"now()"`` as a value means the database clock).
        Returns the updated job, or None if it was not in an allowed phase (or is gone)."""
        with self.engine.begin() as conn:
            return self._transition(conn, job_id, from_phases, to_phase, changes)

    @staticmethod
    def _transition(conn: Connection, job_id: str, from_phases: Iterable[str], to_phase: str,
                    changes: Mapping[str, Any]) -> JobRecord | None:
        sets = ["phase = :to_phase"]
        args: dict[str, Any] = {"id": job_id, "from": list(from_phases), "to_phase": to_phase}
        for column, value in changes.items():
            if column not in _WRITABLE:
                raise ValueError(f"not a writable job column: {column}")
            if value == "now()":
                sets.append(f"{column} = now()")
            else:
                sets.append(f"{column} = :{column}")
                args[column] = value
        row = conn.execute(text(
            f"UPDATE uws.job SET {', '.join(sets)} WHERE job_id = :id "
            f"AND phase = ANY(:from) RETURNING {_JOB_COLUMNS}"), args).mappings().first()
        return JobRecord(**row) if row is not None else None

    def finish(self, job_id: str, results: Sequence[ResultRecord], from_phases: Iterable[str],
               to_phase: str, **changes: Any) -> JobRecord | None:
        """Record a run's results (kept even if the job was aborted meanwhile, UWS 1.1 sec.
        2.1.4) and move it to its final phase, in one transaction."""
        with self.engine.begin() as conn:
            exists = conn.execute(text("SELECT 1 FROM uws.job WHERE job_id = :id FOR UPDATE"),
                                  {"id": job_id}).first()
            if exists is None:
                return None
            self._insert_results(conn, job_id, results)
            return self._transition(conn, job_id, from_phases, to_phase, changes)

    def update(self, job_id: str, *, durable: bool = True, **changes: Any) -> bool:
        """Set job columns whatever the phase (queue id, backend pid, destruction, ...).

        ``durable=False`` commits without waiting for the WAL flush (for hints such as
        the backend pid, whose loss in a database crash is harmless)."""
        if not changes or not set(changes) <= _WRITABLE:
            raise ValueError(f"not writable job columns: {sorted(set(changes) - _WRITABLE)}")
        sets = ", ".join(f"{c} = :{c}" for c in changes)
        if "backend_pid" in changes:
            sets += ", backend_since = now()"
        with self.engine.begin() as conn:
            if not durable:
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
            res = conn.execute(text(f"UPDATE uws.job SET {sets} WHERE job_id = :id"),
                               {"id": job_id, **changes})
        return bool(res.rowcount)

    def add_results(self, job_id: str, results: Sequence[ResultRecord]) -> None:
        with self.engine.begin() as conn:
            self._insert_results(conn, job_id, results)

    @staticmethod
    def _insert_results(conn: Connection, job_id: str, results: Sequence[ResultRecord]) -> None:
        if not results:
            return
        start = conn.execute(text(
            "SELECT coalesce(max(position) + 1, 0) FROM uws.job_result WHERE job_id = :id"),
            {"id": job_id}).scalar_one()
        conn.execute(text(
            "INSERT INTO uws.job_result (job_id, result_id, position, mime_type, size) "
            "VALUES (:job_id, :result_id, :position, :mime_type, :size) "
            "ON CONFLICT (job_id, result_id) DO UPDATE SET mime_type = EXCLUDED.mime_type, "
            "size = EXCLUDED.size"),
            [{"job_id": job_id, "result_id": r.result_id, "position": int(start) + i,
              "mime_type": r.mime_type, "size": r.size} for i, r in enumerate(results)])

    def delete(self, job_id: str) -> JobRecord | None:
        """Remove the job and its parameter and result rows; returns what was removed."""
        with self.engine.begin() as conn:
            row = conn.execute(text(
                f"DELETE FROM uws.job WHERE job_id = :id RETURNING {_JOB_COLUMNS}"),
                {"id": job_id}).mappings().first()
        return JobRecord(**row) if row is not None else None

    def cancel_backend(self, pid: int) -> bool:
        """pg_cancel_backend on a job's query backend (needs pg_signal_backend on an
        external server when the backend belongs to another role)."""
        with self.engine.connect() as conn:
            return bool(conn.execute(text("SELECT pg_cancel_backend(:pid)"),
                                     {"pid": pid}).scalar_one())

    def terminate_orphan_backend(self, pid: int, started_before: datetime) -> bool:
        """End the backend of a job whose worker died, if it is still that backend (it
        existed when its pid was recorded, so the pid was not reused since)."""
        with self.engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT coalesce(bool_or(pg_terminate_backend(pid)), false) "
                "FROM pg_stat_activity WHERE pid = :pid AND backend_start <= :t"),
                {"pid": pid, "t": started_before}).scalar_one())

    # -- blocking WAIT ------------------------------------------------------------
    def wait_for_phase_change(self, job_id: str, phase: str, timeout: float) -> str | None:
        """Block until the job's phase is no longer ``phase`` or ``timeout`` seconds pass.

        Returns the current phase (None if the job is gone). LISTENs on ``uws_phase``
        so the answer comes within milliseconds of the change.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        raw = self.engine.raw_connection()
        dbapi: Any = raw.dbapi_connection
        try:
            dbapi.autocommit = True
            with dbapi.cursor() as cur:
                cur.execute(f"LISTEN {PHASE_CHANNEL}")
                current = self._phase_of(cur, job_id)
                while current == phase:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    readable, _, _ = select.select([dbapi], [], [], min(remaining, 5.0))
                    if readable:
                        dbapi.poll()
                        hits = [n for n in dbapi.notifies if n.payload == job_id]
                        dbapi.notifies.clear()
                        if not hits:
                            continue
                    current = self._phase_of(cur, job_id)
                cur.execute(f"UNLISTEN {PHASE_CHANNEL}")
            dbapi.notifies.clear()
            dbapi.autocommit = False
        except BaseException:
            raw.invalidate()  # never hand a still-LISTENing connection back to the pool
            raise
        finally:
            raw.close()
        return current

    @staticmethod
    def _phase_of(cur: Any, job_id: str) -> str | None:
        cur.execute("SELECT phase FROM uws.job WHERE job_id = %s", (job_id,))
        row = cur.fetchone()
        return None if row is None else str(row[0])


_WRITABLE = frozenset({
    "run_id", "start_time", "end_time", "execution_duration", "destruction", "quote",
    "error_code", "error_message", "error_type", "queue_job_id", "backend_pid", "worker",
    "attempts",
})


def is_connection_lost(exc: BaseException) -> bool:
    """Did this exception come from a lost database connection (server restart, network)?

    SQLSTATE class 08 and 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now);
    a query cancelled on purpose (57014) is not a lost connection.
    """
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        code = getattr(cur, "pgcode", None) or getattr(cur, "sqlstate", None)
        if isinstance(code, str) and (code.startswith("08") or code in _SHUTDOWN_CODES):
            return True
        if getattr(cur, "connection_invalidated", False):
            return True
        name = type(cur).__name__
        if name in ("InterfaceError",) or (name == "OperationalError" and code is None):
            return True
        cur = cur.__cause__ or cur.__context__ or getattr(cur, "orig", None)
    return False


_SHUTDOWN_CODES = frozenset({"57P01", "57P02", "57P03"})


def connection_options(check_interval_s: int = 2,
                       idle_tx_timeout_s: int = 600) -> Mapping[str, str]:
    """libpq options that make PostgreSQL stop a job's query when its worker dies.

    ``client_connection_check_interval`` notices a vanished client during a long query;
    ``idle_in_transaction_session_timeout`` ends sessions left idle inside a transaction.
    """
    return {"options": f"-c client_connection_check_interval={check_interval_s}s "
                       f"-c idle_in_transaction_session_timeout={idle_tx_timeout_s}s"}


def libpq_dsn(url: str) -> str:
    """A libpq connection URI (for psycopg 3 / procrastinate) from an SQLAlchemy URL."""
    from sqlalchemy import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
