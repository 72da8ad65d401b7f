"""`vo worker`: a process that executes UWS jobs from the procrastinate queue.

Any number of workers, on any machine that reaches the database. Each one:

- runs queued jobs (``concurrency`` at a time) through :class:`~vo.uws.execution.JobExecutor`;
- sends procrastinate heartbeats, and every ``maintenance_seconds`` looks for jobs of
  workers whose heartbeat stopped (kill -9, machine lost): each is run again or put in
  ERROR with a message (:meth:`JobExecutor.recover`), never left EXECUTING;
- destroys jobs past their destruction time (:func:`vo.uws.sweeper.sweep`);
- reconnects by itself when PostgreSQL restarts (the worker loop is restarted).

Job kinds are registered in the worker by *kind loaders*: ``"module:function"``
strings whose function calls :func:`vo.uws.register_kind` (UWS never imports TAP).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import procrastinate
from procrastinate.jobs import Status

from vo.config import Settings, load_settings
from vo.db.bootstrap import bootstrap
from vo.db.engine import database_url, make_engine
from vo.db.jobs import JobStore, libpq_dsn
from vo.uws.execution import DEFAULT_RESULT_MAX_BYTES, JobExecutor, JobInterrupted
from vo.uws.queue import QUEUE_NAME, TASK_NAME
from vo.uws.results import FilesystemResultStorage
from vo.uws.sweeper import sweep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    """Tunables of a worker; the defaults suit production, tests shorten the times."""

    concurrency: int = 1
    heartbeat_seconds: float = 5.0
    stalled_after_seconds: float = 30.0
    """A worker without a heartbeat for this long is dead; its jobs are recovered."""
    maintenance_seconds: float = 5.0
    max_attempts: int = 2
    """Executions of a job in all when workers die or the database restarts under it."""
    poll_seconds: float = 2.0
    """Fallback queue polling (LISTEN/NOTIFY wakes workers at once)."""
    shutdown_grace_seconds: float = 10.0
    """On SIGTERM/SIGINT, running jobs get this long to finish; then they are stopped
    and queued again for another worker."""
    orphan_grace_seconds: float = 30.0
    """A QUEUED job with no live queue entry for this long is handed to the queue again."""
    result_max_bytes: int = DEFAULT_RESULT_MAX_BYTES
    name: str | None = None


def load_kinds(loaders: Sequence[str]) -> None:
    """Call each ``"module:function"`` kind loader (it registers job kinds)."""
    for spec in loaders:
        module_name, _, func_name = spec.partition(":")
        module = importlib.import_module(module_name)
        getattr(module, func_name or "register_uws_kinds")()


def run(settings: Settings, *, concurrency: int = 1, kind_loaders: Sequence[str] = (),
        options: WorkerOptions | None = None) -> None:
    """Run a worker until SIGINT/SIGTERM (the entry point of ``vo worker``)."""
    opts = options or WorkerOptions(concurrency=concurrency,
                                    result_max_bytes=settings.result_max_bytes)
    if options is not None and concurrency != 1:
        opts = WorkerOptions(**{**opts.__dict__, "concurrency": concurrency})
    load_kinds(kind_loaders)
    url = database_url(settings)
    engine = make_engine(url, pool_size=max(2, opts.concurrency + 2))
    bootstrap(engine)
    name = opts.name or f"{socket.gethostname()}:{os.getpid()}"
    executor = JobExecutor(JobStore(engine), FilesystemResultStorage(settings.results_dir),
                           settings, worker_name=name, max_attempts=opts.max_attempts,
                           result_max_bytes=opts.result_max_bytes)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=libpq_dsn(url), min_size=1, max_size=opts.concurrency + 3))

    # UWS decides how often a job runs again (JobExecutor.max_attempts); the queue only
    # carries out the retry it asks for by raising JobInterrupted.
    @app.task(name=TASK_NAME, queue=QUEUE_NAME, pass_context=True,
              retry=procrastinate.RetryStrategy(max_attempts=1000, wait=1,
                                                retry_exceptions={JobInterrupted}))
    def execute(context: procrastinate.JobContext, job_id: str) -> None:
        executor.execute(job_id, should_stop=context.should_abort)

    log.info("UWS worker %s started (concurrency %d)", name, opts.concurrency)
    try:
        asyncio.run(_serve(app, executor, opts, name))
    finally:
        engine.dispose()


async def _serve(app: procrastinate.App, executor: JobExecutor, opts: WorkerOptions,
                 name: str) -> None:
    """Run the procrastinate worker; start it again after a database failure."""
    delay = 0.5
    while True:
        try:
            async with app.open_async():
                maintenance = asyncio.create_task(_maintain(app, executor, opts))
                try:
                    await app.run_worker_async(
                        queues=[QUEUE_NAME], concurrency=opts.concurrency, name=name,
                        update_heartbeat_interval=opts.heartbeat_seconds,
                        stalled_worker_timeout=opts.stalled_after_seconds,
                        fetch_job_polling_interval=opts.poll_seconds,
                        abort_job_polling_interval=opts.poll_seconds,
                        delete_jobs="successful", install_signal_handlers=True,
                        shutdown_graceful_timeout=opts.shutdown_grace_seconds)
                    return  # stopped by a signal
                finally:
                    maintenance.cancel()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("worker loop failed (%s: %s); restarting in %.1f s",
                        type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _maintain(app: procrastinate.App, executor: JobExecutor, opts: WorkerOptions) -> None:
    """Recover jobs of dead workers and destroy expired jobs, every few seconds."""
    manager = app.job_manager
    while True:
        try:
            stalled = await manager.get_stalled_jobs(
                queue=QUEUE_NAME, task_name=TASK_NAME,
                seconds_since_heartbeat=opts.stalled_after_seconds)
            for qjob in stalled:
                job_id = str(qjob.task_kwargs.get("job_id", ""))
                again = await asyncio.to_thread(executor.recover, job_id)
                assert qjob.id is not None
                if again:
                    log.warning("job %s: its worker died; running it again", job_id)
                    await manager.retry_job_by_id_async(qjob.id,
                                                        retry_at=datetime.now(UTC))
                else:
                    await manager.finish_job_by_id_async(qjob.id, status=Status.FAILED,
                                                         delete_job=False)
            await manager.prune_stalled_workers(opts.stalled_after_seconds)
            store = executor.store
            for job_id in await asyncio.to_thread(store.orphaned_executing,
                                                  opts.orphan_grace_seconds):
                log.warning("job %s is EXECUTING but no worker runs it", job_id)
                await asyncio.to_thread(executor.recover, job_id)  # QUEUED again, or ERROR
            for job_id in await asyncio.to_thread(store.orphaned_queued,
                                                  opts.orphan_grace_seconds):
                log.warning("job %s was QUEUED without a queue entry; queueing it", job_id)
                queue_id = await app.configure_task(name=TASK_NAME, queue=QUEUE_NAME
                                                    ).defer_async(job_id=job_id)
                await asyncio.to_thread(store.update, job_id, queue_job_id=queue_id,
                                        durable=False)
            await asyncio.to_thread(sweep, executor.store, executor.storage)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("worker maintenance failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(opts.maintenance_seconds)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m vo.uws.worker``: a worker without the `vo` CLI (tests, containers)."""
    p = argparse.ArgumentParser(prog="python -m vo.uws.worker", description=__doc__)
    p.add_argument("--database-url")
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--kinds", action="append", default=[],
                   help="module:function that registers job kinds (repeatable)")
    p.add_argument("--heartbeat", type=float, default=WorkerOptions.heartbeat_seconds)
    p.add_argument("--stalled-after", type=float, default=WorkerOptions.stalled_after_seconds)
    p.add_argument("--maintenance", type=float, default=WorkerOptions.maintenance_seconds)
    p.add_argument("--max-attempts", type=int, default=WorkerOptions.max_attempts)
    p.add_argument("--shutdown-grace", type=float, default=WorkerOptions.shutdown_grace_seconds)
    p.add_argument("--orphan-grace", type=float, default=WorkerOptions.orphan_grace_seconds)
    args = p.parse_args(argv)
    logging.basicConfig(level=os.environ.get("VO_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    settings = load_settings(database_url=args.database_url, data_dir=args.data_dir)
    run(settings, kind_loaders=args.kinds, options=WorkerOptions(
        concurrency=args.concurrency, heartbeat_seconds=args.heartbeat,
        stalled_after_seconds=args.stalled_after, maintenance_seconds=args.maintenance,
        max_attempts=args.max_attempts, shutdown_grace_seconds=args.shutdown_grace,
        orphan_grace_seconds=args.orphan_grace))


if __name__ == "__main__":
    main()
