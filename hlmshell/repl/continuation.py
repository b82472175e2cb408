"""When typed input is complete, and how its physical lines join into commands.

The REPL keeps reading lines while the input is unfinished: a line ending in `///`, an
unclosed `/* ... */` comment, an open `{` block (foreach/forvalues/while/if/quietly {), or
a `program define` still waiting for its `end` (see program_block.py; braces inside a
program body do not decide anything, only `end` does). The scanner knows Stata's strings
("..." and compound `"..."') so braces and comment markers inside quotes do not count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hlmshell.repl.program_block import split_program


@dataclass
class LineScan:
    """What one physical line contributes to the completeness of the input."""

    braces: int = 0            # net `{` minus `}` outside strings and comments
    continued: bool = False    # ends in `///` (the rest of the line is a comment)
    in_comment: bool = False   # a `/*` comment is still open at the end of the line
    cont_at: int = -1          # index of the `///` that continues the line


def _blank_before(line: str, i: int) -> bool:
    return i == 0 or line[i - 1] in " \t"


def scan_line(line: str, in_comment: bool = False, first: bool = True) -> LineScan:
    """Scan one physical line; `first` is False when it continues a `///` line."""
    res = LineScan()
    i, n = 0, len(line)
    if not in_comment and first and line.lstrip().startswith("*"):
        # `* comment` line; `///` still continues it in a do-file, so look for it.
        m = re.search(r"(?:^|[ \t])///", line)
        if m:
            res.continued = True
            res.cont_at = m.start() + (0 if line[m.start()] == "/" else 1)
        return res
    depth_compound = 0
    in_string = False
    while i < n:
        if in_comment:
            j = line.find("*/", i)
            if j < 0:
                res.in_comment = True
                return res
            in_comment = False
            i = j + 2
            continue
        c = line[i]
        if depth_compound:
            if line.startswith('`"', i):
                depth_compound += 1
                i += 2
            elif line.startswith("\"'", i):
                depth_compound -= 1
                i += 2
            else:
                i += 1
            continue
        if in_string:
            if c == '"':
                in_string = False
            i += 1
            continue
        if line.startswith('`"', i):
            depth_compound = 1
            i += 2
            continue
        if c == '"':
            in_string = True
            i += 1
            continue
        if line.startswith("/*", i):
            in_comment = True
            i += 2
            continue
        if line.startswith("///", i) and _blank_before(line, i):
            res.continued = True
            res.cont_at = i
            return res
        if line.startswith("//", i) and _blank_before(line, i):
            return res
        if c == "{":
            res.braces += 1
        elif c == "}":
            res.braces -= 1
        i += 1
    res.in_comment = in_comment
    return res


@dataclass
class InputState:
    complete: bool
    depth: int            # open `{` blocks
    continued: bool       # last line ends in `///`
    in_comment: bool      # inside /* */
    in_program: bool = False   # a `program define` has not reached its `end` yet


def input_state(text: str) -> InputState:
    """Is `text` (possibly several lines) ready to run?"""
    prog = split_program(text)
    if prog is None:
        return _brace_state(text)
    closed, rest = prog
    whole = _brace_state(text)      # only for a trailing `///` or an open /* comment
    if not closed:
        return InputState(complete=False, depth=whole.depth, continued=whole.continued,
                          in_comment=whole.in_comment, in_program=True)
    if whole.continued or whole.in_comment:
        return InputState(complete=False, depth=0, continued=whole.continued,
                          in_comment=whole.in_comment)
    return input_state(rest)        # anything pasted after `end`


def _brace_state(text: str) -> InputState:
    depth = 0
    in_comment = False
    continued = False
    for line in text.split("\n"):
        s = scan_line(line, in_comment, first=not continued)
        depth += s.braces
        in_comment = s.in_comment
        continued = s.continued
    return InputState(complete=depth <= 0 and not in_comment and not continued,
                      depth=max(depth, 0), continued=continued, in_comment=in_comment)


def is_complete(text: str) -> bool:
    return input_state(text).complete


def join_continuations(text: str) -> str:
    """Join `///` continuation lines into one line each (the `///` comment becomes a space)."""
    out: list[str] = []
    pending = ""
    in_comment = False
    continued = False
    for line in text.split("\n"):
        s = scan_line(line, in_comment, first=not continued)
        in_comment = s.in_comment
        if s.continued:
            pending += line[: s.cont_at].rstrip() + " "
            continued = True
            continue
        out.append(pending + (line.lstrip() if continued else line))
        pending = ""
        continued = False
    if pending:
        out.append(pending.rstrip())
    return "\n".join(out)


def continuation_prompt(text: str, line_index: int) -> str:
    """Prompt for physical line `line_index` (>0) of a multi-line input.

    `> ` after a `///` line or inside a comment (as Stata's logs show joined lines),
    otherwise Stata's numbered block prompt `  2. `; a program body is numbered from
    `  1. ` (the header is not line 1 of the program), as Stata echoes definitions.
    """
    lines = text.split("\n")
    in_comment = False
    continued = False
    number = 1                      # logical lines finished before this one, plus one
    if split_program(text) is not None:
        number = 0
    for line in lines[:line_index]:
        s = scan_line(line, in_comment, first=not continued)
        if not s.continued and not s.in_comment:
            number += 1
        in_comment = s.in_comment
        continued = s.continued
    if continued or in_comment:
        return "> "
    return f"{number:>3}. "
