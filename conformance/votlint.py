"""STILTS votlint on VOTable documents the suite emitted.

votlint (STILTS 3.4.7) checks a VOTable against the schema and the rules the schema
cannot express (VOTable 1.4 sec. 5-6: cell values versus datatype/arraysize, row
lengths, BINARY/BINARY2 stream decoding, ID/ref consistency, UCD and unit syntax).
It exits 0 whatever it finds, so its messages ``LEVEL (l.L, c.C): text`` are parsed.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

MESSAGE = re.compile(r"^(ERROR|WARNING|INFO)\s*(?:\(l\.(\d+), c\.(\d+)\))?:?\s*(.*)$")


@dataclass
class VotlintResult:
    path: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)
    """Lines that are not ERROR/WARNING messages (e.g. a Java exception)."""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.other


def parse_output(path: Path, text: str) -> VotlintResult:
    """Sort votlint's lines into errors, warnings and anything unexpected."""
    out = VotlintResult(path)
    for line in text.splitlines():
        line = line.rstrip()
        if not line:
            continue
        m = MESSAGE.match(line)
        if m is None:
            out.other.append(line)
        elif m.group(1) == "ERROR":
            out.errors.append(line)
        elif m.group(1) == "WARNING":
            out.warnings.append(line)
    return out


def run_votlint(path: Path, version: str = "1.4", timeout: float = 120) -> VotlintResult:
    """Lint one file (``version`` is the highest votlint knows; it rejects 1.5)."""
    proc = subprocess.run(["stilts", "votlint", f"votable={path}", f"version={version}",
                           "validate=true", "ucd=true", "unit=true"],
                          capture_output=True, text=True, timeout=timeout, check=False)
    result = parse_output(path, proc.stdout + proc.stderr)
    if proc.returncode != 0 and not result.errors:
        result.other.append(f"votlint exited with status {proc.returncode}")
    return result
