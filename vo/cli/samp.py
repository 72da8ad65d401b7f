"""`vo samp`: send tables, query results and images to desktop tools; list clients; run a hub.

The main CLI adds this group with ``cli.add_command(samp)``; it also runs on its own
(``python -m vo.cli.samp ...``). Every command is a thin wrapper over ``vo.samp``;
errors are printed as ``CODE: message`` and exit with status 1 (no tracebacks).
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from vo.errors import VOError

F = TypeVar("F", bound=Callable[..., Any])


def _reports_errors(fn: F) -> F:
    """Turn a VOError into a one-line message and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VOError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def _echo_delivery(delivery: Any, what: str) -> None:
    if not delivery.replies:
        click.echo(f"{what}: notified ({delivery.mtype}, {delivery.url})")
        return
    for reply in delivery.replies:
        click.echo(f"{what} -> {reply}")
    if not delivery.ok:
        raise click.ClickException(
            "; ".join(f"{r.client_name} answered {r.status}: {r.error}" for r in delivery.failures)
        )


def _linger(bridge: Any, timeout: float) -> None:
    """After a notify, keep serving the published file until someone fetched it."""
    served = bridge.files.published
    deadline = time.monotonic() + timeout
    while served and time.monotonic() < deadline:
        if all(bridge.files.fetch_count(p) > 0 for p in served):
            time.sleep(0.5)  # let the last transfer finish
            return
        time.sleep(0.2)


@click.group("samp")
def samp() -> None:
    """Send tables and images to TOPCAT, Aladin and other SAMP tools."""


@samp.command("send")
@click.argument("source", required=False)
@click.option("--query", "adql", help="Run this ADQL query on the TAP service and send its result.")
@click.option("--service", help="TAP service base URL for --query (default: <public_url>/tap).")
@click.option("--maxrec", type=int, help="MAXREC for --query.")
@click.option("--to", "to", help="Recipient: a client id or name (e.g. topcat); default: all.")
@click.option("--name", help="Table name shown by the recipient.")
@click.option("--serve", is_flag=True, help="Serve a local file over HTTP instead of file: URL.")
@click.option("--notify", is_flag=True, help="Notify instead of calling and waiting for replies.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait.")
@_reports_errors
def send_cmd(
    source: str | None,
    adql: str | None,
    service: str | None,
    maxrec: int | None,
    to: str | None,
    name: str | None,
    serve: bool,
    notify: bool,
    timeout: float,
) -> None:
    """Send a table: a VOTable/FITS FILE, a URL (e.g. a TAP job result), or --query ADQL."""
    from vo.samp import Samp
    from vo.samp.query import run_query

    if (source is None) == (adql is None):
        raise click.UsageError("give exactly one of SOURCE (file or URL) or --query ADQL")
    payload: Any = source
    if adql is not None:
        if service is None:
            from vo.config import load_settings

            service = load_settings().public_url + "/tap"
        payload = run_query(service, adql, maxrec=maxrec, timeout=max(timeout, 60.0))
        name = name or "query_result"
    with Samp("vo", timeout=timeout) as bridge:
        delivery = bridge.send_table(payload, to, name=name, wait=not notify, serve=serve)
        if notify:
            _linger(bridge, timeout)
        _echo_delivery(delivery, "table")


@samp.command("image")
@click.argument("source")
@click.option("--to", "to", help="Recipient: a client id or name (e.g. Aladin); default: all.")
@click.option("--name", help="Image name shown by the recipient.")
@click.option("--serve", is_flag=True, help="Serve a local file over HTTP instead of file: URL.")
@click.option("--notify", is_flag=True, help="Notify instead of calling and waiting for replies.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait.")
@_reports_errors
def image_cmd(
    source: str, to: str | None, name: str | None, serve: bool, notify: bool, timeout: float
) -> None:
    """Send a FITS image (FILE or URL, e.g. a cutout) to image viewers."""
    from vo.samp import Samp

    with Samp("vo", timeout=timeout) as bridge:
        delivery = bridge.send_image(source, to, name=name, wait=not notify, serve=serve)
        if notify:
            _linger(bridge, timeout)
        _echo_delivery(delivery, "image")


