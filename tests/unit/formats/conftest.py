"""The formats tests share the votable tests' typed sample (tests/unit/votable/typed_sample.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "votable"))
