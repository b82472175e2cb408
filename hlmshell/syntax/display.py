"""`display`: its items (strings, expressions, %formats, _col/_skip/_n/_dup, as text|result)
and Stata's default number format. Also used by `local x : display ...`."""
from __future__ import annotations

import math
import re

from hlmshell.errors import StataError
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.syntax.macros import value_to_text

_FMT = re.compile(r"%-?0?\d+(\.\d+)?[gfe]c?|%-?\d+s")


def display_number(x: float) -> str:
    """display's default format, %10.0g (without padding)."""
    if not math.isfinite(x):
        from hlmshell.data.missing import missing_str
        return missing_str(x) if math.isnan(x) else "."
    return fmt_g(float(x), 10)


_TOKEN = re.compile(r'"[^"]*"|`"(?:.|\n)*?"\'|%-?0?\d+(?:\.\d+)?[a-z]+|[A-Za-z_][A-Za-z0-9_]*|'
                    r'\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\.[a-z](?![A-Za-z0-9_])|\s+|.', re.S)
_DIRECTIVES = {"_col", "_column", "_skip", "_n", "_newline", "_dup", "_char", "_continue",
               "_request", "_c"}
_STYLES = {"text", "txt", "result", "res", "error", "err", "input", "inp", "smcl", "as",
           "red", "green", "yellow", "white", "blue"}


def _operand_end(t: str) -> bool:
    return t[:1] in ('"', "`") or t[:1].isalnum() or t[:1] in "_.)]"


def _operand_start(t: str, nxt: str | None) -> bool:
    if t in ("!", "~"):
        return nxt != "="
    return t[:1] in ('"', "`", "(") or t[:1].isalnum() or t[:1] in "_."


def _item_ends(toks, k: int, limit: int) -> list[int]:
    """Where the expression starting at toks[k] may end: at a top-level place where an operand
    is followed by another operand (`"a" x`, `1 2`), shortest first, then the end."""
    ends = []
    depth = 0
    for j in range(k, limit):
        t = toks[j][2]
        if t in ("(", "["):
            depth += 1
        elif t in (")", "]"):
            depth = max(depth - 1, 0)
        if depth == 0 and j + 1 < limit:
            nxt = toks[j + 1][2]
            after = toks[j + 2][2] if j + 2 < len(toks) else None
            call = t[:1].isalpha() or t[:1] == "_"
            if _operand_end(t) and _operand_start(nxt, after) and not (call and nxt in ("(", "[")):
                ends.append(j + 1)
    ends.append(limit)
    return ends


def _tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text) if not m.group(0).isspace()]


def _paren_arg(text: str, toks, k):
    """If toks[k] is '(' return (content, index after ')')."""
    if k < len(toks) and toks[k][2] == "(":
        depth = 0
        for j in range(k, len(toks)):
            if toks[j][2] == "(":
                depth += 1
            elif toks[j][2] == ")":
                depth -= 1
                if depth == 0:
                    return text[toks[k][1]:toks[j][0]], j + 1
    return None, k


def display_text(session, body: str) -> str:
    """What `display body` prints (with its trailing newline unless _continue)."""
    from hlmshell.syntax.evaluate import evaluate_scalar
    from hlmshell.syntax.functions import is_str
    from hlmshell.syntax.parser import try_parse_expr

    toks = _tokens(body)
    lines: list[str] = []
    cur = ""
    pending_fmt = None
    dup = 1
    newline_end = True
    k = 0
    while k < len(toks):
        s, e, t = toks[k]
        if t in _DIRECTIVES:
            arg, k2 = _paren_arg(body, toks, k + 1)
            n = 1
            if arg is not None:
                try:
                    n = int(float(value_to_text(evaluate_scalar(arg, session))))
                except (ValueError, StataError):
                    raise StataError("invalid syntax", 198) from None
            k = k2
            if t in ("_col", "_column"):
                if len(cur) < n - 1:
                    cur += " " * (n - 1 - len(cur))
            elif t == "_skip":
                cur += " " * n
            elif t in ("_n", "_newline"):
                for _ in range(n):
                    lines.append(cur)
                    cur = ""
            elif t == "_dup":
                dup = n
            elif t == "_char":
                cur += chr(n)
            elif t in ("_continue", "_c"):
                newline_end = False
            continue
        if t == ",":
            k += 1
            continue
        if t == "as" or t == "in":
            if k + 1 < len(toks) and toks[k + 1][2] in _STYLES:
                k += 2
                continue
        if _FMT.fullmatch(t):
            pending_fmt = t
            k += 1
            continue
        # longest run of tokens that parses as an expression
        limit = k
        depth = 0
        while limit < len(toks) and toks[limit][2] not in _DIRECTIVES and (toks[limit][2] != "," or depth > 0) and not _FMT.fullmatch(toks[limit][2]) \
                and not (toks[limit][2] == "as" and limit + 1 < len(toks) and toks[limit + 1][2] in _STYLES
                         and limit > k):
            depth += toks[limit][2] in "([" and 1 or 0
            depth -= toks[limit][2] in ")]" and 1 or 0
            limit += 1
        found = None
        for j in _item_ends(toks, k, limit):
            ex = try_parse_expr(body[s:toks[j - 1][1]])
            if ex is not None:
                found = (ex, j)
                break
        if found is None:
            raise StataError("invalid syntax", 198)
        ex, k = found
        v = evaluate_scalar(ex, session)
        if is_str(v):
            piece = fmt(v, pending_fmt) if pending_fmt and pending_fmt.endswith("s") else v
        elif pending_fmt:
            try:
                piece = fmt(float(v), pending_fmt)
            except ValueError:
                raise StataError("invalid syntax", 198) from None
        else:
            piece = display_number(float(v))
        cur += piece * dup
        dup = 1
        pending_fmt = None
    lines.append(cur)
    return "\n".join(lines) + ("\n" if newline_end else "")
