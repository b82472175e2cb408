"""Stata's size limits and the memory guard used where user input picks an allocation size
(`set obs #`, string repetition): Stata refuses with r(909) instead of taking the machine down."""
from __future__ import annotations

import os

from hlmshell.errors import StataError

MAX_STRLEN = 2_000_000_000      # the longest string Stata holds (strL)


def no_memory() -> StataError:
    return StataError("op. sys. refuses to provide memory", 909)


def check_memory(nbytes: float) -> None:
    """r(909) when nbytes will not fit in the memory the OS has free right now."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return
    if nbytes > free:
        raise no_memory()
