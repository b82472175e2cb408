"""SMCL (Stata's default log format) to the plain text a text log would hold.

Only what matters for reading numbers back is rendered faithfully: line-drawing characters
(`{hline N}`, `{c |}`, `{c +}`), spacing (`{col N}`, `{space N}`, `{ralign N:..}`) and the
text inside directives (`{res:3.14}`); every other directive is dropped.
"""
from __future__ import annotations

import re

LINESIZE = 78

_CHARS = {
    "|": "|", "+": "+", "-": "-", "TT": "-", "BT": "-", "LT": "|", "RT": "|",
    "TLC": "+", "TRC": "+", "BLC": "+", "BRC": "+", "-(": "{", ")-": "}",
    "S|": "$", "'g": "`", "a'": "'", "o.": "°",
}


def _number(args: list[str]) -> int | None:
    """The directive's leading numeric argument (`{col 20}`), None without one."""
    return int(args[0]) if args and args[0].isdigit() else None


def _rule(args, colon, arg, line) -> str:
    """{hline N}, or a rule to the end of the line ({hline})."""
    n = _number(args)
    return "-" * n if n is not None else _to_end(args, colon, arg, line)


def _to_end(args, colon, arg, line) -> str:
    """{.-}: a rule to the end of the line."""
    return "-" * max(LINESIZE - len(line), 0)


def _dup(args, colon, arg, line) -> str:
    n = _number(args)
    return render(arg) * n if n is not None and colon else ""


def _char(args, colon, arg, line) -> str:
    """{c |}, {c TLC}, {char 176}: line-drawing characters and character codes."""
    key = " ".join(args)
    if key.isdigit():
        try:
            return chr(int(key))
        except ValueError:
            return ""
    return _CHARS.get(key, "")


def _col(args, colon, arg, line) -> str:
    n = _number(args)
    return " " * max(n - 1 - len(line), 0) if n is not None else ""


def _space(args, colon, arg, line) -> str:
    n = _number(args)
    return " " * n if n is not None else ""


def _aligned(word: str):
    """{ralign N:text}, {lalign N:text}, {center N:text}: the text padded to width N."""
    def align(args, colon, arg, line) -> str:
        w = _number(args)
        text = render(arg) if colon else ""
        if word == "ralign":
            return text.rjust(w)
        return text.ljust(w) if word == "lalign" else text.center(w)
    return align


_LAYOUT = {"hline": _rule, ".-": _to_end, "dup": _dup, "c": _char, "char": _char, "col": _col,
           "space": _space, "ralign": _aligned("ralign"), "lalign": _aligned("lalign"),
           "center": _aligned("center"), "centre": _aligned("centre")}


def _directive(body: str, line: str) -> str:
    """Render one `{...}` directive (body without braces) given the line so far."""
    name, colon, arg = body.partition(":")
    parts = name.split()
    if not parts:
        return ""
    word, args = parts[0], parts[1:]
    handler = _LAYOUT.get(word)
    # a layout directive needs its numeric argument, except for rules and characters
    if handler is not None and (word in ("hline", ".-", "c", "char") or _number(args) is not None):
        return handler(args, colon, arg, line)
    if colon:  # {res:3.14}, {bf:text}, {help mixed:mixed}: the text shows
        return render(arg)
    if word in ("help", "helpb", "manhelp") and args:
        return args[-1]
    return ""


def _split(text: str, i: int) -> tuple[str, int]:
    """The body of the directive starting at text[i] == '{' and the index after its '}'."""
    depth, j = 0, i
    while j < len(text):
        ch = text[j]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
        elif ch == "\n":
            break
        j += 1
    return "", -1


def render(text: str) -> str:
    """Render one line (or a directive's argument) of SMCL."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            body, nxt = _split(text, i)
            if nxt < 0:  # an unmatched brace is literal text
                out.append(ch)
                i += 1
                continue
            out.append(_directive(body, "".join(out)))
            i = nxt
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_CONTINUED = re.compile(r"\{\.\.\.\}\s*$")


def smcl_to_text(text: str) -> str:
    """Translate a whole SMCL log to text, line by line (`{...}` at line end joins lines)."""
    lines = text.splitlines()
    if lines and lines[0].strip() == "{smcl}":
        lines = lines[1:]
    joined: list[str] = []
    carry = ""
    for raw in lines:
        if _CONTINUED.search(raw):
            carry += _CONTINUED.sub("", raw)
            continue
        joined.append(carry + raw)
        carry = ""
    if carry:
        joined.append(carry)
    return "\n".join(render(line).rstrip() for line in joined) + "\n"


def is_smcl(text: str) -> bool:
    head = text.lstrip()[:2000]
    return head.startswith("{smcl}") or len(re.findall(r"\{(?:txt|res|com|hline|c \|)\b", head)) >= 3
