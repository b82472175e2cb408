"""`display`: its items (strings, expressions, %formats, _col/_skip/_n/_dup, as text|result)
and Stata's default number format. Also used by `local x : display ...`."""
from __future__ import annotations

import math
import re

from hlmshell.data.missing import missing_str
from hlmshell.errors import StataError
from hlmshell.limits import check_text_size
from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.syntax.evaluate import evaluate_scalar
from hlmshell.syntax.functions import is_str
from hlmshell.syntax.lexer import matching_paren, string_spans, top_level_mask
from hlmshell.syntax.macro_values import value_to_text
from hlmshell.syntax.parser import try_parse_expr

_NUMFMT = re.compile(r"%-?0?\d+(\.\d+)?[gfe]c?|%-?\d+s")


def _is_format(t: str) -> bool:
    """display's %formats: numeric and string ones, and the date/time ones (%td, %tcHH:MM, ...)."""
    from hlmshell.output.datefmt import is_time_format

    return bool(_NUMFMT.fullmatch(t)) or (t.startswith("%") and is_time_format(t))


def display_number(x: float) -> str:
    """display's default format, %10.0g (without padding)."""
    if not math.isfinite(x):
        return missing_str(x) if math.isnan(x) else "."
    return fmt_g(float(x), 10)


# a %format runs to the next blank, quote, bracket or comma: `%9.1e300f` is one (invalid) token,
# not the format %9.1e followed by 300 and a variable f. Strings ("..." and nested compound
# quotes) are the lexer's (string_spans); this pattern splits what lies between them.
_TOKEN = re.compile(r'%[^\s"\'`()\[\],=]+|[^\W\d]\w*|'
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


def _item_ends(text: str, toks, k: int, limit: int) -> list[int]:
    """Where the expression starting at toks[k] may end: at a top-level place (the lexer's
    mask: outside every bracket) where an operand is followed by another operand (`"a" x`,
    `1 2`), shortest first, then the end."""
    ends = []
    mask = top_level_mask(text)
    for j in range(k, limit - 1):
        t = toks[j][2]
        if not mask[toks[j][0]] or t in ("(", "["):
            continue                        # inside brackets after this token
        nxt = toks[j + 1][2]
        after = toks[j + 2][2] if j + 2 < len(toks) else None
        call = t[:1].isalpha() or t[:1] == "_"
        if _operand_end(t) and _operand_start(nxt, after) and not (call and nxt in ("(", "[")):
            ends.append(j + 1)
        elif t[:1] in ('"', "`") and nxt == "-":
            ends.append(j + 1)              # `"deviance = " -2*e(ll)`: a string minus is no
                                            # expression, so the minus starts the next item
    ends.append(limit)
    return ends


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of display's tokens: the lexer's strings whole, the rest by _TOKEN."""
    out, pos = [], 0
    for a, b in string_spans(text) + [(len(text), len(text))]:
        out.extend((m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text, pos, a)
                   if not m.group(0).isspace())
        if b > a:
            out.append((a, b, text[a:b]))
        pos = b
    return out


def _paren_arg(text: str, toks, k):
    """If toks[k] is '(' return (content, index after its matching ')') -- lexer.matching_paren."""
    if k < len(toks) and toks[k][2] == "(":
        close = matching_paren(text, toks[k][0])
        if close >= 0:
            j = next((j for j in range(k, len(toks)) if toks[j][0] == close), None)
            if j is not None:
                return text[toks[k][1]:close], j + 1
    return None, k


def _directive_arg(session, arg: str | None) -> int:
    """The # of _skip(#), _col(#), _dup(#), _n(#), _char(#): a whole number (1 when absent);
    a missing value or text is invalid syntax. Huge values stay huge (the callers refuse to
    build output that large with r(909)); they are capped so int() of 1e300 stays cheap."""
    if arg is None:
        return 1
    try:
        v = float(value_to_text(evaluate_scalar(arg, session)))
    except (ValueError, StataError):
        raise StataError("invalid syntax", 198) from None
    if not math.isfinite(v):
        raise StataError("invalid syntax", 198)
    return int(max(min(v, 1e15), -1e15))


def _pad(cur: str, directive: str, n: int) -> str:
    """_col(#) pads the line to column #, _skip(#) adds # blanks, _char(#) adds the character
    with code # -- nothing outside 0-255, as Stata's char() gives "" outside its domain."""
    if directive in ("_col", "_column"):
        check_text_size(n)
        return cur + " " * (n - 1 - len(cur)) if len(cur) < n - 1 else cur
    if directive == "_skip":
        check_text_size(len(cur) + max(n, 0))
        return cur + " " * max(n, 0)
    if directive == "_char":
        return cur + chr(n) if 0 <= n <= 255 else cur
    return cur      # _request(): no terminal input in a do-file


def _item_limit(toks, k: int) -> int:
    """Where the expression item starting at toks[k] must end at the latest: before the next
    directive, top-level comma, %format or `as style`."""
    limit = k
    depth = 0
    while limit < len(toks):
        t = toks[limit][2]
        if t in _DIRECTIVES or (t == "," and depth == 0) or _is_format(t):
            break
        if t == "as" and limit > k and limit + 1 < len(toks) and toks[limit + 1][2] in _STYLES:
            break
        depth += t in "(["
        depth -= t in ")]"
        limit += 1
    return limit


def _expression_item(body: str, toks, k: int):
    """The expression item at toks[k]: (Expr, index after it), the shortest that parses."""
    for j in _item_ends(body, toks, k, _item_limit(toks, k)):
        ex = try_parse_expr(body[toks[k][0]:toks[j - 1][1]])
        if ex is not None:
            return ex, j
    raise StataError("invalid syntax", 198)


def _item_value(session, body: str, toks, k: int):
    """The value of the item at toks[k] and the index after it. A string the expression
    parser cannot read (compound quotes nested in a compound quote: `"x `"y"' z"') is shown
    as its contents, as Stata does."""
    try:
        ex, j = _expression_item(body, toks, k)
    except StataError:
        t = toks[k][2]
        if t.startswith('`"') and t.endswith('"\'') and len(t) >= 4:
            return t[2:-2], k + 1
        raise
    return evaluate_scalar(ex, session), j


def _piece(v, pending_fmt: str | None) -> str:
    """A value as display shows it: its %format, or display's default."""
    if is_str(v):
        return fmt(v, pending_fmt) if pending_fmt and pending_fmt.endswith("s") else v
    if pending_fmt:
        try:
            return fmt(float(v), pending_fmt)
        except ValueError:
            raise StataError("invalid syntax", 198) from None
    return display_number(float(v))


def display_text(session, body: str) -> str:
    """What `display body` prints (with its trailing newline unless _continue)."""
    toks = _tokens(body)
    lines: list[str] = []
    cur = ""
    pending_fmt = None
    dup = 1
    newline_end = True
    k = 0
    while k < len(toks):
        t = toks[k][2]
        if t in _DIRECTIVES:
            arg, k = _paren_arg(body, toks, k + 1)
            n = _directive_arg(session, arg)
            if t in ("_n", "_newline"):
                check_text_size(n)
                lines.extend([cur] + [""] * (n - 1) if n > 0 else [])
                cur = "" if n > 0 else cur
            elif t == "_dup":
                dup = n
            elif t in ("_continue", "_c"):
                newline_end = False
            else:
                cur = _pad(cur, t, n)
            continue
        if t == ",":
            k += 1
            continue
        if t in ("as", "in") and k + 1 < len(toks) and toks[k + 1][2] in _STYLES:
            k += 2
            continue
        if _is_format(t):
            pending_fmt = t
            k += 1
            continue
        value, k = _item_value(session, body, toks, k)
        piece = _piece(value, pending_fmt)
        check_text_size(len(piece) * max(dup, 0))
        cur += piece * max(dup, 0)
        dup = 1
        pending_fmt = None
    lines.append(cur)
    return "\n".join(lines) + ("\n" if newline_end else "")
