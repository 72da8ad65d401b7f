# mypy: disable-error-code="no-untyped-call"
"""ADQL 2.1 text -> typed AST: the ANTLR driver and its error reporting.

Parsing runs in SLL prediction mode with a bail-out strategy first (fast, and
enough for nearly every query), and only on failure again in full LL mode, whose
first error becomes an ``ADQLSyntaxError`` with line, column, the offending text
and the accepted alternatives in plain words (ADQL 2.1 sec. 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, cast

from antlr4 import CommonTokenStream, InputStream, PredictionMode
from antlr4.error.ErrorListener import ErrorListener
from antlr4.error.Errors import ParseCancellationException
from antlr4.error.ErrorStrategy import BailErrorStrategy, DefaultErrorStrategy
from antlr4.ListTokenSource import ListTokenSource
from antlr4.Token import Token

from vo.adql import ast
from vo.adql._generated.ADQLLexer import ADQLLexer
from vo.adql._generated.ADQLParser import ADQLParser
from vo.adql.builder import AstBuilder
from vo.adql.errors import ADQLSyntaxError
from vo.adql.lexer import tokenize
from vo.adql.shapes import ShapeCache, Template, shape_of

MAX_QUERY_LENGTH = 200_000  # characters; a bound on parser work for one request
MAX_SHAPE_LENGTH = 8_000  # characters; longer queries are parsed without shape templates

_WORDS = {
    "REGULAR_ID": "a name",
    "DELIMITED_ID": 'a "quoted name"',
    "UNSIGNED_INT": "an integer",
    "DECIMAL": "a number",
    "REAL": "a number",
    "STRING": "a 'string'",
    "ERROR_CHAR": "",
}


_LPAREN = ADQLParser.literalNames.index("'('")
_PLUS = ADQLParser.literalNames.index("'+'")
_MINUS = ADQLParser.literalNames.index("'-'")


def _plain(parser: ADQLParser, token_type: int) -> str:
    """A token type in words a person reads: ``'FROM'`` -> FROM, REGULAR_ID -> a name."""
    if token_type == Token.EOF:
        return "the end of the query"
    sym = parser.symbolicNames[token_type] if token_type < len(parser.symbolicNames) else ""
    if sym in _WORDS:
        return _WORDS[sym]
    lit = parser.literalNames[token_type] if token_type < len(parser.literalNames) else "<INVALID>"
    if lit != "<INVALID>":
        return lit.strip("'")
    return sym


def _expected_words(parser: ADQLParser) -> str:
    try:
        expected = parser.getExpectedTokens()
    except Exception:  # the ATN cannot always say (e.g. after a lexer error)
        return ""
    types: list[int] = []
    for interval in expected.intervals or []:
        types.extend(range(interval.start, interval.stop))
    words: list[str] = []
    if ADQLParser.REGULAR_ID in types and ADQLParser.STRING in types and _LPAREN in types:
        words.append("an expression (a column, a literal, a function call or a parenthesis)")
        skip = {
            ADQLParser.REGULAR_ID,
            ADQLParser.DELIMITED_ID,
            ADQLParser.STRING,
            ADQLParser.UNSIGNED_INT,
            ADQLParser.DECIMAL,
            ADQLParser.REAL,
            ADQLParser.NULL,
            ADQLParser.CASE,
            ADQLParser.CAST,
            _LPAREN,
            _PLUS,
            _MINUS,
        }
        types = [t for t in types if t not in skip]
    for t in types:
        w = _plain(parser, t)
        if w and w not in words:
            words.append(w)
    if len(words) > 12:
        words = words[:12] + ["..."]
    return ", ".join(words)


class _RaiseFirstError(ErrorListener):  # type: ignore[misc]
    def syntaxError(
        self, recognizer: Any, offendingSymbol: Any, line: int, column: int, msg: str, e: Any
    ) -> None:
        if isinstance(recognizer, ADQLParser):
            tok: Token = offendingSymbol
            expected = _expected_words(recognizer)
            if tok.type == Token.EOF:
                offending = ""
                what = "the query ends too early"
            elif tok.type == ADQLParser.ERROR_CHAR and tok.text in ("'", '"'):
                offending = tok.text
                kind = "string" if tok.text == "'" else "quoted name"
                what = f"this {kind} is not closed: add the closing {tok.text}"
            elif tok.type == ADQLParser.ERROR_CHAR:
                offending = tok.text
                what = f"the character {tok.text!r} is not allowed here"
                if tok.text == ";":
                    what += " (only one statement per query, without a ';' in between)"
            else:
                offending = tok.text
                what = f"unexpected {tok.text!r}"
            message = f"syntax error: {what}"
            if expected == "the end of the query, ;" and tok.type != Token.EOF:
                # ANTLR gives up at the end of the query after skipping the optional clauses
                message += (
                    "; it does not continue the query: an operator, a comma, AS, AND/OR "
                    "or the next clause (WHERE, GROUP BY, ORDER BY...) was expected here"
                )
            elif expected:
                message += f"; expected {expected}"
            raise ADQLSyntaxError(
                message, line=line, column=column + 1, offending=offending, expected=expected
            )
        raise ADQLSyntaxError(f"syntax error: {msg}", line=line, column=column + 1)


def parse_tree(text: str, tokens: list[Token] | None = None) -> ADQLParser.QueryContext:
    """The raw ANTLR tree of ``text`` (SLL first, LL on failure); ``tokens``: what
    ``tokenize(text)`` gave, if the caller has it."""
    if len(text) > MAX_QUERY_LENGTH:
        raise ADQLSyntaxError(
            f"the query is longer than {MAX_QUERY_LENGTH} characters; shorten it or "
            "upload long value lists as a table (TAP_UPLOAD)"
        )
    if "\x00" in text:
        pos = text.index("\x00")
        line = text.count("\n", 0, pos) + 1
        raise ADQLSyntaxError(
            "syntax error: the query contains a NUL character",
            line=line,
            column=pos - (text.rfind("\n", 0, pos) + 1) + 1,
            offending="\\x00",
        )
    fast = tokens if tokens is not None else tokenize(text)
    if fast is not None:
        stream = CommonTokenStream(ListTokenSource(fast))
    else:
        lexer = ADQLLexer(InputStream(text))
        lexer.removeErrorListeners()
        stream = CommonTokenStream(lexer)
    parser = ADQLParser(stream)
    parser.removeErrorListeners()
    parser._interp.predictionMode = PredictionMode.SLL
    parser._errHandler = BailErrorStrategy()
    try:
        return cast(ADQLParser.QueryContext, parser.query())
    except ParseCancellationException:
        pass
    stream.seek(0)
    parser.reset()
    parser.addErrorListener(_RaiseFirstError())
    parser._interp.predictionMode = PredictionMode.LL
    parser._errHandler = DefaultErrorStrategy()
    return cast(ADQLParser.QueryContext, parser.query())


SHAPES = ShapeCache()


@lru_cache(maxsize=1024)
def _parse_cached(text: str, udfs: tuple[str, ...]) -> ast.Query:
    """The AST of ``text``: filled in from its shape's template if there is one
    (``vo.adql.shapes``), else parsed (and the shape's template made)."""
    # shapes only for queries of usual length: a key holds every token
    shaped = len(text) <= MAX_SHAPE_LENGTH and "\x00" not in text
    tokens = tokenize(text) if shaped else None
    key = (shape_of(tokens), udfs) if tokens is not None else None
    template = SHAPES.get(key) if key is not None else None
    try:
        if isinstance(template, Template):
            return template.fill(tokens or [])
        query = AstBuilder(udfs).query(parse_tree(text, tokens))
        if key is not None and template is None:
            SHAPES.put(key, Template.make(query, tokens or []))
    except RecursionError:
        raise ADQLSyntaxError(
            "the query is nested too deeply (parentheses, functions or subqueries); simplify it"
        ) from None
    return query


def parse(text: str, *, udfs: Sequence[str] = ()) -> ast.Query:
    """ADQL 2.1 text -> ``ast.Query``; raises ``ADQLSyntaxError`` (or a subclass).

    ``udfs``: names of further user-defined functions to accept (syntax-only checks;
    translation still only knows the whitelisted ones).
    """
    return _parse_cached(text, tuple(sorted(u.upper() for u in udfs)))
