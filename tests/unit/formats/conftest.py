"""The formats tests share the typed sample of the votable tests (tests/unit/votable/typed_sample.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "votable"))
