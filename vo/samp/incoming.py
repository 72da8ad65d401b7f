"""Tables other SAMP clients send to us (``table.load.votable`` / ``table.load.fits``).

The message carries a URL (SAMP MTypes page); ``fetch`` gets the bytes exactly as
sent, so a table can be uploaded to the service with all its metadata, and
``read`` parses them into an astropy Table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vo.samp import messages as m
from vo.samp.errors import SampUnreadable


@dataclass(frozen=True)
class IncomingTable:
    """A table another client sent us (``table.load.votable`` or ``table.load.fits``)."""

    url: str
    mtype: str
    table_id: str | None
    name: str | None
    sender_id: str
    sender_name: str

    def fetch(self, timeout: float = 60.0) -> bytes:
        """The table's bytes exactly as the sender serves them (to upload unchanged)."""
        import urllib.request

        try:
            with urllib.request.urlopen(self.url, timeout=timeout) as resp:
                data: bytes = resp.read()
        except (OSError, ValueError) as exc:
            sender = self.sender_name or self.sender_id
            raise SampUnreadable(
                f"cannot fetch the table {self.name or ''} sent by {sender} from {self.url}: {exc}"
            ) from None
        return data

    def read(self) -> Any:
        """The table as an astropy Table (fetched from its URL), with its metadata."""
        from astropy.table import Table

        fmt = "votable" if self.mtype == m.TABLE_LOAD_VOTABLE else "fits"
        return Table.read(self.url, format=fmt)


TableCallback = Callable[[IncomingTable], None]

__all__ = ["IncomingTable", "TableCallback"]
