"""Check outcomes, the expectations file and the verdict of a conformance run.

Every check has a stable id (``group:name``) and a status: ``pass``, ``fail`` or ``skip``.
``conformance/expectations.json`` records the status each check had when it was last
accepted. Against it a run classifies every check as unchanged, *improved* (newly
passing: recorded when the run is given ``--update-expectations``), or *regressed*
(newly failing, or no longer run although it used to pass), which fails the run.
Independently of the expectations, a run fails on any taplint ERROR or FAILURE report
and on any schema-invalid document (issue 6).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["pass", "fail", "skip"]

HARD_GROUPS = ("xsd",)
"""Groups where any failing check fails the run whatever the expectations say."""


@dataclass
class Check:
    """One observable verdict: a document valid against its schema, a client round trip, ..."""

    group: str
    name: str
    status: Status
    detail: str = ""
    seconds: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.group}:{self.name}"


@dataclass
class Comparison:
    """How a run's checks compare with the recorded expectations."""

    regressed: list[str] = field(default_factory=list)
    improved: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def load_expectations(path: Path) -> dict[str, Status]:
    """The recorded statuses (an absent file means nothing is expected yet)."""
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    checks = doc.get("checks", {})
    if not isinstance(checks, dict):
        raise ValueError(f"{path}: 'checks' must be an object of check id -> status")
    return {str(k): v for k, v in checks.items() if v in ("pass", "fail", "skip")}


def compare(checks: Iterable[Check], expected: dict[str, Status]) -> Comparison:
    """Classify each check against its expected status.

    A check that fails without an expectation is a regression too (a new check must
    pass or be recorded as a known failure); one that passes without an expectation
    is new. An expected check the run did not produce at all is listed as missing and
    counts as a regression when it used to pass.
    """
    out = Comparison()
    seen = set()
    for c in checks:
        seen.add(c.id)
        was = expected.get(c.id)
        if was is None:
            (out.regressed if c.status == "fail" else out.new).append(c.id)
        elif c.status == "fail" and was != "fail":
            out.regressed.append(c.id)
        elif c.status == "skip" and was == "pass":
            out.regressed.append(c.id)
        elif c.status == "pass" and was != "pass":
            out.improved.append(c.id)
    for cid, was in expected.items():
        if cid not in seen:
            out.missing.append(cid)
            if was == "pass":
                out.regressed.append(cid)
    return out


def write_expectations(path: Path, checks: Iterable[Check], keep: dict[str, Status]) -> None:
    """Record the statuses of this run (checks it did not run keep their old entry)."""
    merged = dict(keep)
    merged.update({c.id: c.status for c in checks})
    doc = {
        "_about": "Accepted status of every conformance check (conformance/report.py). "
        "Regenerate with `bash conformance/run --update-expectations` after review.",
        "checks": dict(sorted(merged.items())),
    }
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


@dataclass
class Verdict:
    """Why the run fails (empty lists: it passes)."""

    taplint_errors: int
    invalid_documents: list[str]
    regressed: list[str]

    @property
    def ok(self) -> bool:
        return not (self.taplint_errors or self.invalid_documents or self.regressed)


def verdict(checks: list[Check], comparison: Comparison, taplint_errors: int) -> Verdict:
    invalid = [c.id for c in checks if c.group in HARD_GROUPS and c.status == "fail"]
    return Verdict(taplint_errors, invalid, sorted(set(comparison.regressed)))


def write_report(path: Path, meta: dict[str, Any], checks: list[Check],
                 comparison: Comparison, result: Verdict, sections: dict[str, Any]) -> None:
    """The machine-readable report: every check, the comparison and the verdict."""
    doc = {
        "meta": meta,
        "verdict": {"ok": result.ok, **asdict(result)},
        "comparison": asdict(comparison),
        "counts": counts(checks),
        **sections,
        "checks": [{"id": c.id, **asdict(c)} for c in checks],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n", encoding="utf-8")


def counts(checks: Iterable[Check]) -> dict[str, dict[str, int]]:
    """pass/fail/skip counts per group."""
    out: dict[str, dict[str, int]] = {}
    for c in checks:
        g = out.setdefault(c.group, {"pass": 0, "fail": 0, "skip": 0})
        g[c.status] += 1
    return out


def summary_lines(checks: list[Check], comparison: Comparison, result: Verdict,
                  extra: list[str], expected: dict[str, Status] | None = None) -> list[str]:
    """The short human summary printed at the end of a run (known failures marked so)."""
    expected = expected or {}
    lines = ["", "== conformance summary =="]
    for group, n in counts(checks).items():
        lines.append(f"  {group:10} pass {n['pass']:4d}  fail {n['fail']:4d}  skip {n['skip']:4d}")
    lines.extend(extra)
    for c in checks:
        if c.status == "fail":
            label = "known failure" if expected.get(c.id) == "fail" else "FAIL"
            lines.append(f"  {label} {c.id}: {c.detail[:300]}")
    if comparison.improved:
        lines.append(f"  newly passing ({len(comparison.improved)}): "
                     + ", ".join(comparison.improved[:20])
                     + "  -> record with --update-expectations")
    if comparison.new:
        lines.append(f"  new checks ({len(comparison.new)}) not in the expectations file yet")
    if comparison.regressed:
        lines.append(f"  REGRESSED ({len(comparison.regressed)}): "
                     + ", ".join(comparison.regressed[:20]))
    if result.taplint_errors:
        lines.append(f"  taplint reported {result.taplint_errors} ERROR/FAILURE messages")
    if result.invalid_documents:
        lines.append(f"  schema-invalid documents: {', '.join(result.invalid_documents)}")
    lines.append("  RESULT: " + ("OK" if result.ok else "FAILED"))
    return lines
