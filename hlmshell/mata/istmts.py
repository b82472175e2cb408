"""A block's lines grouped into interactive statements, as Mata's prompt reads them: a
statement goes on (Mata's `> ` prompt) while a brace or parenthesis is open, while its last
line ends in an operator that wants an operand (`X = 1, 2 \\`), after a bare `if (...)`,
`else`, `for (...)`, `while (...)`, `do`, and after a function's header line."""
from __future__ import annotations

import re

from hlmshell.mata.errors import MataError
from hlmshell.mata.lexer import END, SEP, tokenize, wants_operand

_TYPE_WORDS = ("real", "string", "numeric", "transmorphic", "void", "matrix", "scalar",
               "vector", "rowvector", "colvector", "pointer", "function")
_HEADER = re.compile(r"(?:(?:if|while|for)\s*\(.*\)|else(?:\s+if\s*\(.*\))?|do)$", re.DOTALL)


def _open_depth(text: str) -> int:
    """Open braces and parentheses outside strings and comments (rough, for continuation)."""
    depth = 0
    in_str = False
    i = 0
    while i < len(text):
        c = text[i]
        if in_str:
            in_str = c != '"'
        elif c == '"':
            in_str = True
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        elif c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        i += 1
    return depth


def _ends_in_operator(text: str) -> bool:
    """`X = 1, 2 \\` goes on on the next line: the last token wants an operand."""
    try:
        toks = [t for t in tokenize(text) if t.kind not in (SEP, END)]
    except MataError:
        return False
    return bool(toks) and wants_operand(toks[-1])


def _incomplete(text: str) -> bool:
    """Does the statement typed so far go on on the next line (Mata's `> ` prompt)?"""
    if _open_depth(text) > 0 or _ends_in_operator(text):
        return True
    last = text.rstrip().split("\n")[-1].strip()
    if _HEADER.fullmatch(last):
        return True
    first = text.strip().split()[0] if text.strip() else ""
    return first in _TYPE_WORDS and "{" not in text and last.endswith(")")


def statements(lines: list[str]) -> list[list[int]]:
    """Group a block's lines into interactive statements (lists of line indices); a blank
    or comment-only line between statements is a group of its own (nothing to run)."""
    out: list[list[int]] = []
    cur: list[int] = []
    for k, ln in enumerate(lines):
        if not cur and not ln.strip():
            out.append([k])
            continue
        cur.append(k)
        if not _incomplete("\n".join(lines[i] for i in cur)):
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out
