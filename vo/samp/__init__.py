"""SAMP bridge (layer L1): send tables, images and positions to TOPCAT, Aladin and
other SAMP tools, receive tables from them, and run a hub when none is running.

Builds on ``pyvo.samp`` (astropy.samp is deprecated in astropy 8). It may import
only ``vo.errors``, ``vo.config`` and ``vo.meta`` of ours: no Flask, no database.
Tables travel as URLs with their full VOTable metadata (SAMP MTypes page,
``table.load.votable``); see ``vo.samp.payloads``. The browser-side Web Profile
client lives in ``vo/web/static/samp/``.

    from vo.samp import Samp
    with Samp() as samp:
        d = samp.broadcast_table(table)          # astropy Table, file, bytes or URL
        samp.highlight_row(d, 0)
        samp.broadcast_image("m31.fits"); samp.point_at(10.684, 41.269)
"""

from vo.samp.bridge import ClientInfo, Samp
from vo.samp.errors import (
    NO_HUB_MESSAGE,
    SampCallFailed,
    SampError,
    SampHubNotFound,
    SampHubRunning,
    SampNotSubscribed,
    SampQueryFailed,
    SampUnknownClient,
    SampUnreadable,
)
from vo.samp.hub import HubLocation, SampHub, find_hub
from vo.samp.incoming import IncomingTable
from vo.samp.messages import Delivery, Reply

__all__ = [
    "NO_HUB_MESSAGE",
    "ClientInfo",
    "Delivery",
    "HubLocation",
    "IncomingTable",
    "Reply",
    "Samp",
    "SampCallFailed",
    "SampError",
    "SampHub",
    "SampHubNotFound",
    "SampHubRunning",
    "SampNotSubscribed",
    "SampQueryFailed",
    "SampUnknownClient",
    "SampUnreadable",
    "find_hub",
]
