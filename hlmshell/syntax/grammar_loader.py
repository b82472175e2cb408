"""Find grammar/stata.lark (source tree or installed wheel) and build the parser once."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark

START_RULES = ["expr", "fvlist", "inrange", "weight", "re_equation"]


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


@lru_cache(maxsize=1)
def get_parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", start=START_RULES, maybe_placeholders=False,
                propagate_positions=False)
