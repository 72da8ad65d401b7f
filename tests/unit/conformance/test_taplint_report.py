"""conformance.taplint: taplint's JSON report reduced to counts and checks."""

from __future__ import annotations

import pytest

from conformance.taplint import checks_from, parse_report

# The shape STILTS 3.4.7 writes with format=json (trimmed from a real run).
REPORT = {
    "announce": ["This is STILTS taplint, 3.4.7-debian/?"],
    "sections": [
        {"code": "TMV", "title": "Validate table metadata against XML schema",
         "reports": [{"level": "INFO", "code": "VURL", "text": "Validating", "iseq": 1},
                     {"level": "SUMMARY", "code": "VALI", "text": "SAX report", "iseq": 1}]},
        {"code": "CAP", "title": "Check TAP and TAPRegExt content of capabilities document",
         "reports": [{"level": "WARNING", "code": "CULF", "text": "Custom feature type", "iseq": 1},
                     {"level": "WARNING", "code": "CULF", "text": "Custom feature 2", "iseq": 2}]},
        {"code": "UPL", "title": "Make queries with table uploads",
         "reports": [{"level": "INFO", "code": "QSUB", "text": "Submitting query", "iseq": 1},
                     {"level": "ERROR", "code": "QERR", "text": "TAP query failed", "iseq": 1,
                      "error": {"class": "java.io.IOException",
                                "errmsg": "Service error: TAP-UPLOAD-PART"}},
                     {"level": "FAILURE", "code": "FAIL", "text": "Crashed", "iseq": 1}]},
    ],
    "totals": {"ERROR": 1, "FAILURE": 1, "INFO": 2, "SUMMARY": 1, "WARNING": 2},
}


def test_counts_per_level_section_and_code() -> None:
    r = parse_report(REPORT)
    assert r.totals == {"ERROR": 1, "WARNING": 2, "INFO": 2, "SUMMARY": 1, "FAILURE": 1}
    assert r.errors == 2
    assert r.sections["CAP"]["codes"] == {"W-CULF": 2}
    assert r.sections["UPL"]["counts"]["ERROR"] == 1
    assert r.sections["UPL"]["codes"] == {"E-QERR": 1, "F-FAIL": 1, "I-QSUB": 1}
    assert r.sections["TMV"]["counts"]["ERROR"] == 0
    upl = [p for p in r.problems if p["section"] == "UPL"]
    assert upl[0]["error"] == "Service error: TAP-UPLOAD-PART"


def test_taplint_totals_win_over_listed_messages() -> None:
    """With maxrepeat taplint stops listing repeated messages but still counts them."""
    doc = {**REPORT, "totals": {**REPORT["totals"], "WARNING": 40}}
    assert parse_report(doc).totals["WARNING"] == 40


def test_not_a_report() -> None:
    with pytest.raises(ValueError):
        parse_report({"announce": []})


def test_checks_per_section_and_warning() -> None:
    checks = {c.id: c for c in checks_from(parse_report(REPORT), set())}
    assert checks["taplint:TMV"].status == "pass"
    assert checks["taplint:CAP"].status == "pass"
    assert checks["taplint:UPL"].status == "fail"
    assert "TAP-UPLOAD-PART" in checks["taplint:UPL"].detail
    assert checks["taplint-warning:CAP.CULF"].status == "fail"
    assert "Custom feature 2" in checks["taplint-warning:CAP.CULF"].detail


def test_warning_gone_becomes_a_passing_check() -> None:
    expected = {"taplint-warning:EXA.QERR", "taplint-warning:CAP.CULF", "xsd:vosi"}
    checks = {c.id: c for c in checks_from(parse_report(REPORT), expected)}
    assert checks["taplint-warning:EXA.QERR"].status == "pass"
    assert checks["taplint-warning:CAP.CULF"].status == "fail"
    assert "xsd:vosi" not in checks
