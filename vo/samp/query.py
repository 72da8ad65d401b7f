"""Running an ADQL query on a TAP service once, to send its result over SAMP.

``vo samp send --query`` POSTs the query to the service's synchronous endpoint
(TAP 1.1 sec. 2.2: ``{service}/sync`` with REQUEST=doQuery, LANG=ADQL, QUERY) and
keeps the VOTable it returns; the bridge writes it once to a temporary file and
serves that, because the sync URL itself would re-run the query on every fetch.
An error document (DALI 1.1 sec. 4.4: INFO name="QUERY_STATUS" value="ERROR")
becomes ``SampQueryFailed`` with the service's own message.
"""

from __future__ import annotations

import re

from vo.samp.errors import SampQueryFailed
from vo.samp.payloads import sniff

_STATUS_INFO = re.compile(
    rb"<INFO\b[^>]*\bname\s*=\s*[\"']QUERY_STATUS[\"'][^>]*?(?:/>|>(?P<text>.*?)</INFO>)",
    re.DOTALL | re.IGNORECASE,
)
_VALUE = re.compile(rb"\bvalue\s*=\s*[\"'](?P<v>[^\"']*)[\"']", re.IGNORECASE)


def sync_url(service: str) -> str:
    """The sync endpoint of a TAP service base URL (TAP 1.1 sec. 2.1)."""
    base = service.rstrip("/")
    return base if base.endswith("/sync") else base + "/sync"


def query_error(document: bytes) -> str | None:
    """The message of a DALI error VOTable, or None if its QUERY_STATUS is not ERROR.

    Only the leading QUERY_STATUS counts: a trailing OVERFLOW one (DALI 1.1 sec. 4.4)
    still means a good, truncated result.
    """
    match = _STATUS_INFO.search(document[:65536])
    if match is None:
        return None
    tag = match.group(0).split(b">", 1)[0]
    value = _VALUE.search(tag)
    if value is None or value.group("v").upper() != b"ERROR":
        return None
    text = (match.group("text") or b"").decode("utf-8", "replace").strip()
    return text or "the service reported an error without a message"


def run_query(
    service: str, adql: str, *, maxrec: int | None = None, timeout: float = 120.0
) -> bytes:
    """POST ``adql`` to the TAP service's sync endpoint; the result VOTable's bytes."""
    import requests

    url = sync_url(service)
    data = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": adql, "RESPONSEFORMAT": "votable"}
    if maxrec is not None:
        data["MAXREC"] = str(maxrec)
    try:
        resp = requests.post(url, data=data, timeout=timeout)
    except requests.RequestException as exc:
        raise SampQueryFailed(
            f"cannot reach the TAP service at {url} ({type(exc).__name__}); start it "
            "(`vo serve`) or name another with --service"
        ) from None
    body = resp.content
    if sniff(body[:65536]) != "votable":
        raise SampQueryFailed(
            f"the TAP service at {url} answered HTTP {resp.status_code} without a VOTable; "
            "is --service the TAP base URL (the one with /sync below it)?"
        )
    error = query_error(body)
    if error is not None:
        raise SampQueryFailed(f"the query failed: {error}")
    if resp.status_code >= 400:
        raise SampQueryFailed(f"the TAP service at {url} answered HTTP {resp.status_code}")
    return body


__all__ = ["query_error", "run_query", "sync_url"]
