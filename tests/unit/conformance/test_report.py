"""conformance.report: expectations, regressions, improvements and the run's verdict."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.report import (
    Check,
    compare,
    load_expectations,
    summary_lines,
    verdict,
    write_expectations,
    write_report,
)


def c(cid: str, status: str) -> Check:
    group, _, name = cid.partition(":")
    return Check(group, name, status)  # type: ignore[arg-type]


def test_compare_classifies_every_case() -> None:
    expected = {"a:same": "pass", "a:broke": "pass", "a:fixed": "fail", "a:gone": "pass",
                "a:gone-fail": "fail", "a:skipped": "pass", "a:known": "fail"}
    checks = [c("a:same", "pass"), c("a:broke", "fail"), c("a:fixed", "pass"),
              c("a:skipped", "skip"), c("a:known", "fail"), c("a:new-ok", "pass"),
              c("a:new-bad", "fail")]
    cmp = compare(checks, expected)  # type: ignore[arg-type]
    assert sorted(cmp.regressed) == ["a:broke", "a:gone", "a:new-bad", "a:skipped"]
    assert cmp.improved == ["a:fixed"]
    assert cmp.new == ["a:new-ok"]
    assert sorted(cmp.missing) == ["a:gone", "a:gone-fail"]


def test_verdict_fails_on_taplint_errors_invalid_documents_and_regressions() -> None:
    ok = [c("xsd:vosi", "pass"), c("client:pyvo", "pass")]
    assert verdict(ok, compare(ok, {}), 0).ok
    assert not verdict(ok, compare(ok, {}), 1).ok
    bad_doc = [c("xsd:vosi", "fail")]
    # an invalid document fails the run even when it is an expected failure
    v = verdict(bad_doc, compare(bad_doc, {"xsd:vosi": "fail"}), 0)
    assert not v.ok and v.invalid_documents == ["xsd:vosi"]
    known = [c("client:pyvo", "fail")]
    assert verdict(known, compare(known, {"client:pyvo": "fail"}), 0).ok


def test_expectations_round_trip_keeps_checks_not_run(tmp_path: Path) -> None:
    path = tmp_path / "expectations.json"
    assert load_expectations(path) == {}
    write_expectations(path, [c("a:x", "pass"), c("b:y", "fail")], {"c:old": "pass"})
    assert load_expectations(path) == {"a:x": "pass", "b:y": "fail", "c:old": "pass"}
    write_expectations(path, [c("b:y", "pass")], load_expectations(path))
    assert load_expectations(path)["b:y"] == "pass"


def test_report_and_summary(tmp_path: Path) -> None:
    checks = [c("xsd:vosi", "pass"), c("client:pyvo", "fail")]
    cmp = compare(checks, {"client:pyvo": "pass"})
    v = verdict(checks, cmp, 0)
    write_report(tmp_path / "r.json", {"nproc": 2}, checks, cmp, v, {"taplint": {}})
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["verdict"]["ok"] is False
    assert doc["verdict"]["regressed"] == ["client:pyvo"]
    assert doc["counts"] == {"xsd": {"pass": 1, "fail": 0, "skip": 0},
                             "client": {"pass": 0, "fail": 1, "skip": 0}}
    text = "\n".join(summary_lines(checks, cmp, v, []))
    assert "REGRESSED (1): client:pyvo" in text and "RESULT: FAILED" in text


def test_summary_marks_known_failures() -> None:
    checks = [c("taplint-warning:CAP.CULF", "fail")]
    expected = {"taplint-warning:CAP.CULF": "fail"}
    cmp = compare(checks, expected)  # type: ignore[arg-type]
    text = "\n".join(summary_lines(checks, cmp, verdict(checks, cmp, 0), [],
                                   expected))  # type: ignore[arg-type]
    assert "known failure taplint-warning:CAP.CULF" in text and "RESULT: OK" in text
