"""A Mata subset: lexer, parser and tree-walking interpreter for the small Mata blocks and
one-liners real do-files carry (st_matrix round trips, loops over matrices, printf).

Nothing here prints or touches the session: the interpreter writes lines through a callback
and reaches Stata through a Host object, both given by hlmshell.commands.mata. User text is
tokenized and parsed here, never handed to Python's eval/exec.
"""
