"""Finding a running SAMP hub, and running one of our own on pyvo's hub server.

Discovery follows the Standard Profile (SAMP 1.3 sec. 4.3): the ``SAMP_HUB``
environment variable, if set, must read ``std-lockurl:<URL of the lockfile>``;
otherwise the lockfile is ``~/.samp``. The lockfile holds ``key=value`` lines, among
them ``samp.secret`` and ``samp.hub.xmlrpc.url``. A lockfile whose hub does not
answer ``samp.hub.ping`` is a stale one and counts as no hub.

``SampHub`` wraps ``pyvo.samp.SAMPHubServer`` (pyvo 1.9 no longer ships the
``samp_hub`` command) so that ``vo samp hub`` and tests can start one, optionally
with the Web Profile (SAMP 1.3 sec. 5) on its fixed port 21012.
"""

from __future__ import annotations

import http.client
import os
import queue
import threading
import time
import urllib.request
import xmlrpc.client
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from vo.samp.errors import SampError, SampHubNotFound, SampHubRunning

LOCKURL_PREFIX = "std-lockurl:"
WEB_PROFILE_PORT = 21012


@dataclass(frozen=True)
class HubLocation:
    """A hub that answered ping: where its lockfile is and what it says."""

    lockfile: str  # a path or URL, as SAMP_HUB or the default named it
    params: dict[str, str]  # the lockfile's key=value pairs

    @property
    def xmlrpc_url(self) -> str:
        return self.params["samp.hub.xmlrpc.url"]


def lockfile_location(env: Mapping[str, str] | None = None) -> str:
    """The lockfile the Standard Profile points at: SAMP_HUB's URL, else ~/.samp."""
    env = os.environ if env is None else env
    value = env.get("SAMP_HUB", "").strip()
    if not value:
        return str(Path.home() / ".samp")
    if not value.startswith(LOCKURL_PREFIX):
        raise SampHubNotFound(
            detail=f"SAMP_HUB={value!r} is not of the form std-lockurl:<URL> (SAMP 1.3 sec. 4.3)"
        )
    return value[len(LOCKURL_PREFIX) :]


def lockfile_path(location: str) -> Path | None:
    """The local path of a lockfile location (a path or file: URL); None for http URLs."""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if not parsed.scheme or len(parsed.scheme) == 1:  # plain path (or C:\ style)
        return Path(location)
    return None


def read_lockfile(location: str) -> dict[str, str]:
    """Parse a lockfile (SAMP 1.3 sec. 4.3.1): ``#`` comments and ``key=value`` lines."""
    path = lockfile_path(location)
    if path is not None:
        text = path.read_text(encoding="latin-1")
    else:
        with urllib.request.urlopen(location, timeout=5) as resp:
            text = resp.read().decode("latin-1")
    params: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        params[key.strip()] = value.strip()
    return params


