"""Syntax colouring of the input line: pygments' Stata lexer, in terminal-theme ANSI colours."""
from __future__ import annotations

from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.styles import Style
from pygments.lexers import StataLexer


def stata_lexer() -> PygmentsLexer:
    return PygmentsLexer(StataLexer)


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
    "prompt": "",
    "continuation": "ansibrightblack",
}


def repl_style() -> Style:
    return Style.from_dict(STYLE_RULES)
