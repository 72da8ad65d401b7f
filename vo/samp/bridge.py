"""The SAMP bridge: send tables, images, positions and row selections to desktop tools.

``Samp`` is a SAMP client (SAMP 1.3 sec. 3) built on ``pyvo.samp``. It registers
with the running hub, sends by reference (tables and images travel as URLs, see
``vo.samp.payloads``), and by default *calls* each recipient and waits for its reply
(SAMP 1.3 sec. 3.5, call/response), so a caller learns that TOPCAT or Aladin really
loaded the data, not just that the hub passed it on. ``wait=False`` notifies instead.

It also receives: ``on_table`` registers a callback for ``table.load.votable`` /
``table.load.fits`` sent to us (e.g. from TOPCAT), so a table can be uploaded to the
service.
"""

from __future__ import annotations

import threading
import xmlrpc.client
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from vo.samp import messages as m
from vo.samp.errors import (
    SampCallFailed,
    SampError,
    SampHubNotFound,
    SampNotSubscribed,
    SampUnknownClient,
)
from vo.samp.fileserver import FileServer
from vo.samp.hub import HubLocation, find_hub
from vo.samp.incoming import IncomingTable, TableCallback
from vo.samp.messages import Delivery, Reply
from vo.samp.payloads import image_payload, table_payload

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class ClientInfo:
    """A registered client: its hub-assigned id, its samp.name and its MTypes."""

    id: str
    name: str
    description: str
    subscriptions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


def _hub_failure(exc: BaseException) -> SampError:
    """An exception from talking to the hub, as an error a person can act on."""
    if isinstance(exc, OSError):
        return SampHubNotFound(detail=f"the hub stopped answering: {exc}")
    text = exc.faultString if isinstance(exc, xmlrpc.client.Fault) else str(exc)
    return SampError(f"the SAMP hub refused the request: {text}", code="SAMP-HUB-ERROR")


