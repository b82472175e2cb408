"""How Mata shows the value of an expression statement that is not assigned.

A scalar is its text after two spaces (`  .3333333333`: reals in %12.0g, up to ten
significant digits); a matrix (vectors too) is framed, columns and rows numbered:

           1   2
        +---------+
      1 |  1   2  |
      2 |  3   4  |
        +---------+

Every column takes the width of the widest element or column number; strings are
right-aligned as numbers are. A symmetric matrix shows its lower triangle under
`[symmetric]`. Columns that do not fit the line width go to further panels.
"""
from __future__ import annotations

import numpy as np

from hlmshell.output.numfmt import fmt_g

LINESIZE = 80


def element_text(x) -> str:
    if isinstance(x, str):
        return x
    return fmt_g(float(x), 12)


def value_lines(v: np.ndarray) -> list[str]:
    """The lines Mata prints for `v` (none for an empty matrix)."""
    r, c = v.shape
    if r == 0 or c == 0:
        return []
    sym = _symmetric(v)
    cells = [[element_text(v[i, j]) if not sym or j <= i else "" for j in range(c)]
             for i in range(r)]
    if (r, c) == (1, 1):
        return ["  " + cells[0][0]]
    width = max(max(len(s) for row in cells for s in row), len(str(c)))
    lw = len(str(r))
    per_panel = max(1, (LINESIZE - lw - 6) // (width + 3))     # "  r |" ... "  |" fits
    out: list[str] = ["[symmetric]"] if sym else []
    for start in range(0, c, per_panel):
        cols = range(start, min(c, start + per_panel))
        out.extend(_panel(cells, cols, width, lw))
    return out


def _symmetric(v: np.ndarray) -> bool:
    """A real square matrix equal to its transpose (missing matching missing) shows only its
    lower triangle, under `[symmetric]`."""
    if v.dtype == object or v.shape[0] != v.shape[1] or v.shape[0] < 2:
        return False
    return bool(np.array_equal(v, v.T, equal_nan=True))


def _panel(cells, cols, width: int, lw: int) -> list[str]:
    pad = " " * (lw + 3)
    head = pad + " " + "".join(str(j + 1).rjust(width + (2 if k == 0 else 3))
                               for k, j in enumerate(cols))
    rule = pad + "+" + "-" * (len(cols) * (width + 3) + 1) + "+"
    lines = [head, rule]
    for i, row in enumerate(cells):
        body = "".join(row[j].rjust(width + (2 if k == 0 else 3)) for k, j in enumerate(cols))
        lines.append(f"  {str(i + 1).rjust(lw)} |{body}  |")
    lines.append(rule)
    return lines