class _TimeoutTransport(xmlrpc.client.Transport):
    """An XML-RPC transport that gives up after ``timeout`` seconds (a hung hub)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


STARTUP_GRACE_S = 2.0


def ping_hub(xmlrpc_url: str, timeout: float = 3.0) -> None:
    """Call ``samp.hub.ping``; raises OSError or xmlrpc errors if the hub does not answer."""
    proxy = xmlrpc.client.ServerProxy(
        xmlrpc_url, transport=_TimeoutTransport(timeout), allow_none=True
    )
    proxy.samp.hub.ping()


def find_hub(env: Mapping[str, str] | None = None, timeout: float = 10.0) -> HubLocation:
    """The running hub the Standard Profile points at, or ``SampHubNotFound``."""
    location = lockfile_location(env)
    try:
        params = read_lockfile(location)
    except (OSError, ValueError) as exc:
        raise SampHubNotFound(detail=f"no readable lockfile at {location}: {exc}") from None
    url = params.get("samp.hub.xmlrpc.url")
    if not url or "samp.secret" not in params:
        raise SampHubNotFound(detail=f"lockfile {location} lacks samp.hub.xmlrpc.url/samp.secret")
    # A hub may write its lockfile a moment before its server accepts connections
    # (seen with JSAMP): refused connections are retried for a short start-up grace.
    grace_until = time.monotonic() + STARTUP_GRACE_S
    while True:
        try:
            ping_hub(url, timeout)
            break
        except ConnectionRefusedError:
            if time.monotonic() < grace_until:
                time.sleep(0.1)
                continue
            exc_seen: Exception = ConnectionRefusedError("connection refused")
        except (OSError, xmlrpc.client.Error) as exc:
            exc_seen = exc
        raise SampHubNotFound(
            detail=f"stale lockfile {location}: the hub at {url} does not answer ({exc_seen})"
        ) from None
    return HubLocation(lockfile=location, params=params)


class AutoAcceptDialog:
    """Accepts every Web Profile registration (pyvo's web_profile_dialog protocol).

    pyvo's default dialog asks on the console; headless, that raises in the hub's
    thread and the whole hub stops answering. Use this only on a machine whose
    browser pages you trust (tests, kiosks): any local page may then register.
    """

    queue_request: queue.Queue[Any]
    queue_result: queue.Queue[Any]

    def start(self) -> None:
        def answer() -> None:
            while True:
                self.queue_request.get()
                self.queue_result.put(True)

        threading.Thread(target=answer, name="samp-web-auto-accept", daemon=True).start()


class SampHub:
    """A SAMP hub in this process (pyvo's ``SAMPHubServer``), bound to 127.0.0.1.

    The lockfile is ``lockfile`` if given, else the one SAMP_HUB names (file: URLs
    only), else ``~/.samp``. ``stop()`` removes it again (SIGTERM-safe when the
    caller stops the hub in a signal handler, as ``vo samp hub`` does).
    """

    def __init__(
        self,
        lockfile: str | os.PathLike[str] | None = None,
        *,
        web_profile: bool = False,
        auto_accept: bool = False,
        label: str = "vo-suite hub",
    ) -> None:
        env = os.environ  # pyvo's hub server reads SAMP_HUB from here, whatever we say
        default = lockfile_path(lockfile_location(env))
        if default is None:
            raise SampError(
                f"SAMP_HUB={env.get('SAMP_HUB')} is not a file: URL; a hub can only "
                "write its lockfile to a local file",
                code="SAMP-HUB-LOCKFILE",
            )
        wanted = Path(lockfile).expanduser().resolve() if lockfile else default
        if env.get("SAMP_HUB") and wanted != default.resolve():
            # pyvo's hub writes where SAMP_HUB points, whatever we ask for
            raise SampError(
                f"SAMP_HUB points at {default} but the hub was asked to use {wanted}; "
                "unset SAMP_HUB or drop the lockfile option",
                code="SAMP-HUB-LOCKFILE",
            )
        self.lockfile = wanted
        self.web_profile = web_profile
        self.auto_accept = auto_accept
        self.label = label
        self._server: Any = None

    @property
    def samp_hub_value(self) -> str:
        """What clients should have in SAMP_HUB to find this hub."""
        return f"{LOCKURL_PREFIX}file://{self.lockfile}"

    @property
    def is_running(self) -> bool:
        return bool(self._server is not None and self._server.is_running)

    def start(self) -> SampHub:
        """Start the hub's threads and write the lockfile; returns self."""
        from pyvo.samp import SAMPHubServer, conf

        if self.is_running:
            return self
        try:
            find_hub({"SAMP_HUB": self.samp_hub_value}, timeout=2.0)
        except SampHubNotFound:
            pass
        else:
            raise SampHubRunning(
                f"a SAMP hub already answers at {self.lockfile}; use it, or stop it first"
            )
        if self.lockfile.exists():  # stale: its hub does not answer
            self.lockfile.unlink()
        self.lockfile.parent.mkdir(parents=True, exist_ok=True)
        dialog = AutoAcceptDialog() if (self.web_profile and self.auto_accept) else None
        with conf.set_temp("use_internet", False):  # else it binds to the host's FQDN
            server = SAMPHubServer(
                addr="127.0.0.1",
                lockfile=str(self.lockfile),
                label=self.label,
                web_profile=self.web_profile,
                web_profile_dialog=dialog,
                web_port=WEB_PROFILE_PORT,
            )
            server.start(wait=False)
        self._server = server
        if dialog is not None:
            dialog.start()
        if self.web_profile and not server._web_profile:
            self.stop()
            raise SampError(
                f"the SAMP Web Profile port {WEB_PROFILE_PORT} is in use (another hub with "
                "the Web Profile runs on this host); stop it or start this hub without it",
                code="SAMP-WEB-PORT",
            )
        return self

    def stop(self) -> None:
        """Tell clients the hub shuts down, stop its threads, remove the lockfile."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> SampHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = [
    "AutoAcceptDialog",
    "HubLocation",
    "SampHub",
    "find_hub",
    "lockfile_location",
    "read_lockfile",
]
