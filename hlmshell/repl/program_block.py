"""A typed `program [define] NAME [, rclass]` keeps the input open until its `end` line.

Stata's console reads the body lines of a program definition without running them; the
definition happens at `end`. The header test is the statement parser's
(syntax/statements.program_header) and the split is the lexer's (lexer.split_program), so the
REPL and the interpreter agree on what opens a definition and what closes it.
"""
from hlmshell.syntax.lexer import split_program
from hlmshell.syntax.statements import program_header

__all__ = ["program_header", "split_program"]
