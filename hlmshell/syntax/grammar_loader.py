"""The parser of grammar/stata.lark, prebuilt, and the lark classes that go with it.

The LALR tables are generated from the grammar by `python -m hlmshell.syntax.build_parser`
into hlmshell/syntax/generated_parser.py (lark's standalone parser), shipped in the package:
loading it takes milliseconds where compiling the grammar took ~0.13 s on every start, and it
does not import lark. tests/test_startup.py fails when the generated module is out of date
with the grammar. Trees, tokens, the Transformer base class and the parse errors all come from
that module (a tree of the standalone parser is not a `lark.Tree`): import them from here.
"""
from __future__ import annotations

from functools import lru_cache

from hlmshell.syntax.generated_parser import (Lark, LarkError, Lark_StandAlone, Token,
                                              Transformer, Tree)
from hlmshell.syntax.grammar_source import START_RULES, grammar_text

__all__ = ["START_RULES", "Lark", "LarkError", "Token", "Transformer", "Tree", "get_parser",
           "grammar_text"]


@lru_cache(maxsize=1)
def get_parser() -> Lark:
    return Lark_StandAlone()
