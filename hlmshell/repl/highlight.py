"""Syntax colouring of the input, in terminal-theme ANSI colours.

The tokens come from hlmshell's own lexer (hlmshell/syntax/lexer.py, `pygments_tokens`), the
same one the interpreter uses, so a `//` inside a compound quote is coloured as the string it
is. A word in command position is a keyword when the registry knows it (commands, aliases,
abbreviations, the interpreter's keywords): hlmshell/registry.py is the only vocabulary.
"""
from __future__ import annotations

from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.styles import Style
from pygments.lexer import Lexer

from hlmshell import registry as reg
from hlmshell.syntax.lexer import pygments_tokens


def _is_command(word: str) -> bool:
    if word in reg.INTERPRETER_KEYWORDS or word in reg.REPL_COMMANDS:
        return True
    try:
        return reg.REGISTRY.lookup(word) is not None
    except Exception:
        return False


class HlmStataLexer(Lexer):
    """Stata tokens from hlmshell's lexer; registry words in command position are keywords."""

    name = "hlmshell-stata"

    def get_tokens_unprocessed(self, text, stack=("root",)):
        yield from pygments_tokens(text, is_command=lambda w: _is_command(w))


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
