"""A Stata log (SMCL or text) as an HTML page, for the community command log2html.

log2html (Baum, Cox and Rising, SSC) turns a SMCL log into a web page: the log inside <pre>,
each stretch in the colour of its SMCL style (commands in the input colour, results in the
result colour, errors in red), line-drawing characters as their plain-text stand-ins. A text
log is escaped and wrapped the same way. SMCL is rendered here as Stata renders it into a text
log: `{hline N}`, `{c |}`, `{col N}`, `{space N}`, `{ralign N:..}`, `{res:...}`, links as their
text; other directives are dropped.
"""
from __future__ import annotations

import html
import re

LINESIZE = 78
_CHARS = {"|": "|", "+": "+", "-": "-", "TT": "-", "BT": "-", "LT": "|", "RT": "|",
          "TLC": "+", "TRC": "+", "BLC": "+", "BRC": "+", "-(": "{", ")-": "}",
          "S|": "$", "'g": "`", "a'": "'"}
_STYLES = {"com": "input", "cmd": "input", "inp": "input", "input": "input", "res": "result",
           "result": "result", "txt": "text", "text": "text", "err": "error", "error": "error",
           "hi": "result", "bf": None, "it": None, "sf": None, "ul": None}
DEFAULT_COLOURS = {"input": "#000000", "result": "#000099", "text": "#000000", "error": "#cc0000",
                   "bg": "#ffffff"}


class _Line:
    """The spans of one output line: (style, text)."""

    def __init__(self):
        self.spans: list[tuple[str, str]] = []

    @property
    def width(self) -> int:
        return sum(len(t) for _, t in self.spans)

    def add(self, style: str, text: str) -> None:
        if text:
            self.spans.append((style, text))


def _num(args: list[str]) -> int | None:
    return int(args[0]) if args and args[0].isdigit() else None


def _split(text: str, i: int) -> tuple[str, int]:
    depth, j = 0, i
    while j < len(text):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
        j += 1
    return "", -1


def _layout(word: str, args: list[str], colon: str, arg: str, line: _Line) -> str | None:
    """Text of a layout directive, None when `word` is not one."""
    n = _num(args)
    if word == "hline":
        return "-" * (n if n is not None else max(LINESIZE - line.width, 0))
    if word == ".-":
        return "-" * max(LINESIZE - line.width, 0)
    if word in ("c", "char"):
        key = " ".join(args)
        return chr(int(key)) if key.isdigit() and int(key) < 0x110000 else _CHARS.get(key, "")
    if n is None:
        return None
    if word == "col":
        return " " * max(n - 1 - line.width, 0)
    if word == "space":
        return " " * n
    if word == "dup" and colon:
        return _plain(arg) * n
    if word in ("ralign", "lalign", "center", "centre") and colon:
        t = _plain(arg)
        return t.rjust(n) if word == "ralign" else t.ljust(n) if word == "lalign" else t.center(n)
    return None


def _plain(text: str) -> str:
    line = _Line()
    _render(text, "text", line)
    return "".join(t for _, t in line.spans)


def _render(text: str, style: str, line: _Line) -> str:
    """Render SMCL `text` into `line`; returns the style in force at its end."""
    i = 0
    buf = ""
    while i < len(text):
        if text[i] != "{":
            buf += text[i]
            i += 1
            continue
        body, nxt = _split(text, i)
        if nxt < 0:
            buf += text[i]
            i += 1
            continue
        line.add(style, buf)
        buf = ""
        name, colon, arg = body.partition(":")
        parts = name.split()
        word, args = (parts[0], parts[1:]) if parts else ("", [])
        laid = _layout(word, args, colon, arg, line)
        if laid is not None:
            line.add(style, laid)
        elif word in _STYLES:
            new = _STYLES[word] or style
            if colon:
                _render(arg, new, line)
            else:
                style = new
        elif colon:
            _render(arg, style, line)
        elif word in ("help", "helpb", "manhelp", "browse", "stata") and args:
            line.add(style, args[-1].strip('"'))
        i = nxt
    line.add(style, buf)
    return style


def _smcl_lines(text: str) -> list[_Line]:
    raw = text.splitlines()
    if raw and raw[0].strip() == "{smcl}":
        raw = raw[1:]
    out, style, carry = [], "text", ""
    for r in raw:
        if re.search(r"\{\.\.\.\}\s*$", r):
            carry += re.sub(r"\{\.\.\.\}\s*$", "", r)
            continue
        line = _Line()
        style = _render(carry + r, style, line)
        carry = ""
        out.append(line)
    return out


def is_smcl(text: str) -> bool:
    return text.lstrip().startswith("{smcl}")


def log_html(text: str, title: str, colours: dict[str, str] | None = None) -> str:
    """The page for a log's text (SMCL when it starts with {smcl}, else plain text)."""
    c = {**DEFAULT_COLOURS, **(colours or {})}
    body = []
    if is_smcl(text):
        for line in _smcl_lines(text):
            parts = []
            for style, t in line.spans:
                parts.append(f'<font color="{c[style]}">{html.escape(t, quote=False)}</font>'
                             if style != "text" else html.escape(t, quote=False))
            body.append("".join(parts).rstrip())
    else:
        body = [html.escape(x.rstrip(), quote=False) for x in text.splitlines()]
    head = [f"<html>", "<head>", f"<title>{html.escape(title)}</title>",
            '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">', "</head>",
            f'<body bgcolor="{c["bg"]}" text="{c["text"]}">', "<pre>"]
    return "\n".join(head + body + ["</pre>", "</body>", "</html>"]) + "\n"