@samp.command("point")
@click.argument("ra", type=float)
@click.argument("dec", type=float)
@click.option("--to", "to", help="Recipient: a client id or name; default: all.")
@_reports_errors
def point_cmd(ra: float, dec: float, to: str | None) -> None:
    """Ask sky viewers to centre on RA DEC (ICRS degrees)."""
    from vo.samp import Samp

    with Samp("vo") as bridge:
        _echo_delivery(bridge.point_at(ra, dec, to=to), "point")


@samp.command("clients")
@click.option("--all-mtypes", is_flag=True, help="List every subscribed MType.")
@_reports_errors
def clients_cmd(all_mtypes: bool) -> None:
    """List the clients registered with the hub and what they accept."""
    from vo.samp import Samp

    with Samp("vo") as bridge:
        for c in bridge.clients():
            subs = [
                s for s in c.subscriptions if all_mtypes or not s.startswith(("samp.", "x-samp."))
            ]
            click.echo(f"{c.id}\t{c.name or '?'}\t{', '.join(subs)}")


@samp.command("receive")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to save received tables.",
)
@click.option(
    "--count", type=int, default=0, help="Stop after this many tables (0: run until Ctrl-C)."
)
@click.option(
    "--name",
    "client_name",
    default="vo",
    show_default=True,
    help="Name to register under (what senders pick, e.g. in TOPCAT's send menu).",
)
@_reports_errors
def receive_cmd(directory: Path, client_name: str, count: int) -> None:
    """Save tables that SAMP tools send to us, byte for byte, as files in --dir."""
    import queue

    from vo.samp import IncomingTable, Samp

    directory.mkdir(parents=True, exist_ok=True)
    arrived: queue.Queue[Path] = queue.Queue()

    def save(table: IncomingTable) -> None:
        suffix = ".vot" if table.mtype.endswith("votable") else ".fits"
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in (table.name or "table"))
        path, n = directory / f"{stem}{suffix}", 1
        while path.exists():
            n += 1
            path = directory / f"{stem}-{n}{suffix}"
        path.write_bytes(table.fetch())  # raises SampUnreadable -> samp.error to the sender
        arrived.put(path)

    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Samp(client_name) as bridge:
            bridge.on_table(save)
            click.echo(f"registered as {client_name!r} ({bridge.client_id}); waiting for tables")
            sys.stdout.flush()
            received = 0
            while not stop.is_set() and (count == 0 or received < count):
                try:
                    path = arrived.get(timeout=0.5)
                except queue.Empty:
                    continue
                received += 1
                click.echo(f"saved {path}")
                sys.stdout.flush()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@samp.command("hub")
@click.option(
    "--lockfile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Lockfile to write (default: where SAMP_HUB points, else ~/.samp).",
)
@click.option(
    "--web/--no-web",
    default=False,
    show_default=True,
    help="Also run the Web Profile (port 21012) so web pages can register.",
)
@click.option(
    "--web-auto-accept",
    is_flag=True,
    help="Accept every Web Profile registration without asking (tests, kiosks).",
)
@_reports_errors
def hub_cmd(lockfile: Path | None, web: bool, web_auto_accept: bool) -> None:
    """Run a SAMP hub in the foreground until Ctrl-C or SIGTERM."""
    from vo.samp import SampHub

    if web and not web_auto_accept and not sys.stdin.isatty():
        raise click.UsageError(
            "--web asks for consent on this console, which has no terminal; "
            "add --web-auto-accept or run it in a terminal"
        )
    hub = SampHub(lockfile, web_profile=web or web_auto_accept, auto_accept=web_auto_accept)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    hub.start()
    try:
        click.echo(f"SAMP hub running; clients find it with SAMP_HUB={hub.samp_hub_value}")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        hub.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        click.echo("SAMP hub stopped")


if __name__ == "__main__":
    samp()
