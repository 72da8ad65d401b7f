"""STILTS taplint against the live service, and its JSON report reduced to counts.

taplint (STILTS 3.4.7, ``format=json``) reports messages of five levels per stage
("section"): ERROR, WARNING, INFO, SUMMARY, FAILURE, each with a four-letter code.
We run every stage except LOC (ObsLocTAP is not served) and keep: counts per level,
per section, and per (section, level, code), plus the text of every E/W/F message.
TAP 1.1 is the version checked (``interface=tap1.1``).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.report import Check

LEVELS = ("ERROR", "WARNING", "INFO", "SUMMARY", "FAILURE")
PROBLEMS = ("ERROR", "WARNING", "FAILURE")
LETTER = {"ERROR": "E", "WARNING": "W", "INFO": "I", "SUMMARY": "S", "FAILURE": "F"}


@dataclass
class TaplintReport:
    """taplint's findings, reduced to what a person and the expectations file need."""

    totals: dict[str, int]
    sections: dict[str, dict[str, Any]]
    """section code -> {"title", "counts": {level: n}, "codes": {"E-QERR": n, ...}}."""
    problems: list[dict[str, Any]] = field(default_factory=list)
    """Every ERROR/WARNING/FAILURE: section, level, code, text (and error detail)."""

    @property
    def errors(self) -> int:
        return self.totals.get("ERROR", 0) + self.totals.get("FAILURE", 0)

    def as_json(self) -> dict[str, Any]:
        return {"totals": self.totals, "sections": self.sections, "problems": self.problems}


def parse_report(doc: dict[str, Any]) -> TaplintReport:
    """Reduce taplint's ``format=json`` document (announce, sections[], totals)."""
    if not isinstance(doc.get("sections"), list):
        raise ValueError("not a taplint JSON report: no 'sections' list")
    totals: Counter[str] = Counter({level: 0 for level in LEVELS})
    sections: dict[str, dict[str, Any]] = {}
    problems: list[dict[str, Any]] = []
    for sec in doc["sections"]:
        code = str(sec.get("code", "?"))
        per_level: Counter[str] = Counter({level: 0 for level in LEVELS})
        codes: Counter[str] = Counter()
        for rep in sec.get("reports", []):
            level = str(rep.get("level", "INFO")).upper()
            per_level[level] += 1
            totals[level] += 1
            codes[f"{LETTER.get(level, '?')}-{rep.get('code', '????')}"] += 1
            if level in PROBLEMS:
                item = {"section": code, "level": level, "code": rep.get("code"),
                        "text": rep.get("text", "")}
                if isinstance(rep.get("error"), dict):
                    item["error"] = rep["error"].get("errmsg") or rep["error"].get("class")
                problems.append(item)
        entry = sections.setdefault(code, {"title": sec.get("title", ""),
                                           "counts": Counter(), "codes": Counter()})
        entry["counts"].update(per_level)
        entry["codes"].update(codes)
    for entry in sections.values():
        entry["counts"] = dict(entry["counts"])
        entry["codes"] = dict(sorted(entry["codes"].items()))
    reported = doc.get("totals")
    if isinstance(reported, dict):
        # taplint's own totals win: with maxrepeat it stops listing repeats but counts them
        for level in LEVELS:
            if level in reported:
                totals[level] = int(reported[level])
    return TaplintReport(dict(totals), sections, problems)


def checks_from(report: TaplintReport, expected_ids: set[str]) -> list[Check]:
    """One check per section (fails on any ERROR/FAILURE) and one per warning code.

    Warning checks are named ``taplint-warning:SECTION.CODE`` and fail while the warning
    is reported; a warning recorded in the expectations that no longer appears becomes
    a passing check, so the improvement is seen and can be recorded.
    """
    out: list[Check] = []
    for sec, entry in report.sections.items():
        bad = entry["counts"].get("ERROR", 0) + entry["counts"].get("FAILURE", 0)
        msgs = [f"{p['level'][0]}-{p['code']}: {p['text']}" + (f" ({p['error']})"
                                                               if p.get("error") else "")
                for p in report.problems if p["section"] == sec and p["level"] != "WARNING"]
        out.append(Check("taplint", sec, "fail" if bad else "pass",
                         "; ".join(dict.fromkeys(msgs)), data={"counts": entry["counts"]}))
    seen = set()
    for p in report.problems:
        if p["level"] != "WARNING":
            continue
        name = f"{p['section']}.{p['code']}"
        if name in seen:
            continue
        seen.add(name)
        texts = [q["text"] + (f" ({q['error']})" if q.get("error") else "")
                 for q in report.problems
                 if q["level"] == "WARNING" and f"{q['section']}.{q['code']}" == name]
        out.append(Check("taplint-warning", name, "fail", "; ".join(dict.fromkeys(texts))))
    for cid in sorted(expected_ids):
        group, _, name = cid.partition(":")
        if group == "taplint-warning" and name not in seen:
            out.append(Check(group, name, "pass", "no longer reported"))
    return out


def run_taplint(tap_url: str, out_dir: Path, stages: str = "-LOC",
                timeout: float = 900) -> tuple[TaplintReport, float]:
    """Run ``stilts taplint`` and parse its JSON report (also saved in ``out_dir``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = ["stilts", "taplint", f"tapurl={tap_url}", f"stages={stages}", "format=json",
           "interface=tap1.1", "maxrepeat=50"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.monotonic() - t0
    (out_dir / "taplint.json").write_text(proc.stdout, encoding="utf-8")
    (out_dir / "taplint.stderr").write_text(proc.stderr, encoding="utf-8")
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"taplint gave no JSON report (exit {proc.returncode}): "
                           f"{proc.stderr.strip()[-500:]}") from exc
    return parse_report(doc), seconds
