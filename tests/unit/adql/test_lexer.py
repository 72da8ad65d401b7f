"""The fast regex tokenizer gives exactly the generated ANTLR lexer's tokens."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from antlr4 import InputStream, Token
from hypothesis import given, settings
from hypothesis import strategies as st

from vo.adql._generated.ADQLLexer import ADQLLexer
from vo.adql.lexer import tokenize

CORPORA = Path(
    os.environ.get("VO_ADQL_CORPORA", Path(__file__).parents[4] / "shared/conformance/adql")
)


def antlr_tokens(text: str) -> list[tuple[int, str, int, int]]:
    lexer = ADQLLexer(InputStream(text))
    lexer.removeErrorListeners()
    out = []
    while True:
        t = lexer.nextToken()
        if t.channel == Token.DEFAULT_CHANNEL:
            out.append((t.type, t.text if t.type != Token.EOF else "<EOF>", t.line, t.column))
        if t.type == Token.EOF:
            return out


def fast_tokens(text: str) -> list[tuple[int, str, int, int]] | None:
    toks = tokenize(text)
    return None if toks is None else [(t.type, t.text, t.line, t.column) for t in toks]


@pytest.mark.skipif(not CORPORA.is_dir(), reason="corpora not found")
def test_same_tokens_on_every_corpus_query() -> None:
    n = 0
    for f in sorted(CORPORA.glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            text = json.loads(line)["adql"]
            fast = fast_tokens(text)
            if fast is not None:
                assert fast == antlr_tokens(text), text
                n += 1
    assert n > 1000


@given(st.text(alphabet=st.sampled_from(list("aZe_9.0'\"-|<>=!;()*+,/ \n\t\rE")), max_size=30))
@settings(max_examples=500, deadline=None)
def test_same_tokens_on_random_text(text: str) -> None:
    assert fast_tokens(text) == antlr_tokens(text)


def test_non_ascii_goes_to_the_generated_lexer() -> None:
    assert tokenize("SELECT 'é' FROM t") is None
