"""Parsers of the tools' outputs: votlint messages and the SAMP round-trip script's lines."""

from __future__ import annotations

from pathlib import Path

from conformance.samp_checks import parse_lines
from conformance.votlint import parse_output


def test_votlint_messages() -> None:
    text = ("ERROR (l.1, c.164): Bad integer string 'x'\n"
            "WARNING (l.1, c.179): Wrong number of TDs in row (expecting 1 found 2)\n\n")
    r = parse_output(Path("a.vot"), text)
    assert r.errors == ["ERROR (l.1, c.164): Bad integer string 'x'"]
    assert len(r.warnings) == 1 and not r.ok


def test_votlint_clean_and_unexpected_output() -> None:
    assert parse_output(Path("a.vot"), "").ok
    r = parse_output(Path("a.vot"), "Exception in thread main java.io.IOException: boom")
    assert not r.ok and r.other


def test_samp_lines() -> None:
    text = ("stack (jsamp hub, TOPCAT, Aladin) up in 9.1 s\n"
            "PASS table.load.votable -> TOPCAT: samp.ok\n"
            "FAIL coord.get.sky = image centre: {'ra': '1'} vs (10.68, 41.27)\n"
            "1 FAILED in 30.0 s\n")
    checks = parse_lines("jsamp", text)
    assert [(ch.name, ch.status) for ch in checks] == [
        ("jsamp/table.load.votable-topcat", "pass"),
        ("jsamp/coord.get.sky-image-centre", "fail")]
