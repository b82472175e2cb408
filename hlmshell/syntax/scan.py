"""Top-level scanning of command text: now the lexer's (hlmshell/syntax/lexer.py).

Kept only as a re-export for modules that still import it (the parser); new code imports
from hlmshell.syntax.lexer.
"""
from hlmshell.syntax.lexer import (find_top, matching_paren, split_top, strip_quotes, tokens,
                                   top_level_mask, top_words)

__all__ = ["find_top", "matching_paren", "split_top", "strip_quotes", "tokens", "top_level_mask",
           "top_words"]
