"""Stata's size limits and the guards that enforce them.

Memory: where user input picks an allocation size (`set obs #`, string repetition, display's
_skip/_dup/...) Stata refuses with r(909) instead of taking the machine down; an allocation
that fails anyway (MemoryError) is r(909) too, turned into one by the interpreter.

Nesting: Stata runs at most 64 nested do-files and programs and stops the 65th with
`system limit exceeded - see manual` r(1000). hlmshell counts those levels itself (and the
nesting of blocks and of expressions) so that a runaway recursion stops with Stata's error,
long before Python's own recursion limit, which is raised here to leave room for the depth
allowed (see ensure_stack()).
"""
from __future__ import annotations

import os
import sys

from hlmshell.errors import StataError

MAX_STRLEN = 2_000_000_000      # the longest string Stata holds (strL)
MAX_NESTING = 64                # Stata's "# of nested do-files" (programs count as levels too)
# hlmshell's own guards, far beyond anything a do-file needs; each keeps Python's stack bounded
MAX_BLOCK_NESTING = 1000        # nested { } blocks (loops, if, capture { }) across all levels
MAX_DYADIC = 800                # Stata's "# of dyadic operators in an expression"
MAX_EXPR_DEPTH = 1000           # nesting of an expression tree (unary chains, nested calls)
# Python frames: enough for every level above at once (measured: a program level costs about
# 12 frames, a block about 8, an expression level 3) plus the REPL and a traceback-free unwind
RECURSION_LIMIT = 20_000
_FRAME_BYTES = 400              # a generous C-stack cost of one Python frame (measured: < 50)
_C_STACK_DEFAULT = 1 << 20      # the main thread's stack where the limit cannot be read


def no_memory() -> StataError:
    return StataError("op. sys. refuses to provide memory", 909)


def system_limit() -> StataError:
    """Stata's error for exceeding one of its limits (nesting, mostly)."""
    return StataError("system limit exceeded - see manual", 1000)


def check_memory(nbytes: float) -> None:
    """r(909) when nbytes will not fit in the memory the OS has free right now."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return
    if nbytes > free:
        raise no_memory()


def check_text_size(nchars: float) -> None:
    """r(909) before building a text of nchars characters that Stata could not hold either
    (over its 2e9-byte string limit) or that will not fit in free memory."""
    if nchars != nchars or nchars > MAX_STRLEN:     # NaN or too long
        raise no_memory()
    check_memory(nchars)


def ensure_stack() -> None:
    """Raise Python's recursion limit to RECURSION_LIMIT, so that hlmshell's own nesting limits
    trip first -- but never beyond what the C stack can hold (a C stack overflow kills the
    process instead of raising RecursionError): the stack limit (ulimit -s) divided by a
    generous cost per frame, or Windows' 1 MB main-thread stack when it cannot be read. Where
    that leaves too little room, deep nesting ends in a Stata error earlier, never in a crash."""
    stack = _C_STACK_DEFAULT
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_STACK)
        stack = None if soft == resource.RLIM_INFINITY else soft
    except (ImportError, ValueError, OSError):
        pass
    limit = RECURSION_LIMIT if stack is None else min(RECURSION_LIMIT, max(1000, stack // _FRAME_BYTES))
    if sys.getrecursionlimit() < limit:
        sys.setrecursionlimit(limit)
