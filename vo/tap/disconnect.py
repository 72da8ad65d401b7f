"""Notice a client that hangs up while its sync query is still running.

Until the first byte of a result is written, the server learns of a vanished client
only when it writes; a long query would run on to its execution duration for nobody.
``ClientWatch`` polls the request's socket (in the WSGI environ as ``gunicorn.socket``
or ``werkzeug.socket``) while the query starts, and calls ``on_hangup`` when the peer
has closed its end: the socket reads as ready and a peek returns no bytes. Data a
client sent ahead (pipelined requests) reads as bytes, not as a hang-up. Without a
socket (other servers) it does nothing.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from types import TracebackType

log = logging.getLogger(__name__)


def hung_up(sock: socket.socket) -> bool:
    """True if the peer closed its end or reset the connection; any other socket trouble
    is logged and not taken for a hang-up (a wrong guess would cancel a live query)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # nothing to read: the client is waiting
    except ConnectionError:
        return True
    except (OSError, ValueError) as exc:  # ValueError: a TLS socket takes no recv flags
        log.debug("cannot poll the client socket: %s", exc)
        return False


class ClientWatch:
    """``with ClientWatch(sock, on_hangup):`` polls ``sock`` every ``interval`` seconds."""

    def __init__(
        self,
        sock: socket.socket | None,
        on_hangup: Callable[[], None],
        *,
        interval: float = 0.25,
    ) -> None:
        self._sock = sock
        self._on_hangup = on_hangup
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.hung_up = False

    def __enter__(self) -> ClientWatch:
        if self._sock is not None:
            self._thread = threading.Thread(target=self._run, name="vo-client-watch", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        assert self._sock is not None
        while not self._stop.wait(self._interval):
            if hung_up(self._sock):
                self.hung_up = True
                log.info("client hung up before the result started; cancelling its query")
                self._on_hangup()
                return


__all__ = ["ClientWatch", "hung_up"]
