"""HEALPix fast path: placeholder replaced below."""
from __future__ import annotations

from typing import Any


def fast_predicate(tr: Any, c: Any, ctx: Any) -> str | None:
    return None
