"""When typed input is complete, and how its physical lines join into commands.

The REPL keeps reading lines while the input is unfinished: a line ending in `///`, an
unclosed `/* ... */` comment, an open `{` block, a `program define` still waiting for its
`end`, or (under `#delimit ;`) no `;` yet. All of it is the lexer's (hlmshell/syntax/lexer.py),
the same token stream the do-file reader uses; this module only names it for the REPL.
"""
from hlmshell.syntax.lexer import (InputState, continuation_prompt, input_state, is_complete,
                                   join_continuations)

__all__ = ["InputState", "continuation_prompt", "input_state", "is_complete", "join_continuations"]
