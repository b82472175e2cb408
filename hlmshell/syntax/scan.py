"""Top-level scanning of command text: where quotes and parentheses do not hide a character.

Stata splits a command line at top level only: a comma inside `inlist(x, 1, 2)` or inside
"a, b" does not start the options. These helpers walk the text once and report, for each
character, whether it sits outside every quote and bracket.
"""
from __future__ import annotations


def top_level_mask(text: str) -> list[bool]:
    """mask[i] is True when text[i] is outside quotes and (), [], {} (the bracket characters
    themselves count as top level at their outermost position)."""
    mask = [False] * len(text)
    depth = 0
    i = 0
    n = len(text)
    cq = 0          # compound-quote depth `" ... "'
    inq = False     # inside "..."
    while i < n:
        c = text[i]
        if cq:
            if c == "`" and i + 1 < n and text[i + 1] == '"':
                cq += 1
                i += 2
                continue
            if c == '"' and i + 1 < n and text[i + 1] == "'":
                cq -= 1
                i += 2
                continue
            i += 1
            continue
        if inq:
            if c == '"':
                inq = False
            i += 1
            continue
        if c == "`" and i + 1 < n and text[i + 1] == '"':
            if depth == 0:
                mask[i] = True
            cq = 1
            i += 2
            continue
        if c == '"':
            if depth == 0:
                mask[i] = True
            inq = True
            i += 1
            continue
        if c in "([{":
            if depth == 0:
                mask[i] = True
            depth += 1
        elif c in ")]}":
            depth = max(depth - 1, 0)
            if depth == 0:
                mask[i] = True
        elif depth == 0:
            mask[i] = True
        i += 1
    return mask


def find_top(text: str, sub: str, start: int = 0, mask: list[bool] | None = None) -> int:
    """Index of the first top-level occurrence of `sub` at or after `start`, or -1."""
    mask = top_level_mask(text) if mask is None else mask
    i = text.find(sub, start)
    while i >= 0:
        if mask[i]:
            return i
        i = text.find(sub, i + 1)
    return -1


def split_top(text: str, sep: str) -> list[str]:
    """Split at every top-level occurrence of `sep`."""
    mask = top_level_mask(text)
    parts, last = [], 0
    i = find_top(text, sep, 0, mask)
    while i >= 0:
        parts.append(text[last:i])
        last = i + len(sep)
        i = find_top(text, sep, last, mask)
    parts.append(text[last:])
    return parts


def top_words(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of whitespace-separated words; quotes/brackets keep a word whole."""
    mask = top_level_mask(text)
    spans = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace() and mask[i]:
            i += 1
            continue
        j = i
        while j < n and not (text[j].isspace() and mask[j]):
            j += 1
        spans.append((i, j))
        i = j
    return spans


def tokens(text: str) -> list[str]:
    """Words as Stata's foreach/word-of see them: "a b" is one word (quotes removed)."""
    out = []
    for s, e in top_words(text):
        w = text[s:e]
        if len(w) >= 2 and w[0] == '"' and w[-1] == '"':
            w = w[1:-1]
        elif len(w) >= 4 and w.startswith('`"') and w.endswith("\"'"):
            w = w[2:-2]
        out.append(w)
    return out


def matching_paren(text: str, i: int) -> int:
    """Index of the ')' matching the '(' at i (quotes respected), or -1."""
    depth = 0
    inq = False
    for j in range(i, len(text)):
        c = text[j]
        if inq:
            if c == '"':
                inq = False
            continue
        if c == '"':
            inq = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
    return -1


def strip_quotes(s: str) -> str:
    """Remove one pair of bounding "" or `"..."' quotes."""
    s = s.strip()
    if len(s) >= 4 and s.startswith('`"') and s.endswith("\"'"):
        return s[2:-2]
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        return s[1:-1]
    return s
