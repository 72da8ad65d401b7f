"""The `vo` command line (L6): serve, worker, db, ingest, samp.

Every VOError ends the command with its code and message on stderr and exit status
1; no traceback reaches the user.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from vo.config import Settings, load_settings
from vo.errors import VOError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VOError as exc:
            click.echo(f"error: {exc.code}: {exc.message}", err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - one line, not a traceback, for the user
            if os.environ.get("VO_DEBUG"):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            click.echo(f"error: INTERNAL: {type(exc).__name__}: {first} "
                       "(set VO_DEBUG=1 for the traceback)", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="TOML settings file (default: $VO_CONFIG).")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="State directory: private PostgreSQL, job results (default: $VO_DATA_DIR).")
@click.option("--database-url",
              help="External PostgreSQL (default: $VO_DATABASE_URL, else private).")
@click.pass_context
@reports_errors
def cli(ctx: click.Context, config_file: str | None, data_dir: str | None,
        database_url: str | None) -> None:
    """vo-suite: publish catalogues to the Virtual Observatory (TAP, UWS, SAMP)."""
    ctx.obj = load_settings(config_file, data_dir=data_dir, database_url=database_url)


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from vo.db.bootstrap import bootstrap
    from vo.db.engine import database_url, make_engine

    engine = make_engine(database_url(settings), pool_size=4)
    bootstrap(engine)
    return engine


# --- vo db -------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """The private PostgreSQL cluster (used when no database URL is configured)."""


@db.command("start")
@click.pass_obj
@reports_errors
def db_start(settings: Settings) -> None:
    """Start the private cluster (or reuse the running one) and migrate its schema."""
    from vo.db.engine import private_cluster

    _engine(settings).dispose()
    st = private_cluster(settings).status()
    click.echo(f"PostgreSQL {st.major} running on 127.0.0.1:{st.port} (pid {st.pid}), "
               f"data in {st.cluster_dir}")


@db.command("stop")
@click.pass_obj
@reports_errors
def db_stop(settings: Settings) -> None:
    """Stop the private cluster."""
    from vo.db.engine import private_cluster

    click.echo("stopped" if private_cluster(settings).stop() else "not running")


@db.command("status")
@click.pass_obj
@reports_errors
def db_status(settings: Settings) -> None:
    """Say whether the private cluster runs, where, and its PostgreSQL version."""
    from vo.db.engine import private_cluster

    st = private_cluster(settings).status()
    if st.cluster_dir is None:
        click.echo(f"no private cluster in {settings.data_dir}")
        sys.exit(3)
    state = f"running on 127.0.0.1:{st.port} (pid {st.pid})" if st.running else "stopped"
    click.echo(f"PostgreSQL {st.major} {state}, data in {st.cluster_dir}")
    sys.exit(0 if st.running else 3)


@db.command("url")
@click.pass_obj
@reports_errors
def db_url(settings: Settings) -> None:
    """Print the database URL (starting the private cluster if needed)."""
    from vo.db.engine import database_url

    click.echo(database_url(settings))


# --- vo ingest ---------------------------------------------------------------------
@cli.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--table", help="Target table SCHEMA.NAME.")
@click.option("--format", "fmt", type=click.Choice(["csv", "tsv", "fits", "votable", "parquet"]),
              help="Input format (default: from the file suffix).")
@click.option("--replace", is_flag=True, help="Replace an existing table.")
@click.option("--append", is_flag=True, help="Add rows to an existing table.")
@click.option("--meta", "meta_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Metadata file (default: FILE.meta.toml when present).")
@click.option("--ra", help="RA column (default: from UCDs or names).")
@click.option("--dec", help="Dec column (default: from UCDs or names).")
@click.option("--frame", default="ICRS", show_default=True, help="Coordinate frame (COOSYS).")
@click.option("--epoch", help="Epoch of the positions, e.g. J2016.0.")
@click.option("--primary-key", help="Comma-separated primary key columns.")
@click.option("--description", help="Table description.")
@click.option("--demo", is_flag=True, help="Ingest the demo catalogues (hipparcos.hip2, "
                                            "gaia.dr3_bright) instead of FILES.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
@reports_errors
def ingest(settings: Settings, files: tuple[Path, ...], table: str | None, fmt: str | None,
           replace: bool, append: bool, meta_file: Path | None, ra: str | None, dec: str | None,
           frame: str, epoch: str | None, primary_key: str | None, description: str | None,
           demo: bool, quiet: bool) -> None:
    """Load FILE... (CSV, TSV, FITS, VOTable, Parquet) into a published table.

    CSV, TSV and VOTable files may be gzip- or bzip2-compressed (.gz, .bz2).

    Spill files: a table with a position is sorted by HEALPix pixel before it is
    loaded. Beyond 48 MiB its rows go to an unnamed temporary file in $TMPDIR
    (default /tmp), deleted at once, even if the ingest is killed. It grows to
    about the table's size in Arrow form: 8 bytes per number, text as its UTF-8
    bytes + 4, and 32 bytes per row for the pixel and unit vector, i.e. ~1.1 GB
    for 1e7 rows of 10 numeric columns; up to twice that while rows crowded in a
    small patch of sky are sorted again. Set TMPDIR to a disk with that room.
    """
    from catalogs.ingest import IngestRequest, TableOptions
    from catalogs.ingest import ingest as run_ingest

    if replace and append:
        raise click.UsageError("--replace and --append exclude each other")
    mode = "replace" if replace else "append" if append else "create"
    engine = _engine(settings)
    try:
        if demo:
            from catalogs.ingest.demo import ingest_demo

            for r in ingest_demo(engine, mode="replace" if mode == "create" else mode,
                                 progress=not quiet):
                click.echo(f"{r.table.table_name}: {r.rows} rows in {r.seconds:.1f} s")
            return
        if not files or not table:
            raise click.UsageError("give FILE... and --table SCHEMA.NAME (or --demo)")
        opts = TableOptions(description=description, ra=ra, dec=dec, frame=frame, epoch=epoch,
                            primary_key=[c.strip() for c in (primary_key or "").split(",")
                                         if c.strip()])
        req = IngestRequest(list(files), table, fmt=fmt, mode=mode, meta_file=meta_file,
                            options=opts, require_position=bool(ra or dec))
        r = run_ingest(engine, req, progress=not quiet)
        click.echo(f"{r.table.table_name}: {r.rows} rows in {r.seconds:.1f} s "
                   f"({r.rows / max(r.seconds, 1e-9):,.0f} rows/s)")
    finally:
        engine.dispose()


# --- vo worker / vo serve ----------------------------------------------------------
KIND_LOADERS = ("vo.tap.jobs:register_uws_kinds",)


def _available_kind_loaders() -> list[str]:
    import importlib.util

    return [k for k in KIND_LOADERS if importlib.util.find_spec(k.split(":")[0]) is not None]


@cli.command()
@click.option("--concurrency", default=2, show_default=True, help="Jobs run at once.")
@click.pass_obj
@reports_errors
def worker(settings: Settings, concurrency: int) -> None:
    """Run a UWS worker: executes queued async jobs (TAP async, ...)."""
    from vo.uws.worker import run

    run(settings, concurrency=concurrency, kind_loaders=_available_kind_loaders())


def _demo_missing(engine: Any) -> bool:
    from sqlalchemy import text

    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM tap_schema.tables WHERE table_name IN"
                              " ('hipparcos.hip2', 'gaia.dr3_bright')")).scalar_one()
    return n < 2


@cli.command()
@click.option("--host", help="Bind address (default: settings, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: settings, 8080).")
@click.option("--workers", type=int, help="gunicorn worker processes.")
@click.option("--threads", type=int, help="Threads per gunicorn worker.")
@click.option("--demo", is_flag=True, help="Ingest the demo catalogues first if missing.")
@click.option("--jobs/--no-jobs", default=True, show_default=True,
              help="Start a UWS worker process alongside the web server.")
@click.pass_obj
@reports_errors
def serve(settings: Settings, host: str | None, port: int | None, workers: int | None,
          threads: int | None, demo: bool, jobs: bool) -> None:
    """Run the web service (TAP, UWS, VOSI) with gunicorn."""
    from vo.db.engine import database_url

    settings = settings.replace(host=host or settings.host, port=port or settings.port,
                                workers=workers or settings.workers,
                                threads=threads or settings.threads)
    url = database_url(settings)
    engine = _engine(settings.replace(database_url=url))
    try:
        if demo and _demo_missing(engine):
            from catalogs.ingest.demo import ingest_demo

            click.echo("ingesting the demo catalogues (first run only)...")
            for r in ingest_demo(engine, progress=True):
                click.echo(f"{r.table.table_name}: {r.rows} rows in {r.seconds:.1f} s")
    finally:
        engine.dispose()
    env = {**os.environ, "VO_DATABASE_URL": url, "VO_DATA_DIR": str(settings.data_dir),
           "VO_HOST": settings.host, "VO_PORT": str(settings.port)}
    children: list[subprocess.Popen[bytes]] = []
    if jobs:
        children.append(subprocess.Popen([sys.executable, "-m", "vo.cli.main", "worker"], env=env))
    cmd = [sys.executable, "-m", "gunicorn", "vo.web.wsgi:app_from_env()",
           "--bind", f"{settings.host}:{settings.port}", "--worker-class", "gthread",
           "--workers", str(settings.workers), "--threads", str(settings.threads),
           "--timeout", "0", "--graceful-timeout", "10", "--access-logfile", "-"]
    click.echo(f"serving on {settings.public_url}/ (TAP at {settings.public_url}/tap)")
    server = subprocess.Popen(cmd, env=env)

    def forward(signum: int, _frame: object) -> None:
        for p in [server, *children]:
            if p.poll() is None:
                p.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        code = server.wait()
    finally:
        forward(signal.SIGTERM, None)
        for p in children:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    sys.exit(code)


from vo.cli.samp import samp  # noqa: E402 - registered after the group exists

cli.add_command(samp)

if __name__ == "__main__":
    cli()
