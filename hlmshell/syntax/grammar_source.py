"""Where the grammar is (grammar/stata.lark, shipped as hlmshell.grammar) and how the parser is
built from it: read by build_parser.py when it generates the prebuilt parser, and by the tests
that check the prebuilt parser is up to date. Nothing here runs when hlmshell parses."""
from __future__ import annotations

from pathlib import Path

START_RULES = ("expr", "fvlist", "inrange", "weight", "re_equation")
# lark's options besides start=START_RULES
LARK_OPTIONS = {"parser": "lalr", "maybe_placeholders": False, "propagate_positions": False}


def grammar_text() -> str:
    """The grammar from the installed package data, else from the source checkout."""
    try:
        from importlib.resources import files

        res = files("hlmshell.grammar") / "stata.lark"
        text = res.read_text(encoding="utf-8")
        if "?expr" in text:
            return text
    except (ModuleNotFoundError, FileNotFoundError, OSError, TypeError):
        pass
    return (Path(__file__).resolve().parents[2] / "grammar" / "stata.lark").read_text(encoding="utf-8")
