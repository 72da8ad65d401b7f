"""One command that proves the suite against the real VO tools (issue 6).

    bash conformance/run [--out DIR] [--update-expectations] [--url URL] [--skip GROUP]

Starts the suite on a fresh state directory (demo catalogues plus a synthetic one),
then runs: the ADQL corpora, stilts taplint (all stages but LOC), XSD validation of
every XML document the suite emits, stilts votlint on every VOTable serialisation,
the client suites (pyvo, astroquery, stilts tapquery) and SAMP round trips with TOPCAT
and Aladin. Writes ``DIR/report.json``, prints a summary, and exits 1 on any taplint
ERROR/FAILURE, any schema-invalid document or any regression against
conformance/expectations.json (2 when the suite could not even be started).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from conformance import report as rp  # noqa: E402
from conformance.report import Check  # noqa: E402

GROUPS = ("corpus", "taplint", "xsd", "votlint", "clients", "samp")
CHECK_GROUPS = {"corpus": ("adql-corpus",), "taplint": ("taplint", "taplint-warning"),
                "xsd": ("xsd",), "votlint": ("votlint",), "clients": ("client",),
                "samp": ("samp",)}
"""--skip names -> the check groups they produce (skipped groups are not compared)."""


def log(msg: str) -> None:
    print(f"[conformance {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def machine() -> dict[str, Any]:
    """Facts a reader needs to compare runs."""
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MB"
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    stilts = ""
    if shutil.which("stilts"):
        out = subprocess.run(["stilts", "-version"], capture_output=True, text=True,
                             check=False).stdout
        stilts = next((line.split()[-1] for line in out.splitlines()
                       if "STILTS version" in line), "")
    return {"nproc": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "commit": commit, "stilts": stilts,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def document_checks(base: str, out_dir: Path, skip: set[str]) -> tuple[list[Check], dict]:
    """XSD validation of every collected document, votlint on every VOTable."""
    from conformance.documents import DocumentCollector, is_votable
    from conformance.votlint import run_votlint
    from conformance.xsd import validate

    coll = DocumentCollector(base, out_dir / "documents")
    docs = coll.collect()
    checks: list[Check] = []
    for doc in docs:
        if "xsd" not in skip:
            if doc.problem and not doc.body:
                checks.append(Check("xsd", doc.name, "fail", doc.problem))
            else:
                v = validate(doc.body)
                errors = ([doc.problem] if doc.problem else []) + v.errors
                checks.append(Check("xsd", doc.name, "pass" if v.ok and not doc.problem
                                    else "fail", "; ".join(errors[:5]) or v.root,
                                    data={"root": v.root, "url": doc.url}))
        if "votlint" not in skip and is_votable(doc):
            r = run_votlint(out_dir / "documents" / f"{doc.name}.vot")
            detail = "; ".join((r.errors + r.other)[:5]) or (
                f"{len(r.warnings)} warnings: " + "; ".join(r.warnings[:3]) if r.warnings
                else "clean")
            checks.append(Check("votlint", doc.name, "pass" if r.ok else "fail", detail,
                                data={"errors": len(r.errors), "warnings": len(r.warnings)}))
    for name in coll.absent:
        checks.append(Check("xsd", name, "skip", "endpoint not served (HTTP 404)"))
    return checks, {"documents": [d.name for d in docs], "absent_endpoints": coll.absent}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="conformance/run", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "conformance" / "out",
                    help="report.json, taplint.json, documents/, logs (default: %(default)s)")
    ap.add_argument("--expectations", type=Path, default=ROOT / "conformance" /
                    "expectations.json", help="accepted statuses (default: %(default)s)")
    ap.add_argument("--update-expectations", action="store_true",
                    help="record this run's statuses as the accepted ones")
    ap.add_argument("--url", help="test an already running suite (base URL) instead")
    ap.add_argument("--synthetic-rows", type=int, default=100_000,
                    help="rows of the make_catalog.py table bench.synthetic")
    ap.add_argument("--port", type=int, help="port for the suite (default: a free one)")
    ap.add_argument("--skip", action="append", default=[], choices=GROUPS,
                    help="leave a group of checks out (repeatable); it is not compared")
    ap.add_argument("--taplint-stages", default="-LOC")
    ap.add_argument("--keep", action="store_true", help="keep the state directory")
    args = ap.parse_args(argv)
    skip = set(args.skip)
    t_start = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    exp_doc = (json.loads(args.expectations.read_text(encoding="utf-8"))
               if args.expectations.exists() else {})
    expected = rp.load_expectations(args.expectations)
    meta = machine()
    checks: list[Check] = []
    sections: dict[str, Any] = {}
    timings: dict[str, float] = {}

    def timed(group: str, fn):  # type: ignore[no-untyped-def]
        t0 = time.monotonic()
        result = fn()
        timings[group] = round(time.monotonic() - t0, 1)
        return result

    if "corpus" not in skip:
        from conformance.corpus import run_corpora

        log("ADQL corpora...")
        cchecks, figs = timed("corpus", lambda: run_corpora(exp_doc))
        checks += cchecks
        sections["adql_corpora"] = {n: {**f.as_json(), "disagreeing_ids": f.disagreements}
                                    for n, f in figs.items()}
        disagreements = {n: f.disagreements for n, f in figs.items() if n != "lyonetia"}
    suite = None
    base = args.url.rstrip("/") if args.url else ""
    taplint_errors = 0
    try:
        if not base:
            from conformance.suite import SuiteError, SuiteUnderTest

            suite = SuiteUnderTest(args.out / "suite", args.synthetic_rows, args.port, log)
            try:
                timed("setup", suite.prepare)
                timed("serve", suite.start)
            except (SuiteError, OSError, subprocess.SubprocessError) as exc:
                log(f"could not start the suite: {exc}")
                return 2
            base = suite.base_url
            meta["setup_seconds"] = suite.timings
        tap = base + "/tap"
        if "taplint" not in skip:
            if shutil.which("stilts") is None:
                checks.append(Check("taplint", "run", "skip", "stilts is not installed"))
            else:
                from conformance.taplint import checks_from, run_taplint

                log(f"stilts taplint stages={args.taplint_stages} (about 1.5 min)...")
                tl, secs = timed("taplint", lambda: run_taplint(tap, args.out,
                                                                args.taplint_stages))
                taplint_errors = tl.errors
                sections["taplint"] = tl.as_json()
                checks += checks_from(tl, set(expected))
                log(f"taplint totals {tl.totals} in {secs:.0f} s")
        if not {"xsd", "votlint"} <= skip:
            log("collecting documents: XSD validation and votlint...")
            dchecks, dinfo = timed("documents", lambda: document_checks(base, args.out, skip))
            checks += dchecks
            sections["documents"] = dinfo
        if "clients" not in skip:
            from conformance.clients import run_clients

            log("client suites: pyvo, astroquery, stilts tapquery...")
            checks += timed("clients", lambda: run_clients(tap))
        if "samp" not in skip:
            from conformance.samp_checks import run_samp

            log("SAMP round trips with TOPCAT and Aladin (JSAMP hub, vo hub)...")
            checks += timed("samp", lambda: run_samp(tap, args.out))
    finally:
        if suite is not None:
            log("stopping the suite")
            suite.stop(keep=args.keep)
    skipped = {g for name in skip for g in CHECK_GROUPS[name]}
    comparison = rp.compare(checks, {k: v for k, v in expected.items()
                                     if k.partition(":")[0] not in skipped})
    result = rp.verdict(checks, comparison, taplint_errors)
    meta["seconds"] = round(time.monotonic() - t_start, 1)
    meta["timings"] = timings
    rp.write_report(args.out / "report.json", meta, checks, comparison, result, sections)
    extra = []
    if "taplint" in sections:
        t = sections["taplint"]["totals"]
        extra.append("  taplint    " + "  ".join(f"{k[0]}={v}" for k, v in t.items())
                     + "  by section: " + ", ".join(
                         f"{s}:E{c['counts'].get('ERROR', 0)}/W{c['counts'].get('WARNING', 0)}"
                         f"/F{c['counts'].get('FAILURE', 0)}"
                         for s, c in sections["taplint"]["sections"].items()))
    for name, f in sections.get("adql_corpora", {}).items():
        extra.append(f"  corpus     {name:14} agree {f['agree']}/{f['judged']}"
                     f"  parsed {f['parsed']}/{f['records']}")
    extra.append(f"  time       {meta['seconds']} s  ({timings})")
    extra.append(f"  report     {args.out / 'report.json'}")
    print("\n".join(rp.summary_lines(checks, comparison, result, extra, expected)), flush=True)
    if args.update_expectations:
        rp.write_expectations(args.expectations, checks, expected)
        doc = json.loads(args.expectations.read_text(encoding="utf-8"))
        if "corpus" not in skip:
            doc["adql_disagreements"] = {n: sorted(v) for n, v in disagreements.items()}
        else:
            doc["adql_disagreements"] = exp_doc.get("adql_disagreements", {})
        args.expectations.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        log(f"expectations written to {args.expectations}")
        result = rp.Verdict(result.taplint_errors, result.invalid_documents, [])
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