class Samp:
    """A connection to the SAMP hub, sending as ``name``.

    Use as a context manager, or call ``close()``: it unregisters, stops serving
    temporary files and deletes them.
    """

    def __init__(
        self,
        name: str = "vo-suite",
        *,
        description: str = "vo-suite SAMP bridge (tables, images and positions from the service)",
        hub: HubLocation | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        from pyvo.samp import SAMPIntegratedClient, conf

        self.name = name
        self.timeout = timeout
        self.files = FileServer()
        self._table_callbacks: list[TableCallback] = []
        location = hub or find_hub(env)
        self._client = SAMPIntegratedClient(name=name, description=description, addr="127.0.0.1")
        try:
            with conf.set_temp("use_internet", False):  # else it advertises the FQDN
                self._client.connect(hub_params=location.params)
        except Exception as exc:  # pyvo raises SAMPHubError, OSError, Fault
            raise SampHubNotFound(
                detail=f"registering with {location.xmlrpc_url} failed: {exc}"
            ) from None
        self.hub = location
        self._lock = threading.Lock()
        self._replying = threading.Condition()
        self._in_flight = 0  # calls we are handling, so close() does not cut a reply off

    # --- lifecycle ------------------------------------------------------------
    def close(self) -> None:
        with self._replying:  # let calls being handled send their reply first
            self._replying.wait_for(lambda: self._in_flight == 0, timeout=10)
        try:
            if self._client.is_connected:
                self._client.disconnect()
        except Exception:  # the hub may be gone already; nothing left to tell it
            pass
        finally:
            self.files.close()

    def __enter__(self) -> Samp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def client_id(self) -> str:
        """Our own public id on the hub."""
        return str(self._client.get_public_id())

    # --- who is there -----------------------------------------------------------
    def clients(self) -> list[ClientInfo]:
        """Every other registered client with its name and subscribed MTypes."""
        try:
            ids = self._client.get_registered_clients()
            infos = []
            for cid in ids:
                meta = self._client.get_metadata(cid) or {}
                subs = self._client.get_subscriptions(cid) or {}
                infos.append(
                    ClientInfo(
                        id=cid,
                        name=str(meta.get("samp.name", "")),
                        description=str(meta.get("samp.description.text", "")),
                        subscriptions=tuple(sorted(subs)),
                    )
                )
        except (OSError, xmlrpc.client.Error) as exc:
            raise _hub_failure(exc) from None
        return infos

    def resolve(self, to: str) -> ClientInfo:
        """The client whose id or samp.name (case-insensitive) is ``to``."""
        known = self.clients()
        for c in known:
            if c.id == to:
                return c
        named = [c for c in known if c.name.lower() == to.lower()]
        if len(named) == 1:
            return named[0]
        listing = ", ".join(f"{c.name or '?'} ({c.id})" for c in known) or "none"
        if named:
            raise SampUnknownClient(f"several clients are named {to!r}: {listing}; give its id")
        raise SampUnknownClient(
            f"no SAMP client {to!r} is registered; registered: {listing}. "
            "Start the tool or pick one of these (`vo samp clients`)"
        )

    def subscribers(self, mtype: str) -> list[ClientInfo]:
        """The clients (not us) that accept ``mtype``, wildcards resolved by the hub."""
        try:
            ids = set(self._client.get_subscribed_clients(mtype))
        except (OSError, xmlrpc.client.Error) as exc:
            raise _hub_failure(exc) from None
        return [c for c in self.clients() if c.id in ids]

    # --- sending ------------------------------------------------------------------
    def send(
        self,
        message: dict[str, Any],
        to: str | None = None,
        *,
        wait: bool = True,
        ident: str | None = None,
        url: str | None = None,
    ) -> Delivery:
        """Send any SAMP message to ``to`` (id or name) or to every subscriber.

        With ``wait`` each recipient is called and its reply collected (in parallel);
        otherwise it is notified. A named recipient must subscribe to the MType.
        """
        mtype = message["samp.mtype"]
        targets = self._targets(mtype, to)
        if not wait:
            try:
                for t in targets:
                    self._client.notify(t.id, message)
            except (OSError, xmlrpc.client.Error) as exc:
                raise _hub_failure(exc) from None
            return Delivery(mtype, url, ident)
        with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
            replies = tuple(pool.map(lambda t: self._call(t, message), targets))
        delivery = Delivery(mtype, url, ident, replies)
        if to is not None and not delivery.ok:
            raise SampCallFailed(
                f"{'; '.join(str(r) for r in delivery.failures)} (message {mtype})"
            )
        return delivery

    def _targets(self, mtype: str, to: str | None) -> list[ClientInfo]:
        if to is not None:
            target = self.resolve(to)
            if target.id not in {c.id for c in self.subscribers(mtype)}:
                accepts = (
                    ", ".join(s for s in target.subscriptions if not s.startswith("samp."))
                    or "nothing else"
                )
                raise SampNotSubscribed(
                    f"{target.name or target.id} does not accept {mtype}; it accepts {accepts}"
                )
            return [target]
        targets = self.subscribers(mtype)
        if not targets:
            raise SampNotSubscribed(
                f"no registered SAMP client accepts {mtype}; start a tool that does "
                "(TOPCAT for tables, Aladin for images and tables)"
            )
        return targets

    def _call(self, target: ClientInfo, message: dict[str, Any]) -> Reply:
        try:
            response = self._client.call_and_wait(target.id, message, str(int(self.timeout)))
        except xmlrpc.client.Fault as exc:  # the hub's way to say timeout / gone
            return Reply(target.id, target.name, "timeout", error=exc.faultString)
        except OSError as exc:
            raise _hub_failure(exc) from None
        return Reply.from_response(target.id, target.name, response)

    def broadcast_table(
        self,
        source: Any,
        *,
        name: str | None = None,
        table_id: str | None = None,
        wait: bool = True,
        serve: bool = False,
    ) -> Delivery:
        """Send a table to every client that loads tables of its kind.

        ``source``: an astropy Table, a VOTable/FITS file path, its bytes, or a URL
        (e.g. a TAP async job's result URL, sent as is). ``serve=True`` serves a local
        file over HTTP instead of a file: URL.
        """
        return self.send_table(source, None, name=name, table_id=table_id, wait=wait, serve=serve)

    def send_table(
        self,
        source: Any,
        to: str | None,
        *,
        name: str | None = None,
        table_id: str | None = None,
        wait: bool = True,
        serve: bool = False,
    ) -> Delivery:
        """Send a table to one client (``to``: id or samp.name), or all if None."""
        payload = table_payload(source, self.files, name=name, serve=serve)
        ident = table_id or f"vo-{uuid4().hex[:16]}"
        msg = m.table_load(payload.url, ident, payload.name, payload.mtype)
        return self.send(msg, to, wait=wait, ident=ident, url=payload.url)

    def broadcast_image(
        self,
        source: Any,
        *,
        name: str | None = None,
        image_id: str | None = None,
        wait: bool = True,
        serve: bool = False,
    ) -> Delivery:
        """Send a FITS image (file, bytes, HDU or URL such as a cutout) to every image viewer."""
        return self.send_image(source, None, name=name, image_id=image_id, wait=wait, serve=serve)

    def send_image(
        self,
        source: Any,
        to: str | None,
        *,
        name: str | None = None,
        image_id: str | None = None,
        wait: bool = True,
        serve: bool = False,
    ) -> Delivery:
        payload = image_payload(source, self.files, name=name, serve=serve)
        ident = image_id or f"vo-{uuid4().hex[:16]}"
        msg = m.image_load(payload.url, ident, payload.name)
        return self.send(msg, to, wait=wait, ident=ident, url=payload.url)

    def point_at(
        self, ra: float, dec: float, *, to: str | None = None, wait: bool = True
    ) -> Delivery:
        """Ask sky viewers to centre on (ra, dec), ICRS degrees (``coord.pointAt.sky``)."""
        return self.send(m.point_at(ra, dec), to, wait=wait)

    def highlight_row(
        self,
        table: Delivery | tuple[str, str],
        row: int,
        *,
        to: str | None = None,
        wait: bool = True,
    ) -> Delivery:
        """Highlight one row (0-based) of a table sent before (``table.highlight.row``).

        ``table`` is the Delivery of that send, or its (table-id, url)."""
        table_id, url = _table_ref(table)
        return self.send(
            m.highlight_row(table_id, url, row), to, wait=wait, ident=table_id, url=url
        )

    def select_rows(
        self,
        table: Delivery | tuple[str, str],
        rows: list[int],
        *,
        to: str | None = None,
        wait: bool = True,
    ) -> Delivery:
        """Select rows (0-based) of a table sent before (``table.select.rowList``)."""
        table_id, url = _table_ref(table)
        return self.send(
            m.select_rows(table_id, url, list(rows)), to, wait=wait, ident=table_id, url=url
        )

    def ping(self, to: str) -> Reply:
        """``samp.app.ping`` one client (SAMP 1.3 sec. 6.3)."""
        return self.send(m.message(m.PING), to).replies[0]

    # --- receiving ------------------------------------------------------------------
    def on_table(self, callback: TableCallback) -> None:
        """Call ``callback(IncomingTable)`` for every table sent to us.

        For a call, the sender gets samp.ok when the callback returns, or samp.error
        with the exception's message if it raises (SAMP 1.3 sec. 3.9).
        """
        with self._lock:
            first = not self._table_callbacks
            self._table_callbacks.append(callback)
        if not first:
            return
        for mtype in m.TABLE_LOADS:
            self._client.bind_receive_notification(mtype, self._table_notified)
            self._client.bind_receive_call(mtype, self._table_called)

    def _incoming(self, sender_id: str, mtype: str, params: dict[str, Any]) -> IncomingTable:
        try:
            sender = str((self._client.get_metadata(sender_id) or {}).get("samp.name", ""))
        except (OSError, xmlrpc.client.Error):
            sender = ""
        return IncomingTable(
            url=str(params.get("url", "")),
            mtype=mtype,
            table_id=params.get("table-id"),
            name=params.get("name"),
            sender_id=sender_id,
            sender_name=sender,
        )

    def _dispatch(self, table: IncomingTable) -> None:
        if not table.url:
            raise SampError("the message has no url parameter", code="SAMP-BAD-MESSAGE")
        for callback in list(self._table_callbacks):
            callback(table)

    def _table_notified(
        self,
        private_key: str,
        sender_id: str,
        mtype: str,
        params: dict[str, Any],
        extra: dict[str, Any],
    ) -> None:
        try:
            self._dispatch(self._incoming(sender_id, mtype, params))
        except Exception:  # a notification has nobody to tell
            pass

    def _table_called(
        self,
        private_key: str,
        sender_id: str,
        msg_id: str,
        mtype: str,
        params: dict[str, Any],
        extra: dict[str, Any],
    ) -> None:
        with self._replying:
            self._in_flight += 1
        try:
            self._dispatch(self._incoming(sender_id, mtype, params))
        except Exception as exc:
            text = exc.message if isinstance(exc, SampError) else f"{type(exc).__name__}: {exc}"
            self._client.ereply(msg_id, m.STATUS_ERROR, error={"samp.errortxt": text})
        else:
            self._client.ereply(msg_id, m.STATUS_OK, result={})
        finally:
            with self._replying:
                self._in_flight -= 1
                self._replying.notify_all()


def _table_ref(table: Delivery | tuple[str, str]) -> tuple[str, str]:
    if isinstance(table, Delivery):
        if not table.ident or not table.url:
            raise SampError("that delivery carried no table", code="SAMP-NO-TABLE")
        return table.ident, table.url
    return table[0], table[1]


__all__ = ["ClientInfo", "Samp"]
