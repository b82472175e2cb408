"""Mata tokens: numbers (with `.` and `.a`-`.z` missing), "strings", names, operators.

Longest operators first, so `:==` is one token and `1..5` a range (the number stops before
`..`). `'` is always transposition (Mata's strings take double quotes only); `//` and
`/* */` comments are dropped here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hlmshell.mata.errors import syntax

NUM, STR, NAME, OP, SEP, END = "num", "str", "name", "op", "sep", "end"

# three characters, then two, then one: the longest operator wins
_OPS3 = (":==", ":!=", ":>=", ":<=")
_OPS2 = (":+", ":-", ":*", ":/", ":^", ":>", ":<", ":&", ":|", "==", "!=", ">=", "<=", "++",
         "--", "+=", "-=", "*=", "/=", "::", "..", "[|", "|]", "&&", "||")
_OPS1 = "+-*/^'\\,;()[]{}=<>!&|#?:"

_NUMBER = re.compile(r"(?:\d+(?:\.(?!\.)\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_MISSING = re.compile(r"\.[a-z]?(?![\w.])")
_NAME = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


_CLOSERS = {"'", ")", "]", "}", "|]", "++", "--"}


def wants_operand(tok: Token) -> bool:
    """An operator that needs something after it: a line ending in one goes on on the next
    (`X = 1, 2 \\` then `3, 4`)."""
    return tok.kind == OP and tok.text not in _CLOSERS


def tokenize(text: str) -> list[Token]:
    """The tokens of one statement's text (several lines for a block), END last. A line
    break outside parentheses and brackets ends a statement, as `;` does: both are SEP
    (unless the line ended in an operator that wants its operand)."""
    out: list[Token] = []
    i, n = 0, len(text)
    depth = 0
    while i < n:
        c = text[i]
        if c == "\n" and depth == 0 and not (out and wants_operand(out[-1])):
            out.append(Token(SEP, "\n", i))
        if c.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise syntax("unexpected end of line")
            i = j + 2
            continue
        tok, i = _one(text, i)
        if tok.kind == OP:
            depth += (tok.text in ("(", "[", "[|")) - (tok.text in (")", "]", "|]"))
            tok = Token(SEP, ";", tok.pos) if tok.text == ";" else tok
        out.append(tok)
    out.append(Token(END, "", n))
    return out


def _one(text: str, i: int) -> tuple[Token, int]:
    c = text[i]
    if c == '"' or text.startswith('`"', i):
        return _string(text, i)
    m = _NUMBER.match(text, i)
    if m:
        return Token(NUM, m.group(), i), m.end()
    m = _MISSING.match(text, i)
    if m:
        return Token(NUM, m.group(), i), m.end()
    m = _NAME.match(text, i)
    if m:
        return Token(NAME, m.group(), i), m.end()
    for op in _OPS3 + _OPS2:
        if text.startswith(op, i):
            return Token(OP, op, i), i + len(op)
    if c in _OPS1:
        return Token(OP, c, i), i + 1
    raise syntax("invalid expression")


def _string(text: str, i: int) -> tuple[Token, int]:
    """"..." (no escapes: Mata keeps backslashes) or compound `"..."'."""
    if text.startswith('`"', i):
        j = text.find("\"'", i + 2)
        if j < 0:
            raise syntax("unbalanced quotes")
        return Token(STR, text[i + 2:j], i), j + 2
    j = text.find('"', i + 1)
    if j < 0:
        raise syntax("unbalanced quotes")
    return Token(STR, text[i + 1:j], i), j + 1
