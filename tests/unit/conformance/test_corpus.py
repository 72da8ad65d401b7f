"""conformance.corpus: parser verdicts against known disagreements (real vo.adql parser)."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.corpus import run_corpora

RECORDS = [
    {"id": "t:1", "adql": "SELECT a FROM t", "valid": True},
    {"id": "t:2", "adql": "SELECT FROM WHERE", "valid": False},
    {"id": "t:3", "adql": "SELECT a FROM t WHERE", "valid": True},  # the verdict is wrong
    {"id": "t:4", "adql": "SELECT TOP 1 a FROM t", "valid": None},
]


def corpora(tmp_path: Path) -> Path:
    with open(tmp_path / "vollt.jsonl", "w", encoding="utf-8") as f:
        for r in RECORDS:
            f.write(json.dumps(r) + "\n")
    return tmp_path


def by_name(checks):  # type: ignore[no-untyped-def]
    return {c.name: c for c in checks}


def test_unrecorded_disagreement_fails(tmp_path: Path) -> None:
    checks, figs = run_corpora({}, corpora(tmp_path))
    vollt = by_name(checks)["vollt"]
    assert vollt.status == "fail" and "t:3" in vollt.detail
    assert (figs["vollt"].judged, figs["vollt"].agree, figs["vollt"].parsed) == (3, 2, 2)
    assert by_name(checks)["dachs"].status == "skip"  # not in this directory


def test_recorded_disagreement_passes_and_fixed_one_is_reported(tmp_path: Path) -> None:
    checks, _ = run_corpora({"adql_disagreements": {"vollt": ["t:3", "t:2"]}},
                            corpora(tmp_path))
    vollt = by_name(checks)["vollt"]
    assert vollt.status == "pass"
    assert vollt.data["newly_agreeing"] == ["t:2"]
