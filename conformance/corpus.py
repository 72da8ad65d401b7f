"""Verdicts of the suite's ADQL parser on the shared corpora, against known disagreements.

The corpora (../shared/conformance/adql, README.md there) give each query a verdict:
valid ADQL 2.1 or not (``valid`` null = no verdict). ``vo.adql.parse`` is the service's
own syntax gate (ADQL 2.1 sec. 2 and App. A), so its verdict is what a TAP client gets
before any table is looked up. Known disagreements are justified once, by the ADQL
engineer, in tests/data/adql/corpus_exceptions.json (lyonetia) and recorded for the
other, heuristic corpora in conformance/expectations.json (``adql_disagreements``): a
record that newly disagrees fails the check; one that newly agrees is reported so the
file can be updated.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.report import Check, Status

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("VO_ADQL_CORPORA",
                              Path(os.environ.get("VO_SHARED_DIR", ROOT.parent / "shared"))
                              / "conformance" / "adql"))
EXCEPTIONS = ROOT / "tests" / "data" / "adql" / "corpus_exceptions.json"
NAMES = ("lyonetia", "vollt", "dachs", "queryparser", "regtap", "spec_examples")
_UDF_NAME = re.compile(r"\s*(\w+)")


@dataclass
class CorpusFigures:
    name: str
    records: int
    judged: int
    agree: int
    parsed: int
    disagreements: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"records": self.records, "judged": self.judged, "agree": self.agree,
                "parsed": self.parsed, "disagreements": len(self.disagreements)}


def load_records(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def accepts(rec: dict[str, Any]) -> bool:
    """The parser's verdict, with the UDFs the record's test declares (lyonetia O2)."""
    from vo.adql import ADQLError, parse

    udfs = [m.group(1) for u in rec.get("declared_udfs") or [] if (m := _UDF_NAME.match(u))]
    try:
        parse(rec["adql"], udfs=udfs)
    except ADQLError:
        return False
    return True


def figures(name: str, records: list[dict[str, Any]]) -> CorpusFigures:
    verdicts = [(r, accepts(r)) for r in records]
    judged = [(r, v) for r, v in verdicts if r.get("valid") is not None]
    dis = sorted(r["id"] for r, v in judged if v != r["valid"])
    return CorpusFigures(name, len(records), len(judged), len(judged) - len(dis),
                         sum(v for _, v in verdicts), dis)


def known_disagreements(expectations: dict[str, Any]) -> dict[str, set[str]]:
    """lyonetia from the ADQL engineer's justified list; the others from expectations."""
    known = {k: set(v) for k, v in expectations.get("adql_disagreements", {}).items()}
    if EXCEPTIONS.exists():
        exc = json.loads(EXCEPTIONS.read_text(encoding="utf-8"))
        known["lyonetia"] = set(exc.get("lyonetia", {}))
    return known


def run_corpora(expectations: dict[str, Any], corpora: Path = CORPORA
                ) -> tuple[list[Check], dict[str, CorpusFigures]]:
    """One check per corpus: passes while no record disagrees beyond the known list."""
    known = known_disagreements(expectations)
    checks: list[Check] = []
    out: dict[str, CorpusFigures] = {}
    for name in NAMES:
        path = corpora / f"{name}.jsonl"
        if not path.exists():
            checks.append(Check("adql-corpus", name, "skip", f"{path} not found"))
            continue
        t0 = time.monotonic()
        fig = figures(name, load_records(path))
        out[name] = fig
        now = set(fig.disagreements)
        was = known.get(name)
        status: Status
        if fig.judged == 0:
            status, detail = "pass", f"no verdicts to compare; parsed {fig.parsed}/{fig.records}"
            newly_agree: list[str] = []
            newly_disagree: list[str] = []
        else:
            newly_disagree = sorted(now - was) if was is not None else sorted(now)
            newly_agree = sorted(was - now) if was is not None else []
            status = "fail" if newly_disagree else "pass"
            detail = (f"agree {fig.agree}/{fig.judged}, parsed {fig.parsed}/{fig.records}"
                      + (f"; newly disagreeing: {', '.join(newly_disagree[:10])}"
                         if newly_disagree else "")
                      + (f"; newly agreeing: {', '.join(newly_agree[:10])}"
                         if newly_agree else ""))
        checks.append(Check("adql-corpus", name, status, detail, time.monotonic() - t0,
                            {**fig.as_json(), "newly_disagreeing": newly_disagree,
                             "newly_agreeing": newly_agree}))
    return checks, out
