"""Statements: do-file text and REPL input parsed once into a small tree.

    text --lexer.logical_lines--> [Line] --parse_lines--> Block --Interpreter walks it-->

A Block holds one statement per construct: a command (one logical line), a comment or blank
line, a `{ }` block (foreach / forvalues / while, if / else if / else, quietly / noisily /
capture prefix blocks), a program definition (body parsed once, here), or an `else { }` whose
meaning depends on the one-line `if` before it (decided when it runs, after macro expansion).
The structure is decided once, from the raw lines, by Stata's rules: a line ending in `{`
opens a block, a line starting with `}` closes it, `program` runs to the first `end`.
Macros are not touched: command texts, loop heads and conditions are expanded when they run.

A structural mistake (a block never closed, a `}` without its block, `program` without `end`)
becomes an ErrorStmt at its place: what comes before it still runs, as Stata reads a do-file
while running it, and the error shows with its line number when the statement is reached.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from hlmshell.errors import StataError
from hlmshell.limits import MAX_BLOCK_NESTING, system_limit
from hlmshell.syntax.lexer import Line, input_header, logical_lines, program_header
from hlmshell.syntax.parser import split_prefixes

_PREFIX_WORDS = (r"(?:qui|quie|quiet|quietl|quietly|n|no|noi|nois|noisi|noisil|noisily"
                 r"|cap|capt|captu|captur|capture)")
PREFIX_BLOCK = re.compile(rf"^((?:{_PREFIX_WORDS}\s*:?\s+)*{_PREFIX_WORDS})\s*:?\s*\{{$")
_ELSE = re.compile(r"else\b")
_FRAME_HEAD = re.compile(r"frames?\s+(\S+)")
LOOP_WORDS = ("foreach", "forvalues", "forv", "forva", "forval", "forvalu", "forvalue", "while")


def is_else(text: str) -> bool:
    return _ELSE.match(text.strip()) is not None


def _invalid() -> StataError:
    return StataError("invalid syntax", 198)


# ---- the tree ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Block:
    statements: tuple = ()


@dataclass(frozen=True)
class Comment:
    line: Line


@dataclass(frozen=True)
class CommandStmt:
    """One command as typed: raw text (macros unexpanded), line number and echo lines."""

    line: Line

    @property
    def text(self) -> str:
        return self.line.text.strip()


@dataclass(frozen=True)
class _Loop:
    line: Line                       # the head line (`foreach x in a b {`)
    head: str                        # the head without `{` and without its prefixes
    prefixes: tuple[str, ...]        # quietly/noisily/capture before the loop, outer first
    body: Block
    echo_lines: tuple[Line, ...]     # head, body lines and the closing line, as typed


@dataclass(frozen=True)
class ForeachStmt(_Loop):
    pass


@dataclass(frozen=True)
class ForvaluesStmt(_Loop):
    pass


@dataclass(frozen=True)
class WhileStmt(_Loop):
    pass


@dataclass(frozen=True)
class IfStmt:
    """`if exp {` ... `} else if exp {` ... `} else {` ... `}` (or a one-line `else cmd`).

    branches: (condition text, block); the first condition is the whole head (`if exp`,
    expanded with its macros before the echo), the others are expanded when evaluated."""

    line: Line
    branches: tuple[tuple[str, Block], ...]
    else_block: Block | None


@dataclass(frozen=True)
class PrefixBlock:
    """`quietly {`, `capture noisily {`, or a bare `{`."""

    line: Line
    prefix: str                      # the prefix words ('' for a bare `{`)
    body: Block
    close: Line


@dataclass(frozen=True)
class FrameBlock:
    """`frame name {` ... `}`: the body runs with frame `name` current (name expanded when it
    runs, as a loop head is)."""

    line: Line
    name: str
    body: Block
    close: Line


@dataclass(frozen=True)
class ElseStmt:
    """`else {` ... `}`: meaningful only right after a one-line `if exp cmd`."""

    line: Line
    body: Block | None
    close: Line | None
    error: Callable[[], StataError] | None = None     # the block is not closed


@dataclass(frozen=True)
class ProgramDef:
    line: Line
    name: str
    options: str
    body_lines: tuple[Line, ...]     # as typed (program list, the echo)
    end: Line
    body: Block
    captured: bool = False           # `capture program define`: a taken name is not an error
    after_name: str = ""             # macros typed after the name (`program p `1', eclass`)


@dataclass(frozen=True)
class InputStmt:
    """`input [varlist]` and its data lines, up to `end`: the lines are data, not commands."""
    line: Line
    data: tuple[Line, ...]
    end: Line


@dataclass(frozen=True)
class ErrorStmt:
    """A structural error, raised when the statement is reached (in_block: counted as a
    block first, as the block it failed to be)."""

    line: Line
    error: Callable[[], StataError]
    in_block: bool = True


# ---- the parser -------------------------------------------------------------------------------------
def parse_text(text: str) -> Block:
    return parse_lines(logical_lines(text))


def parse_lines(lines: list[Line], depth: int = 0) -> Block:
    """Statements of `lines`; parsing stops after an ErrorStmt (nothing after it can run)."""
    out = []
    i = 0
    while i < len(lines):
        stmt, i = _parse_one(lines, i, depth)
        out.append(stmt)
        if isinstance(stmt, ErrorStmt) or (isinstance(stmt, ElseStmt) and stmt.error):
            break
    return Block(tuple(out))


def _parse_one(lines: list[Line], i: int, depth: int):
    line = lines[i]
    raw = line.text.strip()
    if line.is_comment or not raw:
        return Comment(line), i + 1
    if raw.endswith("{") or raw == "}":
        return _parse_brace(lines, i, depth)
    m = program_header(raw)
    if m:
        return _parse_program(lines, i, m, depth)
    if input_header(raw):
        return _parse_input(lines, i)
    return CommandStmt(line), i + 1


def collect(lines: list[Line], i: int) -> tuple[list[Line], int, str]:
    """Body of the block opened at lines[i]: (body, index of closing line, text after '}')."""
    depth = 1
    for k in range(i + 1, len(lines)):
        t = lines[k].text.strip()
        if lines[k].is_comment:
            continue
        if t.startswith("}"):
            depth -= 1
            if depth == 0:
                return lines[i + 1:k], k, t[1:].strip()
            if t.endswith("{"):
                depth += 1
        elif t.endswith("{"):
            depth += 1
    raise StataError("} expected", 198)


def _error(line: Line, exc: StataError, in_block: bool = True) -> ErrorStmt:
    msg, rc = exc.message, exc.rc
    return ErrorStmt(line, lambda: StataError(msg, rc), in_block)


def _parse_brace(lines: list[Line], i: int, depth: int):
    line = lines[i]
    raw = line.text.strip()
    if depth >= MAX_BLOCK_NESTING:
        return ErrorStmt(line, system_limit), i + 1
    if raw.startswith("}"):
        return ErrorStmt(line, _invalid), i + 1      # a `}` (or `} else`) without its block
    try:
        body, end, after = collect(lines, i)
    except StataError as e:
        if is_else(raw):
            return ElseStmt(line, None, None, _error(line, e).error), i + 1
        return _error(line, e), i + 1
    if is_else(raw):
        return ElseStmt(line, parse_lines(body, depth + 1), lines[end]), end + 1
    return _parse_block(lines, i, body, end, after, depth)


_HEAD_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?=[\s(`\"']|$)")


def _first_word(head: str) -> str:
    """The command word of a block's first line: `if(`i'>1) {` and `while(...)` have no space
    after the word, and Stata runs them."""
    m = _HEAD_WORD.match(head)
    if m:
        return m.group(0)
    return head.split()[0] if head.split() else ""


def _parse_block(lines, i, body, end, after, depth):
    line = lines[i]
    raw = line.text.strip()
    head = raw[:-1].rstrip()
    word = _first_word(head)
    kinds: tuple[str, ...] = ()
    if not PREFIX_BLOCK.match(raw):
        try:
            prefixes, rest = split_prefixes(head)
        except StataError as e:
            return _error(line, e), end + 1
        if prefixes and rest and not any(p.kind == "by" for p in prefixes):
            kinds, head = tuple(p.kind for p in prefixes), rest      # capture noisily foreach ... {
            word = _first_word(head)
    if word in LOOP_WORDS:
        cls = WhileStmt if word == "while" else ForeachStmt if word == "foreach" else ForvaluesStmt
        return cls(line, head, kinds, parse_lines(body, depth + 1), tuple(lines[i:end + 1])), end + 1
    if kinds:
        return ErrorStmt(line, _invalid), end + 1
    frame = _FRAME_HEAD.fullmatch(head)
    if frame:
        return FrameBlock(line, frame.group(1), parse_lines(body, depth + 1), lines[end]), end + 1
    if word == "if":
        return _parse_if(lines, i, head, body, end, after, depth)
    if PREFIX_BLOCK.match(raw) or raw == "{":
        return PrefixBlock(line, raw[:-1].strip(), parse_lines(body, depth + 1), lines[end]), end + 1
    return ErrorStmt(line, _invalid), end + 1


def _parse_if(lines, i, head, body, end, after, depth):
    """if exp { } [else if exp { }] [else { }] -- `else` on the closing line or the next one."""
    try:
        branches, else_block, last = _if_chain(lines, head, body, end, after, depth)
    except StataError as e:
        return _error(lines[i], e), end + 1
    return IfStmt(lines[i], tuple(branches), else_block), last + 1


def _next_code_line(lines, k: int) -> int:
    """The index of the next line that is neither blank nor a comment: an `else` may follow
    its `if` block's `}` after blank lines (Stata reads past them)."""
    while k < len(lines) and (lines[k].is_comment or not lines[k].text.strip()):
        k += 1
    return k


def _if_chain(lines, head, body, end, after, depth):
    branches = [(head, parse_lines(body, depth + 1))]
    last = end
    while True:
        tail = after
        if not tail:
            nxt = _next_code_line(lines, last + 1)
            if nxt >= len(lines) or not is_else(lines[nxt].text):
                return branches, None, last
            last = nxt
            tail = lines[last].text.strip()
        if not tail.startswith("else"):
            raise _invalid()
        tail = tail[4:].strip()
        if not tail.endswith("{"):           # one-line else command
            one = Line(tail, lines[last].lineno, [tail])
            return branches, parse_lines([one], depth + 1), last
        b2, e2, after = collect(lines, last)
        cond = tail[:-1].strip()
        if cond == "":
            return branches, parse_lines(b2, depth + 1), e2
        if not cond.startswith("if"):
            raise _invalid()
        branches.append((cond, parse_lines(b2, depth + 1)))
        last = e2


def _parse_input(lines: list[Line], i: int):
    """`input ...` and its data lines, which run up to a line holding only `end`."""
    end = next((k for k in range(i + 1, len(lines)) if lines[k].text.strip() == "end"), None)
    if end is None:
        return ErrorStmt(lines[i], lambda: StataError("unexpected end of file", 612), False), i + 1
    return InputStmt(lines[i], tuple(lines[i + 1:end]), lines[end]), end + 1


def _parse_program(lines: list[Line], i: int, m: re.Match, depth: int):
    """`program [define] name [, rclass]` ... `end`: the body is parsed now, run later."""
    end = next((k for k in range(i + 1, len(lines)) if lines[k].text.strip() == "end"), None)
    if end is None:
        return ErrorStmt(lines[i], lambda: StataError("unexpected end of file", 612), False), i + 1
    body = lines[i + 1:end]
    captured = re.match(r"cap(?:t|tu|tur|ture)?\b", lines[i].text.strip()) is not None
    return ProgramDef(lines[i], m.group(1), (m.group(3) or "").lower(), tuple(body), lines[end],
                      parse_lines(body), captured, (m.group(2) or "").strip()), end + 1
