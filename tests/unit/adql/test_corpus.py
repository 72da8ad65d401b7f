"""The ADQL corpora in ../shared/conformance/adql (README.md there): every valid
lyonetia query is accepted and every invalid one rejected, except the records listed,
with reasons, in tests/data/adql/corpus_exceptions.json. Rates for the other corpora
are checked against floors (their verdicts are heuristic or configuration-bound)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from vo.adql import ADQLError, parse

CORPORA = Path(
    os.environ.get("VO_ADQL_CORPORA", Path(__file__).parents[4] / "shared/conformance/adql")
)
EXCEPTIONS = json.loads(
    (Path(__file__).parents[2] / "data/adql/corpus_exceptions.json").read_text()
)

pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason=f"ADQL corpora not found at {CORPORA}")


def records(name: str) -> list[dict]:
    with open(CORPORA / f"{name}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def accepts(rec: dict) -> bool:
    udfs = [m.group(1) for u in rec.get("declared_udfs") or [] if (m := re.match(r"\s*(\w+)", u))]
    try:
        parse(rec["adql"], udfs=udfs)
    except ADQLError:
        return False
    return True


def test_lyonetia_verdicts() -> None:
    recs = records("lyonetia")
    disagreements = {r["id"] for r in recs if accepts(r) != r["valid"]}
    assert disagreements == set(EXCEPTIONS["lyonetia"]), sorted(
        disagreements ^ set(EXCEPTIONS["lyonetia"])
    )
    valid = [r for r in recs if r["valid"]]
    assert len(valid) == 475 and len(recs) - len(valid) == 96


def agreement(name: str) -> tuple[int, int]:
    judged = [r for r in records(name) if r["valid"] is not None]
    return sum(accepts(r) == r["valid"] for r in judged), len(judged)


@pytest.mark.parametrize(
    ("name", "floor"), [("vollt", 0.75), ("dachs", 0.9), ("queryparser", 0.95), ("regtap", 0.95)]
)
def test_other_corpora_agreement(name: str, floor: float) -> None:
    agree, total = agreement(name)
    assert agree / total >= floor, f"{name}: {agree}/{total}"


def test_spec_examples_mostly_parse() -> None:
    recs = records("spec_examples")
    ok = sum(accepts(r) for r in recs)
    assert ok / len(recs) >= 0.75, f"{ok}/{len(recs)}"


def test_valid_lyonetia_queries_translate_or_fail_cleanly() -> None:
    """The whole translator over every valid lyonetia query, on a schema made from its own
    names: an ADQLError is acceptable (types unknown, features refused), a crash is not."""
    from tests.unit.adql.corpus_schema import schema_for
    from vo.adql import translate

    translated = 0
    valid = [r for r in records("lyonetia") if r["valid"] and accepts(r)]
    for rec in valid:
        try:
            query = parse(rec["adql"], udfs=[])
        except ADQLError:
            continue  # declares UDFs we do not offer
        try:
            translate(rec["adql"], schema_for(query))
            translated += 1
        except ADQLError:
            pass
    # 305/472 on 2026-11-21; the rest are type errors on the synthetic all-double schema,
    # REGION, or names the syntax tests leave unresolvable: all ADQLErrors, none a crash
    assert translated / len(valid) >= 0.6, f"{translated}/{len(valid)}"
