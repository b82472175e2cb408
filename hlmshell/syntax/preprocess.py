"""Do-file text -> logical command lines: now the lexer's (hlmshell/syntax/lexer.py).

Kept only as a re-export for old imports; new code imports from hlmshell.syntax.lexer.
"""
from hlmshell.syntax.lexer import Line, logical_lines

__all__ = ["Line", "logical_lines"]
