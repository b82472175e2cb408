"""Stata's old `for` (before version 8, still run by Stata 17 and common in old do-files):

    for listtype list [\\ listtype list ...] [, dryrun noheader nostop pause] :
        command [\\ command ...]

listtype is varlist, newlist, numlist or anylist (`var`, `new`, `num`, `any` at least).
The elements of the first list replace the capital letter X in the commands, those of the
second Y, the third Z, then A, B, C, ... (every occurrence of the letter, as Stata's `for`
does, which is why do-files using it write their own commands in lower case). The lists must
have the same number of elements. This module splits the line (top-level `\\`, `,` and `:`,
quotes and parentheses respected) into a ForSpec and makes the substituted command texts;
the interpreter expands the lists against the data and runs the commands.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from hlmshell.errors import StataError, syntax_error
from hlmshell.registry import abbrev_match
from hlmshell.syntax.lexer import find_top, split_top

PLACEHOLDERS = "XYZABCDEFGHIJKLMNOPQRSTUVW"
LIST_KINDS = ("varlist", "newlist", "numlist", "anylist")
OPTIONS = (("dryrun", 3), ("noheader", 5), ("nostop", 6), ("pause", 5))


@dataclass(frozen=True)
class ForSpec:
    lists: tuple[tuple[str, str], ...]       # (kind, list text as typed)
    commands: tuple[str, ...]                 # with their placeholders
    options: frozenset[str] = frozenset()


def _kind(word: str) -> str:
    for full in LIST_KINDS:
        if abbrev_match(word, full, 3):
            return full
    raise StataError(f"{word} invalid list type", 198)


def _options(text: str) -> frozenset[str]:
    out = set()
    for word in text.split():
        full = next((name for name, n in OPTIONS if abbrev_match(word, name, n)), None)
        if full is None:
            raise StataError(f"option {word} not allowed", 198)
        out.add(full)
    return frozenset(out)


def parse_for(text: str) -> ForSpec:
    """The text after the word `for` -> ForSpec; r(198) when it is not a `for` line."""
    colon = find_top(text, ":")
    if colon < 0:
        raise syntax_error()
    head, body = text[:colon], text[colon + 1:]
    comma = find_top(head, ",")
    options = frozenset()
    if comma >= 0:
        head, options = head[:comma], _options(head[comma + 1:])
    lists = []
    for part in split_top(head, "\\"):
        m = re.fullmatch(r"\s*([A-Za-z]+)\s+(.*?)\s*", part, re.S)
        if not m:
            raise syntax_error()
        lists.append((_kind(m.group(1)), m.group(2)))
    if len(lists) > len(PLACEHOLDERS):
        raise syntax_error()
    commands = tuple(c.strip() for c in split_top(body, "\\"))
    if not commands or any(not c for c in commands):
        raise syntax_error()
    return ForSpec(tuple(lists), commands, options)


def check_lengths(values: list[list[str]]) -> int:
    """The common number of elements of the expanded lists."""
    counts = {len(v) for v in values}
    if len(counts) != 1:
        raise StataError("lists have different number of elements", 198)
    n = counts.pop()
    if n == 0:
        raise StataError("nothing to loop over", 198)
    return n


def substitute(command: str, elements: tuple[str, ...]) -> str:
    """The command with X (Y, Z, A, ...) replaced by this pass's elements, all at once."""
    table = {PLACEHOLDERS[k]: v for k, v in enumerate(elements)}
    return re.sub("[" + "".join(table) + "]", lambda m: table[m.group(0)], command)
