"""Syntax colouring of the input: pygments' Stata lexer, in terminal-theme ANSI colours.

pygments' keyword list predates some commands (`mixed` among them), so a thin subclass
also marks the word in command position as a keyword when hlmshell's command table knows it.
"""
from __future__ import annotations

import re

from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.styles import Style
from pygments.lexers import StataLexer
from pygments.token import Keyword, Text

# command position: line start, optionally after prefixes (quietly, by x:, ...) or `{`
_COMMAND_WORD = re.compile(
    r"(?m)^[ \t]*(?:\{[ \t]*)?"
    r"(?:(?:qui(?:etly)?|n(?:oi(?:sily)?)?|cap(?:ture)?)[ \t]*:?[ \t]+"
    r"|bys?(?:ort)?[ \t]+[^:\n]*:[ \t]*)*"
    r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)")


def _is_command(word: str) -> bool:
    if word == "exit":
        return True
    try:
        from hlmshell.commands.registry import resolve

        resolve(word)
        return True
    except Exception:
        return False


class HlmStataLexer(StataLexer):
    """StataLexer plus hlmshell's own command names in command position."""

    name = "hlmshell-stata"

    def get_tokens_unprocessed(self, text, stack=("root",)):
        base = list(super().get_tokens_unprocessed(text, stack))
        spans = [(m.start("word"), m.end("word")) for m in _COMMAND_WORD.finditer(text)
                 if _is_command(m.group("word"))]
        if not spans:
            yield from base
            return
        kinds = [None] * len(text)
        for index, tok, value in base:
            for k in range(index, min(index + len(value), len(text))):
                kinds[k] = tok
        for a, b in spans:
            if all(kinds[k] is Text or kinds[k] is Keyword for k in range(a, b)):
                for k in range(a, b):
                    kinds[k] = Keyword
        start = 0
        for k in range(1, len(text) + 1):
            if k == len(text) or kinds[k] is not kinds[start]:
                yield start, kinds[start] or Text, text[start:k]
                start = k


def stata_lexer() -> PygmentsLexer:
    return PygmentsLexer(HlmStataLexer)


# ANSI names follow the user's terminal palette, so light and dark themes both stay legible.
STYLE_RULES = {
    "pygments.keyword": "ansiblue bold",
    "pygments.name.function": "ansicyan",
    "pygments.name.variable": "ansimagenta",          # `local' macros
    "pygments.name.variable.global": "ansimagenta",   # $global macros
    "pygments.literal.string": "ansigreen",
    "pygments.literal.number": "ansiyellow",
    "pygments.comment": "ansibrightblack italic",
    "pygments.operator": "ansired",
    "continuation": "ansibrightblack",
}


def repl_style() -> Style:
    return Style.from_dict(STYLE_RULES)
