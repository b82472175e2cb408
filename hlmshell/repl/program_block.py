"""A typed `program [define] NAME [, rclass]` keeps the input open until its `end` line.

Stata's console reads the body lines of a program definition without running them; the
definition happens at `end`, and errors in the body show only when the program runs. The
REPL therefore treats header-to-`end` as one input and hands it to the interpreter, whose
own definition code (Interpreter._define_program) stores the body. To agree with that code
about what opens a definition and what closes it, the header pattern is the interpreter's
and the lines are split by the same preprocessor (comments out, `///` joined).
"""
from __future__ import annotations

from hlmshell.interpreter import program_header
from hlmshell.syntax.preprocess import logical_lines


def split_program(text: str) -> tuple[bool, str] | None:
    """For input that starts with a program definition: (closed by `end`, text after `end`).

    None when the input does not start with one. The `end` test is the interpreter's: a
    logical line that is exactly `end` once comments are removed.
    """
    lines = logical_lines(text)
    start = next((k for k, ln in enumerate(lines) if not ln.is_comment and ln.text.strip()), None)
    if start is None or program_header(lines[start].text) is None:
        return None
    for ln in lines[start + 1:]:
        if ln.text.strip() == "end":
            after = ln.lineno - 1 + len(ln.echo or [ln.text])
            return True, "\n".join(text.replace("\r\n", "\n").split("\n")[after:])
    return False, ""
