"""Text tables shared by factor, pca, rotate, predict and estat after them, in Stata's layout.

Stata prints these tables indented by four spaces: a 13-character row-name column, matrix
cells of ten characters (%9.4f and a space; blank where |loading| < blanks()), and, for
loadings, a trailing Uniqueness (factor) or Unexplained (pca) column. Tables with more than
six columns are split into blocks of six, the trailing column on the last block.
"""
from __future__ import annotations

import numpy as np

from hlmshell.output.numfmt import fmt, fmt_g
from hlmshell.output.text import abbrev

IND = "    "


def header_line(left: str, label: str, value: str, col: int = 49, width: int = 11) -> str:
    """`left` padded to `col`, then `label = value` with the value right-aligned."""
    return f"{left:<{col}}{label}={value:>{width}}"


def _cell(v: float, blanks: float, fmtspec: str) -> str:
    if blanks > 0 and abs(v) < blanks:
        return " " * 10
    return f"{fmt(v, fmtspec):>9} "


def matrix_table(out, rows: list[str], cols: list[str], M: np.ndarray, *, blanks: float = 0.0,
                 tail: tuple[str, np.ndarray, str] | None = None, fmtspec: str = "%9.4f",
                 rowhead: str = "Variable") -> None:
    """A p x k matrix with row names, in blocks of six columns; `tail` = (title, values,
    kind) adds the trailing column (kind 'uniq': %12.4f; 'unexpl': %9.0g) on the last block."""
    k = len(cols)
    blocks = [list(range(i, min(i + 6, k))) for i in range(0, max(k, 1), 6)] or [[]]
    for bi, idx in enumerate(blocks):
        last = bi == len(blocks) - 1
        twidth = 0
        if tail is not None and last:
            twidth = 14 if tail[2] == "uniq" else 13
        width = 13 + 1 + 10 * len(idx) + (1 + twidth if twidth else 0)
        out.line(IND + "-" * width)
        head = f"{rowhead:>12} |" + "".join(f"{cols[j]:>9} " for j in idx)
        sep = "-" * 13 + "+" + "-" * (10 * len(idx))
        if twidth:
            head += "|" + (f"{tail[0]:>13} " if tail[2] == "uniq" else f" {tail[0]:>11} ")
            sep += "+" + "-" * twidth
        out.line(IND + head)
        out.line(IND + sep)
        for i, name in enumerate(rows):
            line = f"{abbrev(name, 12):>12} |" + "".join(_cell(M[i, j], blanks, fmtspec) for j in idx)
            if twidth:
                v = tail[1][i]
                line += "|" + (f"{fmt(v, '%12.4f')}  " if tail[2] == "uniq" else f" {fmt_g(v, 9):>11} ")
            out.line(IND + line)
        out.line(IND + "-" * width)
        if not last:
            out.line("")
    if blanks > 0:
        out.line(f"{IND}(blanks represent abs(loading)<{fmt_g(blanks, 9)})")


def eigen_table(out, names: list[str], values: np.ndarray, divisor: float, *, head: str = "Factor",
                what: str = "Eigenvalue", g_format: bool = False, namew: int = 11) -> None:
    """Eigenvalue (or rotated variance) / Difference / Proportion / Cumulative rows."""
    out.line(IND + "-" * 74)
    pad = " " if namew == 11 else ""
    out.line(f"{IND}{head:>{namew}}{pad} |{what:>13}{'Difference':>13}{'Proportion':>{18 if namew == 11 else 19}}"
             f"{'Cumulative':>13}")
    out.line(IND + "-" * 13 + "+" + "-" * 60)
    cum = 0.0
    for j, name in enumerate(names):
        v = float(values[j])
        diff = float(values[j] - values[j + 1]) if j + 1 < len(values) else None
        prop = v / divisor
        cum += prop
        if g_format:
            vs, ds = fmt_g(v, 9, 6), (fmt_g(diff, 9, 6) if diff is not None else ".")
        else:
            vs, ds = f"{v:.5f}", (f"{diff:.5f}" if diff is not None else ".")
        out.line(f"{IND}{name:>{namew}}{pad} |{vs:>13}{ds:>13}{prop:>{18 if namew == 11 else 19}.4f}{cum:>13.4f}")
    out.line(IND + "-" * 74)


def oblique_variance_table(out, names: list[str], values: np.ndarray, divisor: float,
                           head: str = "Factor", namew: int = 11) -> None:
    """After an oblique rotation: variance and proportion only (the factors are correlated)."""
    pad = " " if namew == 11 else ""
    out.line(IND + "-" * 74)
    out.line(f"{IND}{head:>{namew}}{pad} |{'Variance':>13}{'Proportion':>13}    Rotated factors are correlated")
    out.line(IND + "-" * 13 + "+" + "-" * 60)
    for j, name in enumerate(names):
        out.line(f"{IND}{name:>{namew}}{pad} |{values[j]:>13.5f}{values[j] / divisor:>13.4f}")
    out.line(IND + "-" * 74)


def square_table(out, names: list[str], M: np.ndarray, fmtspec: str = "%8.4f") -> None:
    """A small k x k matrix (rotation matrix, factor correlations) with 9-wide cells."""
    k = len(names)
    width = 13 + 1 + 9 * k
    out.line(IND + "-" * width)
    out.line(IND + " " * 13 + "|" + "".join(f"{n:>8} " for n in names))
    out.line(IND + "-" * 13 + "+" + "-" * (9 * k))
    for i, n in enumerate(names):
        out.line(IND + f"{n:>12} |" + "".join(f"{fmt(M[i, j], fmtspec):>8} " for j in range(k)))
    out.line(IND + "-" * width)


def column_table(out, rows: list[str], values: np.ndarray, title: str, *, overall: float | None = None) -> None:
    """One statistic per variable (estat kmo, estat smc), Overall on a last row if given."""
    out.line(IND + "-" * 23)
    out.line(IND + f"{'Variable':>12} |{title:>8} ")
    out.line(IND + "-" * 13 + "+" + "-" * 9)
    for name, v in zip(rows, values):
        out.line(IND + f"{abbrev(name, 12):>12} |{v:>8.4f} ")
    if overall is not None:
        out.line(IND + "-" * 13 + "+" + "-" * 9)
        out.line(IND + f"{'Overall':>12} |{overall:>8.4f} ")
    out.line(IND + "-" * 23)
