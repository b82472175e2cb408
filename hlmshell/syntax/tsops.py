"""Time-series operators as typed in varlists: `L.`, `L2.`, `L(1/3).`, `L(0/2)D.`, `LD.`,
`cL.`, `iL.`, `L.(x y)`; the numerics are in hlmshell.data.timeseries.

    expand_ops("L(1/3)D")   -> ["LD", "L2D", "L3D"]     (Stata's canonical strings)
    expand_ops("L(0/1)")    -> ["", "L"]                ("" is the variable itself)
    split_prefix("cL(1/2)") -> ("c", ["L", "L2"])       (factor-variable part, operators)
    split_ts_word("L(1/2).x*") -> (["L", "L2"], "x*")    (None without operators)
"""
from __future__ import annotations

import re

from hlmshell.data.timeseries import TsOp, parse_ops
from hlmshell.errors import StataError, syntax_error
from hlmshell.syntax.numlist import numlist

# one operator: a letter with a count, or with a parenthesised numlist (at most one of these)
_ONE = re.compile(r"([LFDSlfds])(\d+|\([^()]*\))?")
OP_TEXT = r"(?:[LFDSlfds](?:\d+|\([^()]*\))?\.?)+"
_TS_WORD = re.compile(rf"({OP_TEXT})\.(.+)")
_FV_HEAD = re.compile(r"(i?bn|i?b\d+|i?b\(\s*(?:first|last|freq|#?\d+)\s*\)|i\([\d\s]+\)|i|c|o|R|\d+(?:bn|o)?)")


def _counts(text: str | None) -> list[int]:
    if not text:
        return [1]
    if text.startswith("("):
        vals = numlist(text[1:-1])
        if not vals or any(v != int(v) or v < 0 for v in vals):
            raise StataError("invalid numlist", 121)
        return [int(v) for v in vals]
    return [int(text)]


def expand_ops(text: str) -> list[str]:
    """An operator list (with at most one parenthesised numlist) -> canonical operator strings
    in the order the numlist gives them; "" stands for no operator (`L0`, `L(0/2)`)."""
    text = text.replace(".", "")
    pieces = _ONE.findall(text)
    if not pieces or "".join(a + b for a, b in pieces) != text:
        raise syntax_error()
    if sum(b.startswith("(") for _, b in pieces) > 1:
        raise syntax_error()
    combos = [""]
    for letter, count in pieces:
        combos = [c + f"{letter.upper()}{k}" for c in combos for k in _counts(count)]
    out: list[str] = []
    for c in combos:
        t = parse_ops(c).text() if c else ""
        if t not in out:
            out.append(t)
    return out


def op_of(text: str) -> TsOp:
    """One canonical operator string -> TsOp (the identity for "")."""
    return parse_ops(text) if text else TsOp()


def split_prefix(prefix: str) -> tuple[str | None, list[str] | None]:
    """A varlist prefix without its dot (`cL`, `iL(1/2)`, `L2D`, `i`, `2`) -> (factor-variable
    part or None, operator strings or None)."""
    m = _FV_HEAD.match(prefix)
    if m and m.end() == len(prefix):
        return prefix, None
    if m and m.end() < len(prefix) and re.fullmatch(OP_TEXT, prefix[m.end():]):
        return prefix[:m.end()], expand_ops(prefix[m.end():])
    if re.fullmatch(OP_TEXT, prefix):
        return None, expand_ops(prefix)
    return prefix, None


def split_ts_word(word: str) -> tuple[list[str], str] | None:
    """`L(1/2).x*` -> (["L", "L2"], "x*"); None when the word has no operator prefix."""
    m = _TS_WORD.fullmatch(word)
    if not m:
        return None
    return expand_ops(m.group(1)), m.group(2)


def with_op(op: str, name: str) -> str:
    """`L2` + `x` -> `L2.x`; "" + `x` -> `x`."""
    return f"{op}.{name}" if op else name


def distribute_groups(text: str) -> str:
    """`L.(x y) L(1/2).(a b)` -> `L.x L.y L(1/2).a L(1/2).b` (plain varlists)."""
    def rep(m):
        return " ".join(f"{m.group(1)}.{w}" for w in m.group(2).split())

    return re.sub(rf"({OP_TEXT})\.\(([^()]*)\)", rep, text)
