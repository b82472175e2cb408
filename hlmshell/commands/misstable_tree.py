"""misstable tree [varlist] [if] [in] [, asis frequency exok]: Stata's nested pattern of
missing values.

The variables with missing values (at most 7 shown) go left to right, most missing first
(ties: the variable whose missing values overlap most with the one before it, or, first of
all, with another of the tie; then the name), or in the order typed with `asis`. Each column
splits the observations of the cell to its left into missing (listed first, on the same line)
and nonmissing (the next line, indented to the column), as a percentage of all observations
(`<1` below 1%; `%` on the first line only) or, with `frequency`, as counts. `exok` counts
only `.` as missing, not .a-.z.
"""
from __future__ import annotations

import numpy as np

from hlmshell.data.missing import missing_code
from hlmshell.output.text import abbrev
from hlmshell.results.base import RResults

MAX_SHOWN = 7
_INDENT = 2
_COL = 11


def _missing(values: np.ndarray, exok: bool) -> np.ndarray:
    miss = np.isnan(values)
    if exok and miss.any():
        return miss & (missing_code(values) == 0)
    return miss


def _order(names: list[str], miss: dict[str, np.ndarray]) -> list[str]:
    """Most missing first; a run of equal counts ordered by overlap, then name."""
    out = sorted(names, key=lambda nm: -int(miss[nm].sum()))
    count = [int(miss[nm].sum()) for nm in out]
    i = 0
    while i < len(out):
        j = i
        while j + 1 < len(out) and count[j + 1] == count[i]:
            j += 1
        for p in range(i, j):
            pick = max(range(p, j + 1), key=lambda k: (_overlap_score(out, miss, p, k, i, j), _rank(out[k])))
            out[p], out[pick] = out[pick], out[p]
        i = j + 1
    return out


def _rank(name: str):
    """Larger for names that sort first (ties go to the smaller name)."""
    return tuple(-ord(c) for c in name) + (1,)


def _overlap_score(out, miss, p, k, i, j) -> int:
    cand = miss[out[k]]
    if p > 0:
        return int((cand & miss[out[p - 1]]).sum())
    return max((int((cand & miss[out[m]]).sum()) for m in range(i, j + 1) if m != k), default=-1)


def tree(session, names: list[str], mask: np.ndarray, opts) -> None:
    out = session.out
    n = int(mask.sum())
    if n == 0:
        out.line("(no observations)")
        session.r = RResults()
        return
    exok = bool(getattr(opts, "exok", False))
    miss = {nm: _missing(session.data.var(nm).values[mask], exok) for nm in names}
    used = [nm for nm in names if miss[nm].any()]
    if not used:
        out.line("(no missing values)")
        session.r = RResults()
        return
    if not opts.asis:
        used = _order(used, miss)
    session.r = RResults(macros={"vars": " ".join(used)})
    if len(used) > MAX_SHOWN:
        used = used[:MAX_SHOWN]
        out.line(f"(only {MAX_SHOWN} variables shown)")
    _print(out, used, miss, n, bool(opts.frequency))


def _print(out, used, miss, n: int, freq: bool) -> None:
    rule = " " * _INDENT + "-" * (_COL * len(used) - 1)
    out.line("")
    out.line(" " * _INDENT + "Nested pattern of missing values")
    out.line(" " * (_INDENT - 1) + "".join(abbrev(nm, 10).rjust(_COL) for nm in used))
    out.line(rule)
    lines: list[str] = []
    _branch(lines, " " * _INDENT, np.ones(n, dtype=bool), used, miss, 0, n, freq)
    for line in lines:
        out.line(line.rstrip())
    out.line(rule)
    out.line(f" ({'number' if freq else 'percent'} missing listed first)")


def _cell(count: int, n: int, freq: bool, first: bool) -> str:
    if freq:
        return f"{count:>10,} "
    pct = 100.0 * count / n
    text = "<1" if 0 < pct < 1 else f"{pct:.0f}"
    return f"{text:>10}" + ("%" if first else " ")


def _branch(lines: list[str], prefix: str, sel: np.ndarray, used, miss, j: int, n: int,
            freq: bool) -> None:
    """Append the rows of the subtree of column j for the observations `sel`; `prefix` is the
    text already on the current row (the cells to the left, or the indentation)."""
    if j == len(used):
        lines.append(prefix)
        return
    m = miss[used[j]]
    for k, part in enumerate((sel & m, sel & ~m)):
        start = prefix if k == 0 else " " * (_INDENT + _COL * j)
        _branch(lines, start + _cell(int(part.sum()), n, freq, not lines and k == 0), part, used,
                miss, j + 1, n, freq)
