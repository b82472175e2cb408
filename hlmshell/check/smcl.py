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


def _directive(body: str, line: str) -> str:
    """Render one `{...}` directive (body without braces) given the line so far."""
    name, colon, arg = body.partition(":")
    parts = name.split()
    if not parts:
        return ""
    word = parts[0]
    args = parts[1:]
    if word == "hline":
        if args and args[0].isdigit():
            return "-" * int(args[0])
        return "-" * max(LINESIZE - len(line), 0)
    if word == ".-":
        return "-" * max(LINESIZE - len(line), 0)
    if word == "dup" and args and args[0].isdigit():
        return render(arg) * int(args[0]) if colon else ""
    if word == "c" or word == "char":
        key = " ".join(args)
        if key.isdigit():
            try:
                return chr(int(key))
            except ValueError:
                return ""
        return _CHARS.get(key, "")
    if word == "col" and args and args[0].isdigit():
        return " " * max(int(args[0]) - 1 - len(line), 0)
    if word == "space" and args and args[0].isdigit():
        return " " * int(args[0])
    if word in ("ralign", "lalign", "center", "centre") and args and args[0].isdigit():
        text = render(arg) if colon else ""
        w = int(args[0])
        return text.rjust(w) if word == "ralign" else text.ljust(w) if word == "lalign" else text.center(w)
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
