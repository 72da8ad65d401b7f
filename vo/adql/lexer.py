"""A regular-expression tokenizer equivalent to the generated ADQL lexer, for speed.

The ANTLR Python lexer spends about a third of a cold parse on character-by-character
simulation; this one produces the same default-channel tokens (same types, texts,
lines and columns; WS and comments dropped) with one compiled regex. It handles ASCII
text only; anything else goes through the generated lexer, so exotic case folding
never differs. tests/unit/adql/test_lexer.py checks token-for-token equality on the
corpora and on random text.
"""

from __future__ import annotations

import re

from antlr4.Token import CommonToken, Token

from vo.adql._generated.ADQLLexer import ADQLLexer as L

_LITERAL = {name.strip("'"): i for i, name in enumerate(L.literalNames) if name != "<INVALID>"}
_KEYWORDS = {
    name: getattr(L, name)
    for name in L.symbolicNames
    if name and name.isalpha() and name.isupper() and name in _LITERAL
}

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n\f\v]+)
  | (?P<comment>--[^\r\n]*)
  | (?P<real>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+)
  | (?P<decimal>[0-9]+\.[0-9]*|\.[0-9]+)
  | (?P<int>[0-9]+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<id>[A-Za-z][A-Za-z0-9_]*)
  | (?P<delimited>"(?:[^"]|"")+")
  | (?P<op><>|!=|<=|>=|\|\||[()*,.;=<>+\-/])
  | (?P<error>.)
    """,
    re.X | re.S,
)

_TYPES = {
    "real": L.REAL,
    "decimal": L.DECIMAL,
    "int": L.UNSIGNED_INT,
    "string": L.STRING,
    "delimited": L.DELIMITED_ID,
    "error": L.ERROR_CHAR,
}


def tokenize(text: str) -> list[Token] | None:
    """Default-channel tokens of ``text`` ending with EOF, or None if not ASCII."""
    if not text.isascii():
        return None
    source = (None, None)  # texts are set on the tokens; no char stream needed
    tokens: list[Token] = []
    line, line_start = 1, 0
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        start, end = m.start(), m.end()
        value = m.group()
        if kind == "ws" or kind == "comment":
            if kind == "ws" and "\n" in value:
                line += value.count("\n")
                line_start = start + value.rfind("\n") + 1
            continue
        if kind == "id":
            ttype = _KEYWORDS.get(value.upper(), L.REGULAR_ID)
        elif kind == "op":
            ttype = _LITERAL[value]
        else:
            ttype = _TYPES[kind or "error"]
        tok = CommonToken(source, ttype, Token.DEFAULT_CHANNEL, start, end - 1)
        tok.text = value
        tok.line = line
        tok.column = start - line_start
        tok.tokenIndex = len(tokens)
        tokens.append(tok)
        if ttype == L.STRING and "\n" in value:
            line += value.count("\n")
            line_start = start + value.rfind("\n") + 1
        elif ttype == L.DELIMITED_ID and "\n" in value:
            line += value.count("\n")
            line_start = start + value.rfind("\n") + 1
    eof = CommonToken(source, Token.EOF, Token.DEFAULT_CHANNEL, len(text), len(text) - 1)
    eof.text = "<EOF>"
    eof.line = line
    eof.column = len(text) - line_start
    eof.tokenIndex = len(tokens)
    tokens.append(eof)
    return tokens
