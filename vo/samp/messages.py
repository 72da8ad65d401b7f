"""SAMP messages the bridge sends, and the replies it gets back.

MTypes and their parameters follow the IVOA SAMP MTypes list
(https://www.ivoa.net/documents/SAMP/ "MTypes" page, wiki SampMTypes); the message
and response encodings follow SAMP 1.3 sec. 3.8-3.9: every scalar travels as a
string (integers in decimal, floats in a decimal/exponent form), lists as lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --- MTypes (SAMP MTypes page) --------------------------------------------------
PING = "samp.app.ping"  # SAMP 1.3 sec. 6.3: any client answers samp.ok
TABLE_LOAD_VOTABLE = "table.load.votable"  # url, table-id?, name?
TABLE_LOAD_FITS = "table.load.fits"  # url, table-id?, name?
IMAGE_LOAD_FITS = "image.load.fits"  # url, image-id?, name?
POINT_AT_SKY = "coord.pointAt.sky"  # ra, dec (ICRS degrees)
GET_SKY = "coord.get.sky"  # Aladin: -> {ra, dec}
HIGHLIGHT_ROW = "table.highlight.row"  # table-id, url, row (0-based)
SELECT_ROW_LIST = "table.select.rowList"  # table-id, url, row-list (0-based)

TABLE_LOADS = (TABLE_LOAD_VOTABLE, TABLE_LOAD_FITS)

STATUS_OK = "samp.ok"
STATUS_WARNING = "samp.warning"
STATUS_ERROR = "samp.error"


def samp_float(value: float) -> str:
    """A SAMP float (SAMP 1.3 sec. 3.3, <SAMP float>): repr keeps all 17 digits."""
    return repr(float(value))


def samp_int(value: int) -> str:
    """A SAMP int (SAMP 1.3 sec. 3.3, <SAMP int>): decimal digits."""
    return str(int(value))


def message(mtype: str, **params: Any) -> dict[str, Any]:
    """A SAMP message map (SAMP 1.3 sec. 3.8); ``None`` parameters are left out,
    and parameter names use the MTypes page's hyphens (``table_id`` -> ``table-id``)."""
    return {
        "samp.mtype": mtype,
        "samp.params": {k.replace("_", "-"): v for k, v in params.items() if v is not None},
    }


def table_load(
    url: str, table_id: str, name: str | None, mtype: str = TABLE_LOAD_VOTABLE
) -> dict[str, Any]:
    return message(mtype, url=url, table_id=table_id, name=name)


def image_load(url: str, image_id: str, name: str | None) -> dict[str, Any]:
    return message(IMAGE_LOAD_FITS, url=url, image_id=image_id, name=name)


def point_at(ra: float, dec: float) -> dict[str, Any]:
    return message(POINT_AT_SKY, ra=samp_float(ra), dec=samp_float(dec))


def highlight_row(table_id: str, url: str, row: int) -> dict[str, Any]:
    return message(HIGHLIGHT_ROW, table_id=table_id, url=url, row=samp_int(row))


def select_rows(table_id: str, url: str, rows: list[int]) -> dict[str, Any]:
    return message(
        SELECT_ROW_LIST, table_id=table_id, url=url, row_list=[samp_int(r) for r in rows]
    )


@dataclass(frozen=True)
class Reply:
    """One recipient's response to a call (SAMP 1.3 sec. 3.9)."""

    client_id: str
    client_name: str
    status: str  # samp.ok | samp.warning | samp.error, or "timeout"
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""  # samp.errortxt, or why there is no answer

    @property
    def ok(self) -> bool:
        """samp.ok, or samp.warning (done, with a remark), per SAMP 1.3 sec. 3.9."""
        return self.status in (STATUS_OK, STATUS_WARNING)

    @classmethod
    def from_response(cls, client_id: str, client_name: str, response: dict[str, Any]) -> Reply:
        error = response.get("samp.error") or {}
        return cls(
            client_id=client_id,
            client_name=client_name,
            status=str(response.get("samp.status", STATUS_ERROR)),
            result=dict(response.get("samp.result") or {}),
            error=str(error.get("samp.errortxt", "")) if isinstance(error, dict) else str(error),
        )

    def __str__(self) -> str:
        text = f"{self.client_name} ({self.client_id}): {self.status}"
        return f"{text}: {self.error}" if self.error else text


@dataclass(frozen=True)
class Delivery:
    """What a send or broadcast did: the message, its URL/id, and each reply.

    ``replies`` is empty for notifications (fire and forget). Keep the Delivery of
    a table to refer to it later (``highlight_row``, ``select_rows``).
    """

    mtype: str
    url: str | None
    ident: str | None  # table-id or image-id
    replies: tuple[Reply, ...] = ()

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.replies)

    @property
    def failures(self) -> tuple[Reply, ...]:
        return tuple(r for r in self.replies if not r.ok)


__all__ = [
    "Delivery",
    "GET_SKY",
    "HIGHLIGHT_ROW",
    "IMAGE_LOAD_FITS",
    "PING",
    "POINT_AT_SKY",
    "Reply",
    "SELECT_ROW_LIST",
    "TABLE_LOAD_FITS",
    "TABLE_LOAD_VOTABLE",
    "message",
]
